"""The visitor websocket's wire format: frames, close codes and the message shape the widget shows.

Shared by the consumer (tickets.webchat.consumer, which serves the visitor's conversation) and the web
chat adapter that pushes agent replies; both must speak exactly what static/widget/chat.js expects.
"""

from __future__ import annotations

import json
from typing import Any, NotRequired, TypedDict

from django.utils import translation

from channels_app.webchat import limits
from channels_app.webchat.labels import error_text

CLOSE_ORIGIN_REFUSED = 4403
CLOSE_UNAVAILABLE = 4404
CLOSE_REVOKED = 4410

# Channels maps a group message of type "webchat.message" to the consumer's webchat_message().
MESSAGE_EVENT = "webchat.message"
REVOKED_EVENT = "webchat.revoked"


class ChatMessage(TypedDict):
    """One message as the widget shows it."""

    id: str  # the client id for visitor messages, "m<pk>" for ours: the widget de-duplicates on it
    direction: str  # "in" (from the visitor) or "out" (from us)
    text: str
    at: str
    author: str
    # Files an agent attached, as signed links the visitor's browser opens.
    attachments: NotRequired[list[dict[str, Any]]]


def header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def text_field(content: dict[str, Any], key: str, limit: int = limits.MAX_PROFILE_FIELD_LENGTH) -> str:
    value = content.get(key)
    return value.strip()[:limit] if isinstance(value, str) else ""


def decode_frame(text_data: str | None) -> dict[str, Any] | str:
    """The frame as a JSON object, or the error code to answer with instead."""
    if text_data is None or len(text_data) > limits.MAX_FRAME_CHARS:
        return "too_long" if text_data else "invalid"
    try:
        content = json.loads(text_data)
    except ValueError:
        return "invalid"
    return content if isinstance(content, dict) else "invalid"


def error_frame(code: str, language: str, message_id: str | None = None) -> dict[str, Any]:
    with translation.override(language):
        payload: dict[str, Any] = {"type": "error", "code": code, "message": error_text(code)}
    if message_id is not None:
        payload["id"] = message_id
    return payload


def visitor_echo(*, client_id: str, text: str, at: str) -> ChatMessage:
    """A message the visitor just sent, for their other tabs (the sending tab shows it already)."""
    return {"id": client_id, "direction": "in", "text": text, "at": at, "author": ""}
