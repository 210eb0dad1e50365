"""A webhook answers 503 (which every provider retries), never 500, when the database is unreachable,
including the channel lookup when the channel is not cached."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

from channels_app import webhook_asgi, webhooks
from channels_app.models import InboundEvent
from channels_app.services import do_create_channel
from tests.channels.test_webhook_asgi import SECRET, call, signed

pytestmark = pytest.mark.django_db(transaction=True)
REFUSED = 'connection to server at "127.0.0.1", port 1 failed: Connection refused'


@pytest.fixture
def channel():
    return do_create_channel(kind="api", name="Shop app", credentials={"signing_secret": SECRET})


def database_down(*args, **kwargs):
    raise OperationalError(REFUSED)


def test_django_view_answers_503_when_the_channel_cannot_be_read(channel, monkeypatch):
    monkeypatch.setattr(webhooks, "active_channel", database_down)
    body, headers = signed("m-1")
    extra = {f"HTTP_{name.decode().upper().replace('-', '_')}": value.decode() for name, value in headers}
    extra.pop("HTTP_CONTENT_TYPE", None)
    response = Client(raise_request_exception=False).post(
        f"/webhooks/api/{channel.pk}/", body, content_type="application/json", **extra
    )
    assert response.status_code == 503
    assert response.json() == {"error": "temporarily unavailable"}


def test_asgi_fast_path_answers_503_when_the_channel_cannot_be_read(channel, monkeypatch):
    # The channel is not cached (each test starts without), so the fast path must read it.
    monkeypatch.setattr(webhook_asgi, "active_channel", database_down)
    body, headers = signed("m-2")
    [response] = call((f"/webhooks/api/{channel.pk}/", body, headers))
    assert response["status"] == 503
    assert b"temporarily unavailable" in response["body"]
    assert not InboundEvent.objects.exists()
