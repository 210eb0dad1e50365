"""Writes for web chat: visitor messages go into the same durable inbound path as provider webhooks."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.utils import timezone

from channels_app.inbound_models import InboundEvent
from channels_app.models import Channel
from channels_app.services import do_store_inbound_event
from channels_app.webchat.identity import Visitor

PROVIDER = "webchat"
VISITOR_HEADER = "X-Webchat-Visitor"


@dataclass(frozen=True)
class VisitorProfile:
    """What the site told the widget about the visitor. Unverified unless the user hash checked out."""

    name: str = ""
    email: str = ""
    locale: str = ""
    page_url: str = ""


def provider_message_id(visitor_id: str, client_id: str) -> str:
    # Scoped to the visitor: one visitor's client ids can never collide with (or suppress) another's.
    return f"{visitor_id}:{client_id}"


def event_body(*, visitor: Visitor, client_id: str, text: str, profile: VisitorProfile) -> bytes:
    """The JSON the webchat adapter parses; written by us, never taken verbatim from the browser."""
    data = {
        "type": "message",
        "id": client_id,
        "visitor": {
            "id": visitor.visitor_id,
            "user_id": visitor.user_id,
            "name": profile.name,
            "email": profile.email,
        },
        "text": text,
        "sent_at": timezone.now().isoformat(),
        "locale": profile.locale,
        "page_url": profile.page_url,
    }
    return json.dumps(data, ensure_ascii=False).encode()


def do_store_visitor_message(
    *,
    channel: Channel,
    visitor: Visitor,
    client_id: str,
    text: str,
    profile: VisitorProfile,
    origin: str = "",
    user_agent: str = "",
) -> InboundEvent | None:
    """Store one visitor message; None when this client id was stored before (a resend after reconnect).

    A signed visitor must be linked to their customer first (tickets.webchat.visitors does both), or
    agent replies would go to a visitor id that belongs to nobody.
    """
    headers = {VISITOR_HEADER: visitor.visitor_id, "Origin": origin[:300], "User-Agent": user_agent[:300]}
    return do_store_inbound_event(
        channel=channel,
        provider=PROVIDER,
        dedup_key=f"webchat:{provider_message_id(visitor.visitor_id, client_id)}",
        content_type="application/json",
        headers={name: value for name, value in headers.items() if value},
        body=event_body(visitor=visitor, client_id=client_id, text=text, profile=profile),
    )
