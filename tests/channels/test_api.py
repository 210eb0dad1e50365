"""The generic API channel: signed JSON in, signed JSON out; one test per fixture plus the odd cases."""

from __future__ import annotations

import json
import time

import pytest

from channels_app.adapters.api import sign
from channels_app.models import InboundEvent, InboundStatus, OutboundMessage, OutboundStatus
from channels_app.services import do_create_channel
from tests.pipeline import fixture_bytes, post_webhook, process_all
from tickets.models import Attachment, Message

pytestmark = pytest.mark.django_db
SECRET = "api-signing-secret-abcdef0123456789"


@pytest.fixture
def channel(db):
    return do_create_channel(kind="api", name="Mobile app", credentials={"signing_secret": SECRET})


def deliver(client, channel, body: bytes, *, secret=SECRET, timestamp=None):
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"HTTP_X_CXM_TIMESTAMP": ts}
    if secret is not None:
        headers["HTTP_X_CXM_SIGNATURE"] = sign(secret, ts, body)
    return post_webhook(client, "api", channel.pk, body, content_type="application/json", **headers)


def deliver_fixture(client, channel, name):
    return deliver(client, channel, fixture_bytes("api", name))


def test_message__text(client, channel):
    assert deliver_fixture(client, channel, "message__text.json").status_code == 200
    (event,) = process_all()
    assert event.status == InboundStatus.DONE
    (message,) = Message.objects.select_related("conversation__customer")
    assert message.body == "Aplikacja nie synchronizuje zamówień"
    assert message.metadata["thread_id"] == "ticket-77"
    assert message.created_at.isoformat() == "2026-11-20T09:15:00+00:00"
    customer = message.conversation.customer
    assert customer.name == "Zofia Wiśniewska"
    assert customer.identities.get().value == "user-42"


def test_message__attachment(client, channel):
    deliver_fixture(client, channel, "message__attachment.json")
    process_all()
    attachment = Attachment.objects.get()
    assert (attachment.filename, attachment.source_url) == (
        "screen.png",
        "https://files.example.com/s/abc.png",
    )


def test_batch__two_messages_and_status(client, channel):
    deliver_fixture(client, channel, "batch__two_messages_and_status.json")
    (event,) = process_all()
    assert event.status == InboundStatus.DONE
    first, second = Message.objects.order_by("id")
    assert first.conversation_id == second.conversation_id
    assert [first.body, second.body] == ["Привет", "Есть кто-нибудь?"]


def test_message__escaped_nul(client, channel):
    deliver_fixture(client, channel, "message__escaped_nul.json")
    (event,) = process_all()
    assert event.status == InboundStatus.DONE
    message = Message.objects.select_related("conversation__customer").get()
    assert message.body == "beforeafter"
    assert message.conversation.customer.name == "NulName"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("invalid__unknown_type.json", "unknown event type 'reaction'"),
        ("invalid__missing_sender.json", "message.sender: missing 'id'"),
        ("invalid__array.json", "expected a JSON object, got list"),
        ("invalid__nul_byte.json", "NUL bytes"),
    ],
)
def test_invalid_payloads_are_kept_and_marked_failed(client, channel, name, reason):
    assert deliver_fixture(client, channel, name).status_code == 200
    (event,) = process_all()
    assert event.status == InboundStatus.FAILED
    assert reason in event.error
    assert bytes(event.body) == fixture_bytes("api", name)
    assert not Message.objects.exists()


