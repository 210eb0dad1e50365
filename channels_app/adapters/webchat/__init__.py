"""Web chat: visitor messages arrive over our own websocket (tickets/webchat/consumer.py), which
stores them as InboundEvents in the JSON shape below; agent replies go out over the channel layer.

Stored body, written by the consumer (never taken verbatim from the browser):
    {"type": "message", "id": "<client message id>", "text": "...", "sent_at": "<ISO 8601>",
     "visitor": {"id": "<visitor id>", "user_id": "<verified user id or empty>", "name": "", "email": ""},
     "locale": "pl", "page_url": "https://shop.example/cart"}
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.http import HttpRequest

from channels_app.adapters.base import Adapter, AdapterError, SignatureError, register
from channels_app.adapters.payloads import from_iso, get_dict, get_str, load_json_object, require_str
from channels_app.identity_kinds import IdentityKind
from channels_app.kinds import ChannelKind
from channels_app.normalized import NormalizedMessage, ParsedItem, Sender
from channels_app.webchat.identity import is_visitor_id, visitor_group
from channels_app.webchat.limits import MAX_MESSAGE_CHARS
from channels_app.webchat.protocol import ChatMessage
from channels_app.webchat.rendering import render_chat_message
from channels_app.webchat.services import provider_message_id

# The event type the visitor consumer handles (Channels maps "webchat.message" to webchat_message).
DELIVERY_TYPE = "webchat.message"


def _sender(visitor: dict[str, Any]) -> Sender:
    display = get_str(visitor, "name")[:200]
    user_id = get_str(visitor, "user_id")
    if user_id:
        # The consumer only writes user_id after checking the site's HMAC of it.
        return Sender(kind=IdentityKind.EXTERNAL_ID, value=user_id, display=display)
    return Sender(kind=IdentityKind.WEBCHAT, value=get_str(visitor, "id"), display=display)


@register
class WebchatAdapter(Adapter):
    provider = "webchat"
    channel_kinds = (ChannelKind.WEBCHAT,)

    def verify(self, request: HttpRequest, channel) -> None:
        # Nothing may post visitor messages over HTTP: they would bypass the visitor's identity checks.
        raise SignatureError("web chat messages arrive over the visitor websocket only")

    def parse(self, event, channel) -> list[ParsedItem]:
        data = load_json_object(bytes(event.body))
        kind = get_str(data, "type")
        if kind != "message":
            raise AdapterError(f"unknown event type {kind!r}", permanent=True)
        visitor = get_dict(data, "visitor")
        visitor_id = require_str(visitor, "id", "message.visitor")
        if not is_visitor_id(visitor_id):
            raise AdapterError(f"message.visitor: malformed id {visitor_id[:80]!r}", permanent=True)
        client_id = require_str(data, "id", "message")
        text = get_str(data, "text")
        if not text.strip():
            raise AdapterError("message: empty 'text'", permanent=True)
        if len(text) > MAX_MESSAGE_CHARS:
            raise AdapterError(f"message: 'text' longer than {MAX_MESSAGE_CHARS} characters", permanent=True)
        return [
            NormalizedMessage(
                sender=_sender(visitor),
                provider_message_id=provider_message_id(visitor_id, client_id),
                text=text,
                sent_at=from_iso(data.get("sent_at")),
                # One conversation per visitor: their socket is the thread.
                thread_id=visitor_id,
                metadata={
                    "webchat": {
                        "visitor_id": visitor_id,
                        "verified": bool(get_str(visitor, "user_id")),
                        "email": get_str(visitor, "email")[:320],
                        "locale": get_str(data, "locale")[:16],
                        "page_url": get_str(data, "page_url")[:2000],
                    }
                },
            )
        ]

    def send(self, outbound, channel) -> str:
        visitor_id = outbound.recipient
        if not is_visitor_id(visitor_id):
            raise AdapterError(f"not a web chat visitor id: {visitor_id[:80]!r}", permanent=True)
        layer = get_channel_layer()
        if layer is None:
            raise AdapterError("no channel layer is configured", permanent=True)
        provider_id = f"webchat-out-{outbound.pk}"
        try:
            async_to_sync(layer.group_send)(
                visitor_group(channel.pk, visitor_id),
                {"type": DELIVERY_TYPE, "message": _delivered(outbound)},
            )
        except Exception as exc:  # channel layer backends raise their transport's own errors (redis, OS)
            raise AdapterError(f"channel layer unreachable: {exc}", permanent=False) from exc
        # Nobody may be connected right now; the reply is in the visitor's history for their next visit.
        return provider_id


def _delivered(outbound) -> ChatMessage:
    message = outbound.message
    if message is not None:
        return render_chat_message(message)
    return {
        "id": f"o{outbound.pk}",
        "direction": "out",
        "text": str(outbound.payload.get("text", "")),
        "at": outbound.created_at.isoformat(),
        "author": "",
    }
