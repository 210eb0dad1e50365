"""Reads for the visitor websocket that only concern the channel: which channel a socket opens, and the
visitor messages still waiting in the inbound queue. What a visitor sees of their conversation is read
by tickets.webchat.history, which owns conversations."""

from __future__ import annotations

import json
from typing import Any

from channels_app.inbound_models import InboundEvent, InboundStatus
from channels_app.kinds import ChannelKind
from channels_app.models import Channel
from channels_app.webchat import limits
from channels_app.webchat.protocol import ChatMessage
from channels_app.webchat.services import PROVIDER, VISITOR_HEADER


def active_webchat_channel(channel_id: int) -> Channel | None:
    return Channel.objects.filter(pk=channel_id, kind=ChannelKind.WEBCHAT, is_active=True).first()


def identity_secret(channel: Channel) -> str:
    """The secret a site signs its users' ids with; "" when the channel accepts guests only."""
    if not channel.credentials.get("identity_secret"):
        return ""
    return channel.secret("identity_secret")


def pending_visitor_messages(
    *, channel: Channel, visitor_id: str, limit: int = limits.HISTORY_LIMIT
) -> list[ChatMessage]:
    """The visitor's messages a worker has not turned into conversation messages yet, oldest first."""
    pending = InboundEvent.objects.filter(
        channel=channel,
        provider=PROVIDER,
        status=InboundStatus.PENDING,
        **{f"headers__{VISITOR_HEADER}": visitor_id},
    ).order_by("received_at", "id")[:limit]
    return [item for item in map(_pending_message, pending) if item is not None]


def _pending_message(event: InboundEvent) -> ChatMessage | None:
    try:
        data: Any = json.loads(bytes(event.body))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return {
        "id": str(data.get("id", "")),
        "direction": "in",
        "text": str(data.get("text", "")),
        "at": event.received_at.isoformat(),
        "author": "",
    }
