"""Roles and the permissions each one grants.

Permissions are plain ``app_label.codename`` strings checked with ``user.has_perm``; roles nest, so a
manager can do everything an agent can and an admin everything a manager can.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Admin")


WORK_INBOX = "tickets.work_inbox"
VIEW_ALL_CONVERSATIONS = "tickets.view_all_conversations"
MANAGE_LABELS = "tickets.manage_labels"
VIEW_CUSTOMERS = "profiles.view_customers"
ERASE_CUSTOMERS = "profiles.erase_customers"
MANAGE_SEGMENTS = "profiles.manage_segments"
IMPORT_CUSTOMERS = "profiles.import_customers"
MERGE_CUSTOMERS = "profiles.merge_customers"
VIEW_SURVEYS = "surveys.view_surveys"
MANAGE_SURVEYS = "surveys.manage_surveys"
VIEW_DASHBOARDS = "analytics.view_dashboards"
EXPORT_DATA = "analytics.export_data"
MANAGE_SETTINGS = "accounts.manage_settings"
MANAGE_USERS = "accounts.manage_users"
MANAGE_CHANNELS = "channels_app.manage_channels"

_AGENT = frozenset({WORK_INBOX, VIEW_CUSTOMERS, VIEW_SURVEYS, MERGE_CUSTOMERS})
_MANAGER = _AGENT | {
    VIEW_ALL_CONVERSATIONS,
    MANAGE_LABELS,
    MANAGE_SURVEYS,
    VIEW_DASHBOARDS,
    EXPORT_DATA,
    MANAGE_SEGMENTS,
    IMPORT_CUSTOMERS,
}
_ADMIN = _MANAGER | {MANAGE_SETTINGS, MANAGE_USERS, MANAGE_CHANNELS, ERASE_CUSTOMERS}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.AGENT: _AGENT,
    Role.MANAGER: frozenset(_MANAGER),
    Role.ADMIN: frozenset(_ADMIN),
}
ALL_PERMISSIONS = ROLE_PERMISSIONS[Role.ADMIN]
