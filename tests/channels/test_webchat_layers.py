"""Web chat and channel rules sit below profiles and tickets: they read nothing of those apps, and what
only tickets can do (render a stored message for the widget) reaches them through a registered point."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from channels_app.normalized import NormalizedMessage, Sender
from channels_app.services import do_create_channel
from channels_app.webchat.rendering import RenderChatMessage, render_chat_message
from core.events import add_interceptor, interceptors, remove_interceptor
from profiles.models import IdentityKind
from tickets.replies import do_send_reply
from tickets.services import do_record_inbound_message
from tickets.webchat import rendering
from tickets.webchat.history import chat_message

ABOVE_CHANNELS = ("profiles", "tickets", "surveys", "analytics", "cxm")


def _imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def _lower_layer_files() -> list[Path]:
    base = Path(settings.BASE_DIR) / "channels_app"
    return [*sorted((base / "webchat").glob("*.py")), base / "rules.py"]


@pytest.mark.parametrize("path", _lower_layer_files(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_web_chat_transport_and_rules_import_nothing_above_channels(path):
    upward = [name for name in _imported_modules(path) if name.split(".")[0] in ABOVE_CHANNELS]
    assert upward == []


def test_tickets_renders_stored_messages_for_the_adapter():
    assert rendering.render in interceptors(RenderChatMessage)


@pytest.mark.django_db
def test_adapter_rendering_is_tickets_chat_message(agent):
    chat = do_create_channel(kind="webchat", name="Site")
    inbound = do_record_inbound_message(
        channel=chat,
        message=NormalizedMessage(
            sender=Sender(kind=IdentityKind.WEBCHAT, value="a" + "1" * 32, display="Ola"),
            provider_message_id="a" + "1" * 32 + ":c7",
            text="Gdzie moja paczka?",
            sent_at=timezone.now(),
        ),
    )
    reply = do_send_reply(conversation=inbound.conversation, author=agent, channel=chat, text="Już jedzie")
    assert render_chat_message(inbound) == chat_message(inbound)
    assert render_chat_message(inbound)["id"] == "c7"
    shown = render_chat_message(reply)
    assert (shown["id"], shown["direction"], shown["text"]) == (f"m{reply.pk}", "out", "Już jedzie")


def test_rendering_without_tickets_is_a_wiring_error():
    remove_interceptor(RenderChatMessage, rendering.render)
    try:
        with pytest.raises(LookupError):
            render_chat_message(object())
    finally:
        add_interceptor(RenderChatMessage, rendering.render, order=100)
