"""Rendered thread items (messages and notes), kept per process and keyed on everything one shows.

A conversation is re-rendered on every visit and every live refresh, and its messages rarely change:
rendering thirty of them was a seventh of the page's server time. As with inbox rows
(tickets/inbox_row_cache.py), the key holds every value tickets/conversation/_thread_item.html reads,
so a changed delivery status, a renamed channel or customer, another language or time zone makes a new
key and nothing has to be invalidated. Mail with an HTML frame is rendered each time: its frame is
large, and keeping it would hold whole mails in memory. So is a reply that failed, with its Retry form.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language

from core.rendered_cache import RenderedCache

TEMPLATE = "tickets/conversation/_thread_item.html"
_items = RenderedCache(max_items=20_000)


def _delivery(message: Any) -> tuple | None:
    try:
        delivery = message.delivery
    except ObjectDoesNotExist:
        return None
    if delivery is None:
        return None
    return (delivery.status, delivery.error, str(delivery.get_status_display()))


def item_key(item: Any, conversation: Any, customer: Any) -> tuple | None:
    """Everything the item's template reads, or None for an item rendered each time."""
    place = (get_language(), get_current_timezone_name())
    if item.kind == "note":
        note = item.note
        author = note.author.display_name if note.author else None
        return ("note", *place, note.pk, note.body, note.created_at, author)
    if item.html_frame or item.failure:
        # A failed reply carries a Retry form, whose CSRF token belongs to one visitor; it is rare.
        return None
    message = item.message
    author = message.author
    sms = message.metadata.get("sms") if isinstance(message.metadata, dict) else None
    return (
        "message",
        *place,
        message.pk,
        conversation.pk,
        conversation.subject,
        str(customer) if message.direction == "in" else None,  # the author of inbound messages
        message.direction,
        message.channel.kind,
        message.channel.name,
        author.display_name if author else None,
        _delivery(message),
        sms.get("segments") if isinstance(sms, dict) else None,
        message.subject,
        message.body,
        message.created_at,
        tuple(
            (a.pk, a.filename, bool(a.file), str(a.get_status_display())) for a in message.attachments.all()
        ),
    )


def render_item(item: Any, conversation: Any, customer: Any, request: Any = None) -> SafeString:
    context = {"item": item, "conversation": conversation, "customer": customer}
    key = item_key(item, conversation, customer)
    if key is None:
        return mark_safe(get_template(TEMPLATE).render(context, request))  # noqa: S308 (our template's output)
    return _items.get_or_render(key, lambda: get_template(TEMPLATE).render(context))
