"""The ASGI front door for webhooks: the same promises as the Django view, with deliveries of
concurrent requests stored together."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from channels.testing import HttpCommunicator

from channels_app import inbound_writer
from channels_app.adapters.api import sign
from channels_app.ingest import process_pending
from channels_app.models import InboundEvent, InboundStatus
from channels_app.services import do_create_channel
from cxm.asgi import application
from tests.conftest import run_async
from tests.pipeline import fixture_bytes
from tests.workers import celery_broker, free_port, redis_server
from tickets.models import Message

pytestmark = pytest.mark.django_db(transaction=True)  # the writer commits on its own connection
SECRET = "asgi-webhook-signing-secret-0123456789"


@pytest.fixture
def channel():
    return do_create_channel(kind="api", name="ASGI", credentials={"signing_secret": SECRET})


def signed(message_id: str, *, text: str = "hello", sender: str = "cust-1", secret: str = SECRET):
    body = json.dumps({"type": "message", "id": message_id, "sender": {"id": sender}, "text": text}).encode()
    ts = str(int(time.time()))
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-cxm-timestamp", ts.encode()),
        (b"x-cxm-signature", sign(secret, ts, body).encode()),
    ]
    return body, headers


async def _call(path: str, body: bytes = b"", headers=(), method: str = "POST") -> dict:
    communicator = HttpCommunicator(application, method, path, body=body, headers=list(headers))
    return await communicator.get_response(timeout=10)


def call(*requests: tuple) -> list[dict]:
    """Send the requests concurrently on one event loop (so they may share a batch), then close the
    writer's connection, as a server does at shutdown."""

    async def scenario() -> list[dict]:
        try:
            return await asyncio.gather(*(_call(*request) for request in requests))
        finally:
            await inbound_writer.close_writer()

    return run_async(scenario)


def test_a_signed_delivery_is_stored_acknowledged_and_processed(channel):
    body, headers = signed("m-1", text="Where is my order?")
    [response] = call((f"/webhooks/api/{channel.pk}/", body, headers))
    assert response["status"] == 200
    event = InboundEvent.objects.get()
    assert (event.status, event.provider, bytes(event.body)) == (InboundStatus.PENDING, "api", body)
    assert event.headers["X-CXM-Signature"].startswith("sha256=")
    process_pending(limit=10)
    assert Message.objects.get().body == "Where is my order?"


def test_a_bad_signature_is_403_and_stores_nothing(channel):
    body, headers = signed("m-1", secret="not-the-channel-secret-at-all-0000")
    [response] = call((f"/webhooks/api/{channel.pk}/", body, headers))
    assert response["status"] == 403
    assert json.loads(response["body"]) == {"error": "invalid signature"}
    assert not InboundEvent.objects.exists()


def test_the_same_delivery_three_times_at_once_is_one_event(channel):
    body, headers = signed("m-1")
    responses = call(*[(f"/webhooks/api/{channel.pk}/", body, headers)] * 3)
    assert [r["status"] for r in responses] == [200, 200, 200]
    assert InboundEvent.objects.count() == 1


def test_many_concurrent_deliveries_are_all_stored_and_processed(channel):
    requests = [(f"/webhooks/api/{channel.pk}/", *signed(f"m-{i}", sender=f"c-{i % 7}")) for i in range(60)]
    responses = call(*requests)
    assert {r["status"] for r in responses} == {200}
    bodies = {json.loads(bytes(b))["id"] for b in InboundEvent.objects.values_list("body", flat=True)}
    assert bodies == {f"m-{i}" for i in range(60)}
    process_pending(limit=1000)
    assert Message.objects.count() == 60
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {InboundStatus.DONE}