def test_status__delivered_moves_forward_only(client, channel, provider_stub, agent, settings):
    from channels_app.outbound import do_send
    from tickets.replies import do_send_reply

    stub = provider_stub("api")
    stub.route("POST", "/callback", lambda r: (200, {"ok": True}))
    channel.config = {"callback_url": f"{stub.url}/callback"}
    channel.save()
    deliver_fixture(client, channel, "message__text.json")
    process_all()
    conversation = Message.objects.get().conversation
    reply = do_send_reply(conversation=conversation, author=agent, channel=channel, text="Już sprawdzamy")
    outbound = OutboundMessage.objects.get(message=reply)
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    sent = stub.requests[0]
    assert sent.json()["text"] == "Już sprawdzamy" and sent.json()["recipient"] == "user-42"
    assert sent.headers["X-CXM-Signature"] == sign(SECRET, sent.headers["X-CXM-Timestamp"], sent.body)

    def status(value, at):
        body = json.dumps({"type": "status", "message_id": f"out-{outbound.pk}", "status": value, "at": at})
        deliver(client, channel, body.encode())

    # read arrives first, then the late delivered and sent: nothing moves backwards.
    status("read", "2026-11-20T09:20:00Z")
    deliver(
        client,
        channel,
        fixture_bytes("api", "status__delivered.json").replace(
            b"out-PLACEHOLDER", f"out-{outbound.pk}".encode()
        ),
    )
    status("sent", "2026-11-20T09:17:00Z")
    status("failed", "2026-11-20T09:21:00Z")
    process_all()
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.READ
    assert InboundEvent.objects.filter(status=InboundStatus.DONE).count() == 5


@pytest.mark.parametrize(
    ("secret", "timestamp"),
    [(None, None), ("wrong-secret", None), (SECRET, int(time.time()) - 3600)],
    ids=["missing", "wrong", "stale"],
)
def test_bad_signature_is_403_and_stores_nothing(client, channel, secret, timestamp):
    response = deliver(
        client, channel, fixture_bytes("api", "message__text.json"), secret=secret, timestamp=timestamp
    )
    assert response.status_code == 403
    assert not InboundEvent.objects.exists()


def test_unknown_channel_and_provider_are_404(client, channel):
    body = fixture_bytes("api", "message__text.json")
    assert (
        post_webhook(client, "api", channel.pk + 999, body, content_type="application/json").status_code
        == 404
    )
    assert post_webhook(client, "nope", channel.pk, body, content_type="application/json").status_code == 404


def test_five_megabyte_body_is_stored_and_parsed(client, channel):
    text = "x" * (5 * 1024 * 1024)
    body = json.dumps({"type": "message", "id": "big-1", "sender": {"id": "u1"}, "text": text}).encode()
    assert deliver(client, channel, body).status_code == 200
    (event,) = process_all()
    assert event.status == InboundStatus.DONE
    assert len(Message.objects.get().body) == len(text)


def test_body_over_the_limit_is_refused_before_reading(client, channel):
    body = b"{" + b" " * (11 * 1024 * 1024) + b"}"
    assert deliver(client, channel, body).status_code == 413
    assert not InboundEvent.objects.exists()


def test_database_failure_answers_503_so_the_provider_retries(client, channel, monkeypatch):
    from django.db import DatabaseError

    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr("channels_app.webhooks.do_store_inbound_event", broken)
    assert deliver_fixture(client, channel, "message__text.json").status_code == 503


def test_a_deactivated_or_rekeyed_channel_is_seen_by_the_next_webhook_at_once(
    client, channel, django_capture_on_commit_callbacks
):
    """Webhooks remember channels for a few seconds; a change made through the services is not delayed."""
    from channels_app.services import do_update_channel

    new_secret = "a-brand-new-signing-secret-0123456789"
    body = fixture_bytes("api", "message__text.json")
    assert deliver(client, channel, body).status_code == 200  # the channel is now remembered

    def update(*, is_active: bool, credentials: dict) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            do_update_channel(
                channel=channel,
                name=channel.name,
                address=channel.address,
                is_active=is_active,
                credential_updates=credentials,
                teams=[],
            )

    update(is_active=True, credentials={"signing_secret": new_secret})
    assert deliver(client, channel, body).status_code == 403  # the old secret no longer works
    assert deliver(client, channel, body, secret=new_secret).status_code == 200
    update(is_active=False, credentials={})
    assert deliver(client, channel, body, secret=new_secret).status_code == 404
