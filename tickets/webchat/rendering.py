"""Tickets renders its stored messages for the web chat adapter (channels_app.webchat.rendering)."""

from __future__ import annotations

from channels_app.webchat.protocol import ChatMessage
from channels_app.webchat.rendering import RenderChatMessage
from core.events import add_interceptor
from tickets.webchat.history import chat_message


def render(call: RenderChatMessage) -> ChatMessage:
    return chat_message(call.message)


def register() -> None:
    add_interceptor(RenderChatMessage, render, order=100)
