"""Rights that shrink reach open sockets at once: the user's sockets re-check, and close or regroup.

Logout, a new password, deactivation, a role change and a team membership change can each happen
through paths no service of ours sees: Django's own logout views (the app's and the admin's), the admin's
user and password forms, `user.teams.remove(…)` or `team.members.set(…)` anywhere. So the notices hang on
Django's hooks for exactly those writes: `user_logged_out`, the user row saved with a field that decides
rights, and the team membership table changing. They only announce "re-check"; what the socket may
still see is decided by the consumer from the database (`accounts.selectors.socket_rights`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save

from accounts.models import Team, User
from core import realtime

# Saving any of these can end sessions (password, security_stamp), close sockets (is_active) or change
# which groups a socket belongs in (role, is_superuser, is_staff).
RIGHTS_FIELDS = frozenset({"password", "is_active", "role", "is_superuser", "is_staff", "security_stamp"})


def notify_rights_changed(*, user_ids: Iterable[int], session_key: str | None = None) -> None:
    """After commit, every open socket of these users re-checks (the one of `session_key` closes)."""
    realtime.revoke(user_ids, session_key=session_key)


def _on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None or not getattr(user, "pk", None):
        return
    # Django flushes the session only after this signal: naming it lets its socket close without
    # racing the flush.
    session = getattr(request, "session", None)
    notify_rights_changed(user_ids=[user.pk], session_key=getattr(session, "session_key", None))


def _on_user_saved(sender: Any, instance: User, created: bool, update_fields: Any, **kwargs: Any) -> None:
    if created:
        return
    if update_fields is not None and not RIGHTS_FIELDS.intersection(update_fields):
        return  # last_login, availability, language: nothing a socket depends on
    notify_rights_changed(user_ids=[instance.pk])


def _on_user_deleted(sender: Any, instance: User, **kwargs: Any) -> None:
    notify_rights_changed(user_ids=[instance.pk])


def _on_team_members_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    # Django runs add/remove/clear and their signals in one transaction, so the notice (sent on commit)
    # follows the change even when it is announced before it (pre_clear).
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if reverse:  # user.teams.…: the user is the instance
        user_ids = [instance.pk]
    elif action == "pre_clear":  # team.members.clear(): who is about to leave
        user_ids = list(instance.members.values_list("pk", flat=True))
    else:
        user_ids = list(pk_set or ())
    notify_rights_changed(user_ids=user_ids)


def connect_receivers() -> None:
    user_logged_out.connect(_on_logged_out, dispatch_uid="accounts.revocation.logged_out")
    post_save.connect(_on_user_saved, sender=User, dispatch_uid="accounts.revocation.user_saved")
    post_delete.connect(_on_user_deleted, sender=User, dispatch_uid="accounts.revocation.user_deleted")
    m2m_changed.connect(
        _on_team_members_changed, sender=Team.members.through, dispatch_uid="accounts.revocation.team_members"
    )
