"""Twilio SMS and WhatsApp webhooks through the real webhook and pipeline, one test per fixture."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from channels_app.adapters.twilio import EMPTY_TWIML, form_params, signature
from channels_app.models import InboundEvent, InboundStatus, OutboundMessage, OutboundStatus
from channels_app.outbound import do_send
from channels_app.services import do_create_channel
from tests.pipeline import fixture_bytes, post_webhook, process_all
from tickets.models import Attachment, AttachmentStatus, Message

pytestmark = pytest.mark.django_db
ACCOUNT_SID = "AC3f8e2b7c91d04a6e8b5f1c2d7a9e0b41"
AUTH_TOKEN = "9f2c4e6a8b0d1f3e5a7c9b2d4f6e8a0c"
PUBLIC = "https://cx.example.com"
SMS_SID_OUT = "SMe4b7a0d3c6f9e2b5a8d1c4f7b0e3a6d9"
WA_SID_OUT = "SMf5c8b1e4d7a0f3c6b9e2d5a8f1c4b7e0"


@pytest.fixture(autouse=True)
def _public_url(settings):
    # The public side is https behind a proxy; the test client (like Django behind it) speaks http.
    settings.PUBLIC_BASE_URL = PUBLIC


@pytest.fixture
def sms_channel(db):
    return do_create_channel(
        kind="sms",
        name="Acme SMS",
        address="+48732100200",
        credentials={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
    )


@pytest.fixture
def wa_channel(db):
    return do_create_channel(
        kind="whatsapp",
        name="Acme WhatsApp",
        address="+48732100300",
        config={"provider": "twilio"},
        credentials={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
    )


def deliver(client, channel, name, *, token=AUTH_TOKEN, base=PUBLIC, sign=True):
    body = fixture_bytes("twilio", name)
    path = f"/webhooks/twilio/{channel.pk}/"
    headers = {}
    if sign:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature(token, base + path, form_params(body))
    return post_webhook(
        client, "twilio", channel.pk, body, content_type="application/x-www-form-urlencoded", **headers
    )


def only_message() -> Message:
    (message,) = Message.objects.select_related("conversation__customer")
    return message


def sent_reply(client, channel, agent, stub, *, inbound: str, sid: str) -> OutboundMessage:
    """A customer writes, an agent answers, Twilio accepts the answer with `sid`."""
    from tickets.replies import do_send_reply

    stub.route("POST", r"/2010-04-01/Accounts/AC\w+/Messages\.json", lambda r: (201, {"sid": sid}))
    deliver(client, channel, inbound)
    process_all()
    reply = do_send_reply(conversation=only_message().conversation, author=agent, channel=channel, text="OK")
    outbound = OutboundMessage.objects.get(message=reply)
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    return outbound


def test_signature_matches_twilios_own_validator():
    body = fixture_bytes("twilio", "sms__text_polish.txt")
    url = f"{PUBLIC}/webhooks/twilio/7/"
    params = dict(form_params(body))
    expected = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    assert signature(AUTH_TOKEN, url, form_params(body)) == expected


def test_sms__text_polish(client, sms_channel):
    response = deliver(client, sms_channel, "sms__text_polish.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode() == EMPTY_TWIML
    (event,) = process_all()
    assert (event.status, event.dedup_key) == (
        InboundStatus.DONE,
        "message:SM5a2d9c4e7b1f08a3d6c9e2b5f8a1d4c7",
    )
    message = only_message()
    assert message.body.startswith("Dzień dobry, zamówienie nr 4821 nie dotarło.")
    assert message.body.endswith("— Łukasz Żółkiewski")
    assert message.provider_message_id == "SM5a2d9c4e7b1f08a3d6c9e2b5f8a1d4c7"
    assert message.metadata["to"] == "+48732100200"
    identity = message.conversation.customer.identities.get()
    assert (identity.kind, identity.value) == ("phone", "+48601234567")


def test_sms__text_russian(client, sms_channel):
    deliver(client, sms_channel, "sms__text_russian.txt")
    process_all()
    message = only_message()
    assert message.body.startswith("Здравствуйте! Посылка пришла повреждённой")
    assert message.metadata["num_segments"] == "2"
    assert message.conversation.customer.identities.get().value == "+79161234567"


def test_mms__two_media(client, sms_channel):
    deliver(client, sms_channel, "mms__two_media.txt")
    process_all()
    message = only_message()
    assert message.body == "Zdjęcia uszkodzonej paczki"
    first, second = Attachment.objects.filter(message=message).order_by("id")
    base = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM9c2e5b8f1a4d07c3e6b9f2a5d8c1e4b7"
    assert (first.source_url, first.content_type, first.filename) == (
        f"{base}/Media/ME8b3d6f9a2c5e1b4d7f0a3c6e9b2d5f8a",
        "image/jpeg",
        "media-1.jpg",
    )
    assert (second.content_type, second.filename) == ("application/pdf", "media-2.pdf")
    assert {first.status, second.status} == {AttachmentStatus.PENDING}


def test_whatsapp__text(client, wa_channel):
    deliver(client, wa_channel, "whatsapp__text.txt")
    (event,) = process_all()
    assert event.status == InboundStatus.DONE
    message = only_message()
    assert message.body == "Cześć! Czy mogę zmienić adres dostawy? 🙂"
    assert message.metadata["wa_id"] == "48512345678"
    customer = message.conversation.customer
    assert customer.name == "Agnieszka Wójcik"
    identity = customer.identities.get()
    assert (identity.kind, identity.value, identity.display) == (
        "whatsapp",
        "+48512345678",
        "Agnieszka Wójcik",
    )


def test_whatsapp__location(client, wa_channel):
    deliver(client, wa_channel, "whatsapp__location.txt")
    process_all()
    message = only_message()
    assert message.metadata["location"] == {
        "latitude": 52.2296756,
        "longitude": 21.0122287,
        "label": "Pałac Kultury i Nauki",
        "address": "plac Defilad 1, 00-901 Warszawa",
    }
    assert message.body == "📍 Pałac Kultury i Nauki 52.2296756, 21.0122287"


def test_whatsapp__button_reply(client, wa_channel):
    deliver(client, wa_channel, "whatsapp__button_reply.txt")
    process_all()
    message = only_message()
    assert message.body == "Tak, potwierdzam"
    assert message.metadata["button"] is True
    assert message.metadata["callback_data"] == "order-4821:confirm"


def test_status__sent(client, sms_channel, agent, provider_stub):
    outbound = sent_reply(
        client, sms_channel, agent, provider_stub("twilio"), inbound="sms__text_polish.txt", sid=SMS_SID_OUT
    )
    deliver(client, sms_channel, "status__sent.txt")
    events = process_all()
    assert (events[-1].status, events[-1].dedup_key) == (InboundStatus.DONE, f"status:{SMS_SID_OUT}:sent")
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.SENT


def test_status__delivered(client, sms_channel, agent, provider_stub):
    outbound = sent_reply(
        client, sms_channel, agent, provider_stub("twilio"), inbound="sms__text_polish.txt", sid=SMS_SID_OUT
    )
    deliver(client, sms_channel, "status__delivered.txt")
    process_all()
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.DELIVERED


def test_status__read_whatsapp(client, wa_channel, agent, provider_stub):
    outbound = sent_reply(
        client, wa_channel, agent, provider_stub("twilio"), inbound="whatsapp__text.txt", sid=WA_SID_OUT
    )
    deliver(client, wa_channel, "status__read_whatsapp.txt")
    process_all()
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.READ


def test_status__undelivered_30007(client, sms_channel, agent, provider_stub):
    outbound = sent_reply(
        client, sms_channel, agent, provider_stub("twilio"), inbound="sms__text_polish.txt", sid=SMS_SID_OUT
    )
    deliver(client, sms_channel, "status__undelivered_30007.txt")
    process_all()
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.FAILED
    assert outbound.error == "Twilio undelivered, error 30007"


def test_status__failed_21610(client, sms_channel, agent, provider_stub):
    outbound = sent_reply(
        client, sms_channel, agent, provider_stub("twilio"), inbound="sms__text_polish.txt", sid=SMS_SID_OUT
    )
    deliver(client, sms_channel, "status__failed_21610.txt")
    process_all()
    outbound.refresh_from_db()
    assert (outbound.status, outbound.error) == (OutboundStatus.FAILED, "Twilio failed, error 21610")


def test_status__queued(client, sms_channel):
    deliver(client, sms_channel, "status__queued.txt")
    (event,) = process_all()
    assert event.status == InboundStatus.IGNORED
    assert "queued" in event.error


def test_status_callbacks_out_of_order_end_delivered(client, sms_channel, agent, provider_stub):
    outbound = sent_reply(
        client, sms_channel, agent, provider_stub("twilio"), inbound="sms__text_polish.txt", sid=SMS_SID_OUT
    )
    assert deliver(client, sms_channel, "status__delivered.txt").status_code == 200
    assert deliver(client, sms_channel, "status__sent.txt").status_code == 200
    process_all()
    # Both callbacks are kept (different status, different dedup key), the late "sent" changes nothing.
    assert InboundEvent.objects.filter(dedup_key__startswith="status:").count() == 2
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.DELIVERED


def test_duplicate_delivery_is_stored_once(client, sms_channel):
    for _ in range(3):
        assert deliver(client, sms_channel, "sms__text_polish.txt").status_code == 200
    assert InboundEvent.objects.count() == 1
    process_all()
    assert Message.objects.count() == 1


@pytest.mark.parametrize("token", ["0000000000000000000000000000000a", None])
def test_bad_or_missing_signature_is_403_and_stores_nothing(client, sms_channel, token):
    response = deliver(client, sms_channel, "sms__text_polish.txt", token=token or "", sign=token is not None)
    assert response.status_code == 403
    assert not InboundEvent.objects.exists()


def test_signature_valid_behind_proxy(client, sms_channel):
    # Django sees http://testserver; Twilio signed the public https URL, and that is what must count.
    assert deliver(client, sms_channel, "sms__text_polish.txt", base=PUBLIC).status_code == 200
    assert deliver(client, sms_channel, "sms__text_russian.txt", base="http://testserver").status_code == 403
    assert InboundEvent.objects.count() == 1


def test_invalid__missing_from(client, sms_channel):
    assert deliver(client, sms_channel, "invalid__missing_from.txt").status_code == 200
    (event,) = process_all()
    assert event.status == InboundStatus.FAILED
    assert event.error == "inbound message: missing 'From'"
    assert bytes(event.body) == fixture_bytes("twilio", "invalid__missing_from.txt")
    assert not Message.objects.exists()


def test_invalid__account_mismatch(client, sms_channel):
    assert deliver(client, sms_channel, "invalid__account_mismatch.txt").status_code == 403
    assert not InboundEvent.objects.exists()


def test_whatsapp_on_sms_channel_is_stored_failed(client, sms_channel):
    deliver(client, sms_channel, "whatsapp__text.txt")
    (event,) = process_all()
    assert event.status == InboundStatus.FAILED
    assert "SMS channel" in event.error


def test_sms_reply_goes_out_through_the_messages_api(client, sms_channel, agent, provider_stub):
    stub = provider_stub("twilio")
    outbound = sent_reply(client, sms_channel, agent, stub, inbound="sms__text_polish.txt", sid=SMS_SID_OUT)
    (sent,) = stub.requests
    assert sent.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sent.headers["Authorization"].startswith("Basic ")
    assert sent.form() == {
        "To": "+48601234567",
        "From": "+48732100200",
        "Body": "OK",
        "StatusCallback": f"{PUBLIC}/webhooks/twilio/{sms_channel.pk}/",
    }
    outbound.refresh_from_db()
    assert outbound.provider_message_id == SMS_SID_OUT


def test_whatsapp_template_reply_sends_content_sid(client, wa_channel, agent, provider_stub):
    from tickets.replies import do_send_reply

    stub = provider_stub("twilio")
    stub.route("POST", r"/2010-04-01/Accounts/AC\w+/Messages\.json", lambda r: (201, {"sid": WA_SID_OUT}))
    deliver(client, wa_channel, "whatsapp__text.txt")
    process_all()
    reply = do_send_reply(
        conversation=only_message().conversation,
        author=agent,
        channel=wa_channel,
        text="",
        template={"content_sid": "HX4b7e0a3d6c9f2b5e8a1d4c7f0b3e6a9d", "variables": {"1": "4821"}},
    )
    assert do_send(outbound_id=OutboundMessage.objects.get(message=reply).pk) == OutboundStatus.SENT
    (sent,) = stub.requests
    form = sent.form()
    assert (form["To"], form["From"]) == ("whatsapp:+48512345678", "whatsapp:+48732100300")
    assert (form["ContentSid"], form["ContentVariables"]) == (
        "HX4b7e0a3d6c9f2b5e8a1d4c7f0b3e6a9d",
        '{"1": "4821"}',
    )
    assert "Body" not in form


def test_twilio_refusal_is_permanent_with_its_code_and_message(client, sms_channel, agent, provider_stub):
    from tickets.replies import do_send_reply

    stub = provider_stub("twilio")
    refusal = {
        "code": 21610,
        "message": "Attempt to send to unsubscribed recipient",
        "more_info": "https://www.twilio.com/docs/errors/21610",
        "status": 400,
    }
    stub.route("POST", r"/2010-04-01/Accounts/AC\w+/Messages\.json", lambda r: (400, refusal))
    deliver(client, sms_channel, "sms__text_polish.txt")
    process_all()
    reply = do_send_reply(
        conversation=only_message().conversation, author=agent, channel=sms_channel, text="Hi"
    )
    outbound = OutboundMessage.objects.get(message=reply)
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.FAILED
    outbound.refresh_from_db()
    assert outbound.error.startswith("Twilio error 21610: Attempt to send to unsubscribed recipient")


def test_twilio_overload_is_temporary(client, sms_channel, agent, provider_stub):
    from channels_app.outbound import RetryLater
    from tickets.replies import do_send_reply

    stub = provider_stub("twilio")
    busy = {"code": 20429, "message": "Too Many Requests", "status": 429}
    stub.route("POST", r"/2010-04-01/Accounts/AC\w+/Messages\.json", lambda r: (429, busy))
    deliver(client, sms_channel, "sms__text_polish.txt")
    process_all()
    reply = do_send_reply(
        conversation=only_message().conversation, author=agent, channel=sms_channel, text="Hi"
    )
    outbound = OutboundMessage.objects.get(message=reply)
    with pytest.raises(RetryLater) as retry:
        do_send(outbound_id=outbound.pk)
    assert retry.value.delay == 5
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.QUEUED
    assert outbound.attempts == 1
    assert outbound.error.startswith("Twilio error 20429: Too Many Requests")
    # The last allowed attempt gives up: the message is failed and the agent is told.
    OutboundMessage.objects.filter(pk=outbound.pk).update(attempts=5)
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.FAILED
    outbound.refresh_from_db()
    assert (outbound.status, outbound.attempts) == (OutboundStatus.FAILED, 6)


def test_whatsapp_reply_uses_whatsapp_addresses(client, wa_channel, agent, provider_stub):
    stub = provider_stub("twilio")
    sent_reply(client, wa_channel, agent, stub, inbound="whatsapp__text.txt", sid=WA_SID_OUT)
    form = stub.requests[0].form()
    assert (form["To"], form["From"], form["Body"]) == (
        "whatsapp:+48512345678",
        "whatsapp:+48732100300",
        "OK",
    )
    assert form["StatusCallback"] == f"{PUBLIC}/webhooks/twilio/{wa_channel.pk}/"


def test_media_is_fetched_with_the_account_credentials(sms_channel):
    from channels_app.adapters.base import get_adapter

    adapter = get_adapter("twilio")
    assert adapter is not None
    source = adapter.resolve_media(
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", sms_channel
    )
    assert source.auth == (ACCOUNT_SID, AUTH_TOKEN)
