"""How the web chat adapter shows a stored conversation message to the visitor.

Messages are tickets' rows (author, attachments behind signed links), so channels_app cannot render
them itself: tickets registers the handler for this point (tickets.webchat.rendering).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from channels_app.webchat.protocol import ChatMessage
from core.events import Interception, require_interceptor


@dataclass(frozen=True, slots=True)
class RenderChatMessage(Interception):
    """Render one stored message (the outbound row's `message`) as the widget shows it."""

    name: ClassVar[str] = "webchat.render_message"
    message: Any


def render_chat_message(message: Any) -> ChatMessage:
    return require_interceptor(RenderChatMessage(message=message))
