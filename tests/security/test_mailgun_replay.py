"""Mailgun signs only timestamp + token: a second use of the same signature must not carry another mail."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pytest

from channels_app.models import InboundEvent
from channels_app.services import do_create_channel
from tests.channels.test_webhook_asgi import _post, call
from tests.pipeline import fixture_bytes

pytestmark = pytest.mark.django_db(transaction=True)
SIGNING_KEY = "key-mailgun-signing-0123456789abcdef"


@pytest.fixture
def channel():
    return do_create_channel(
        kind="email",
        name="Support mailbox",
        address="support@shop.example",
        credentials={"inbound_webhook_secret": SIGNING_KEY},
    )


def signature_fields(token: str | None = None) -> dict[str, str]:
    timestamp = str(int(time.time()))
    token = token or secrets.token_hex(25)
    signature = hmac.new(SIGNING_KEY.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature}


def mime_form(signed: dict[str, str], eml: str) -> dict[str, str]:
    raw = fixture_bytes("email", eml).decode("utf-8")
    return {**signed, "recipient": "support@shop.example", "sender": "x@example.com", "body-mime": raw}


def test_a_replayed_signature_with_another_mail_is_refused(client, channel):
    signed = signature_fields()
    url = f"/webhooks/email/{channel.pk}/"
    assert client.post(url, mime_form(signed, "gmail_pl_reply.eml")).status_code == 200

    replay = client.post(url, mime_form(signed, "gmail_en_reply.eml"))

    assert replay.status_code == 403
    assert replay.json() == {"error": "Mailgun token already used"}
    assert InboundEvent.objects.count() == 1


def test_a_fresh_token_is_accepted_after_a_refused_replay(client, channel):
    signed = signature_fields()
    url = f"/webhooks/email/{channel.pk}/"
    client.post(url, mime_form(signed, "gmail_pl_reply.eml"))
    assert client.post(url, mime_form(signed, "gmail_pl_reply.eml")).status_code == 403
    assert client.post(url, mime_form(signature_fields(), "gmail_en_reply.eml")).status_code == 200
    assert InboundEvent.objects.count() == 2


def test_the_same_signature_cannot_be_replayed_into_another_channel_with_the_same_key(client, channel):
    other = do_create_channel(
        kind="email",
        name="Sales",
        address="sales@shop.example",
        credentials={"inbound_webhook_secret": SIGNING_KEY},
    )
    signed = signature_fields()
    assert (
        client.post(f"/webhooks/email/{channel.pk}/", mime_form(signed, "gmail_pl_reply.eml")).status_code
        == 200
    )
    replay = client.post(f"/webhooks/email/{other.pk}/", mime_form(signed, "gmail_en_reply.eml"))
    assert replay.status_code == 403
    assert InboundEvent.objects.count() == 1


def test_the_asgi_front_door_refuses_the_replay_too(channel):
    from urllib.parse import urlencode

    signed = signature_fields()
    path = f"/webhooks/email/{channel.pk}/"
    first = urlencode(mime_form(signed, "gmail_pl_reply.eml")).encode()
    second = urlencode(mime_form(signed, "gmail_en_reply.eml")).encode()
    form = "application/x-www-form-urlencoded"
    [accepted] = call(_post(path, first, form))
    [replayed] = call(_post(path, second, form))
    assert (accepted["status"], replayed["status"]) == (200, 403)
    assert b"Mailgun token already used" in replayed["body"]
    assert InboundEvent.objects.count() == 1
