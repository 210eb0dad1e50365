"""Helpers for tests that push deliveries through the real webhook → InboundEvent → worker path."""

from __future__ import annotations

from django.test import Client

from channels_app.ingest import process_pending
from channels_app.models import InboundEvent
from tests.fixture_loader import fixture_names, load_fixture

# Fixtures live with their adapter; these names are what the tests have always called.
fixture_bytes = load_fixture
__all__ = ["fixture_bytes", "fixture_names", "post_api", "post_webhook", "process_all"]


def post_webhook(
    client: Client, provider: str, channel_id: int, body: bytes, *, content_type: str, **headers: str
):
    """POST raw bytes as the provider would. Extra headers are given as HTTP_X_... keyword arguments."""
    return client.generic(
        "POST", f"/webhooks/{provider}/{channel_id}/", body, content_type=content_type, **headers
    )


def process_all() -> list[InboundEvent]:
    """Run the worker's processing in this process (the integration tests use a real worker instead)."""
    process_pending(limit=10_000)
    return list(InboundEvent.objects.order_by("id"))


def post_api(client: Client, channel_id: int, body: bytes, secret: str):
    """POST to the generic API channel, signed the way its documentation says."""
    import time

    from channels_app.adapters.api import sign

    ts = str(int(time.time()))
    return post_webhook(
        client,
        "api",
        channel_id,
        body,
        content_type="application/json",
        HTTP_X_CXM_TIMESTAMP=ts,
        HTTP_X_CXM_SIGNATURE=sign(secret, ts, body),
    )


def post_telegram_text(
    client: Client,
    channel_id: int,
    *,
    secret: str,
    update_id: int,
    user: dict,
    text: str,
    date: int = 1763800000,
    message_id: int | None = None,
):
    """A private-chat text message as the Bot API delivers it; `user` is Telegram's User object."""
    import json

    message = {
        "message_id": update_id if message_id is None else message_id,
        "from": {"is_bot": False, **user},
        "chat": {**{k: v for k, v in user.items() if k != "is_bot"}, "type": "private"},
        "date": date,
        "text": text,
    }
    return post_webhook(
        client,
        "telegram",
        channel_id,
        json.dumps({"update_id": update_id, "message": message}).encode(),
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=secret,
    )