def test_a_batch_is_stored_in_the_order_it_was_handed_over_with_redeliveries_answered_none(channel):
    from channels_app.webhook_checks import Delivery

    def delivery(key: str) -> Delivery:
        return Delivery(channel, "api", key, "application/json", {}, key.encode())

    async def scenario() -> list[int | None]:
        writer = inbound_writer.InboundWriter()
        try:
            # Handed over before the first commit starts, so all of them travel in one INSERT.
            return await asyncio.gather(*(writer.store(delivery(k)) for k in ["a", "b", "a", "c"]))
        finally:
            await writer.close()

    first_a, b, again_a, c = run_async(scenario)
    assert again_a is None
    assert first_a < b < c
    assert list(InboundEvent.objects.order_by("id").values_list("dedup_key", flat=True)) == ["a", "b", "c"]


def test_unknown_provider_channel_and_method_get_clear_answers(channel):
    body, headers = signed("m-1")
    responses = call(
        (f"/webhooks/nope/{channel.pk}/", body, headers),
        ("/webhooks/api/999999/", body, headers),
        (f"/webhooks/telegram/{channel.pk}/", body, headers),
        (f"/webhooks/api/{channel.pk}/", b"", [(b"host", b"127.0.0.1")], "GET"),
    )
    assert [r["status"] for r in responses] == [404, 404, 404, 405]
    assert not InboundEvent.objects.exists()


