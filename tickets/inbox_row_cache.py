"""Rendered inbox rows, kept per process and keyed on everything a row shows.

An agent's inbox is re-rendered all day (every visit, filter, page and live refresh) while most rows
have not changed. Template rendering is most of the list's server time (about 2 ms a row), so a row
whose inputs are unchanged is taken from here. The key holds every value tickets/inbox/row.html
reads, so a change to any of them (a new message, a label, a renamed customer, the SLA badge turning
amber, another language) makes a new key; nothing has to be invalidated.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import get_template
from django.utils.safestring import SafeString
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language

from core.rendered_cache import RenderedCache
from tickets.sla_badge import sla_badge

_rows = RenderedCache(max_items=20_000)


def row_key(conversation: Any) -> tuple:
    badge = sla_badge(conversation)
    assignee = conversation.assignee
    return (
        conversation.pk,
        get_language(),
        get_current_timezone_name(),  # the row's time is rendered in the viewer's zone
        str(conversation.customer),
        conversation.channel.kind,
        tuple((label.pk, label.name, label.color) for label in conversation.labels.all()),
        conversation.subject,
        getattr(conversation, "last_message_body", None),
        bool(getattr(conversation, "is_unread", False)),
        conversation.last_activity_at,
        conversation.priority,
        conversation.status,
        (badge.kind, badge.state, badge.due) if badge else None,
        (assignee.pk, assignee.display_name, assignee.initials) if assignee else None,
    )


def render_row(conversation: Any) -> SafeString:
    return _rows.get_or_render(
        row_key(conversation),
        lambda: get_template("tickets/inbox/row.html").render({"conversation": conversation}),
    )