def test_a_body_over_the_limit_is_413_whether_announced_or_streamed(channel, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body, headers = signed("m-1", text="x" * 2000)
    streamed = [h for h in headers if h[0] != b"content-length"]
    responses = call(
        (f"/webhooks/api/{channel.pk}/", body, headers), (f"/webhooks/api/{channel.pk}/", body, streamed)
    )
    assert [r["status"] for r in responses] == [413, 413]
    assert not InboundEvent.objects.exists()


def test_a_host_we_do_not_serve_is_400(channel):
    body, headers = signed("m-1")
    headers = [(b"host", b"evil.example")] + [h for h in headers if h[0] != b"host"]
    [response] = call((f"/webhooks/api/{channel.pk}/", body, headers))
    assert response["status"] == 400
    assert not InboundEvent.objects.exists()


def test_database_failure_answers_503_so_the_provider_retries(channel, monkeypatch):
    from core import batch_writer

    real = batch_writer.connection_kwargs
    monkeypatch.setattr(batch_writer, "connection_kwargs", lambda: {**real(), "port": free_port()})
    responses = call(*[(f"/webhooks/api/{channel.pk}/", *signed(f"m-{i}")) for i in range(3)])
    assert [r["status"] for r in responses] == [503, 503, 503]
    assert not InboundEvent.objects.exists()


def test_redis_down_still_acknowledges_with_the_event_stored(channel, tmp_path, settings):
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    settings.REDIS_URL = broker
    with celery_broker(broker):
        with redis_server(port, tmp_path):
            pass  # started and stopped: the broker is now really down
        body, headers = signed("m-1")
        started = time.monotonic()
        [response] = call((f"/webhooks/api/{channel.pk}/", body, headers))
        assert time.monotonic() - started < 10
    assert response["status"] == 200
    assert InboundEvent.objects.get().status == InboundStatus.PENDING  # the sweeper will queue it


def test_other_paths_still_reach_django(channel):
    # Not a webhook address, so Django answers it (with its own HTML page, not our JSON errors).
    [response] = call((f"/webhooks/api/{channel.pk}x/", b"", [(b"host", b"127.0.0.1")], "GET"))
    assert response["status"] == 404
    assert dict(response["headers"])[b"Content-Type"].startswith(b"text/html")


# --- Every provider through the same front door: the adapters run unchanged on an ASGI request ----------
def _post(path: str, body: bytes, content_type: str, **extra: str) -> tuple:
    headers = [(b"host", b"127.0.0.1"), (b"content-type", content_type.encode())]
    headers += [(b"content-length", str(len(body)).encode())]
    headers += [(name.lower().replace("_", "-").encode(), value.encode()) for name, value in extra.items()]
    return (path, body, headers)


def test_twilio_form_signed_over_the_public_url(settings):
    from channels_app.adapters.twilio import form_params, signature
    from tests.channels.test_twilio import ACCOUNT_SID, AUTH_TOKEN, PUBLIC

    settings.PUBLIC_BASE_URL = PUBLIC  # TLS ends at a proxy: the signature covers the public URL
    channel = do_create_channel(
        kind="sms", name="SMS", credentials={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
    )
    body = fixture_bytes("twilio", "sms__text_polish.txt")
    path = f"/webhooks/twilio/{channel.pk}/"
    good = signature(AUTH_TOKEN, PUBLIC + path, form_params(body))
    kind = "application/x-www-form-urlencoded"
    responses = call(
        _post(path, body, kind, X_Twilio_Signature=good), _post(path, body, kind, X_Twilio_Signature="x")
    )
    assert [r["status"] for r in responses] == [200, 403]
    assert dict(responses[0]["headers"])[b"Content-Type"].startswith(b"text/xml")  # Twilio's empty TwiML
    process_pending(limit=10)
    assert Message.objects.get().body.startswith("Dzień dobry")


def test_telegram_secret_token():
    channel = do_create_channel(
        kind="telegram",
        name="Bot",
        credentials={"bot_token": "7000000001:AAFake", "webhook_secret": "tg-secret-1"},
    )
    body = fixture_bytes("telegram", "message__text.json")
    path = f"/webhooks/telegram/{channel.pk}/"
    responses = call(
        _post(path, body, "application/json", X_Telegram_Bot_Api_Secret_Token="tg-secret-1"),
        _post(path, body, "application/json", X_Telegram_Bot_Api_Secret_Token="wrong"),
    )
    assert [r["status"] for r in responses] == [200, 403]
    assert InboundEvent.objects.count() == 1


def test_meta_handshake_and_signed_delivery():
    from channels_app.adapters.meta import sign as meta_sign
    from tests.channels.test_meta import APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN

    channel = do_create_channel(
        kind="whatsapp",
        name="WA",
        config={"provider": "meta", "phone_number_id": PHONE_NUMBER_ID},
        credentials={"access_token": "EAAtoken", "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN},
    )
    path = f"/webhooks/meta/{channel.pk}/"
    body = fixture_bytes("meta", "whatsapp_message__text.json")
    query = f"?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
    host = [(b"host", b"127.0.0.1")]
    responses = call(
        (path + query, b"", host, "GET"),
        _post(path, body, "application/json", X_Hub_Signature_256=meta_sign(APP_SECRET, body)),
    )
    assert (responses[0]["status"], responses[0]["body"]) == (200, b"1158201444")
    assert responses[1]["status"] == 200
    process_pending(limit=10)
    assert Message.objects.count() == 1


def test_email_raw_mime_and_mailgun_form():
    from tests.channels.test_email_corpus import SECRET as MAIL_SECRET
    from tests.channels.test_email_corpus import mailgun_form

    channel = do_create_channel(
        kind="email", name="Mail", credentials={"inbound_webhook_secret": MAIL_SECRET}
    )
    path = f"/webhooks/email/{channel.pk}/"
    raw = fixture_bytes("email", "gmail_en_reply.eml")
    ts = str(int(time.time()))
    signed_raw = _post(
        path, raw, "message/rfc822", X_CXM_Timestamp=ts, X_CXM_Signature=sign(MAIL_SECRET, ts, raw)
    )
    from urllib.parse import urlencode

    form = urlencode(mailgun_form(fixture_bytes("email", "gmail_pl_reply.eml"))).encode()
    responses = call(signed_raw, _post(path, form, "application/x-www-form-urlencoded"))
    assert [r["status"] for r in responses] == [200, 200]
    assert set(InboundEvent.objects.values_list("content_type", flat=True)) == {"message/rfc822"}
    process_pending(limit=10)
    assert Message.objects.count() == 2
