"""In-channel survey answers through the real webhook → InboundEvent → worker pipeline, one per path."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.adapters.meta import sign as meta_sign
from channels_app.adapters.twilio import form_params
from channels_app.adapters.twilio import signature as twilio_signature
from channels_app.models import Channel, InboundEvent, InboundStatus, OutboundMessage
from channels_app.normalized import NormalizedMessage, Sender
from channels_app.services import do_create_channel
from profiles.models import Customer, Identity, IdentityKind
from surveys.chat_answers import button_payload
from surveys.invitation_models import Invitation, InvitationStatus, Medium, TriggerKind
from surveys.models import SurveyKind, SurveyResponse
from tests.pipeline import fixture_bytes, post_webhook, process_all
from tests.surveys import factories
from tickets.models import Conversation, Message

pytestmark = pytest.mark.django_db
PUBLIC = "https://cx.example.com"
TWILIO_SID = "AC3f8e2b7c91d04a6e8b5f1c2d7a9e0b41"
TWILIO_TOKEN = "9f2c4e6a8b0d1f3e5a7c9b2d4f6e8a0c"
APP_SECRET = "meta-app-secret-5f0c2a8c8f1c6c4f"
TG_SECRET = "tg-webhook-secret-0123456789"
# The fixtures' button payloads were made for this invitation id and token (see test_fixture_payloads).
INVITATION_ID = 90417
TOKEN = "Hq7mZ2wV9cX4rT1yB6nK3pL8sD0fG5jA-survey-test-token"
SMS_FROM = "+48601234567"


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC


def twilio_sms() -> Channel:
    return do_create_channel(
        kind="sms",
        name="Acme SMS",
        address="+48732100200",
        credentials={"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN},
    )


def meta_channel(kind: str) -> Channel:
    secrets = {"app_secret": APP_SECRET, "verify_token": "meta-verify-token-31415926"}
    if kind == "whatsapp":
        return do_create_channel(
            kind="whatsapp",
            name="Acme WhatsApp",
            address="+48 22 123 45 67",
            config={"provider": "meta", "phone_number_id": "110384756291047"},
            credentials={"access_token": "EAAGwaFake", **secrets},
        )
    if kind == "messenger":
        return do_create_channel(
            kind="messenger",
            name="Acme Page",
            config={"page_id": "112233445566778"},
            credentials={"page_access_token": "EAAGpageFake", **secrets},
        )
    return do_create_channel(
        kind="instagram",
        name="Acme Instagram",
        address="17841405822304914",
        credentials={"page_access_token": "EAAGpageFake", **secrets},
    )


def telegram_channel() -> Channel:
    return do_create_channel(
        kind="telegram",
        name="Acme Bot",
        credentials={"bot_token": "7000000001:AAFakeTokenForTests", "webhook_secret": TG_SECRET},
    )


def person(kind: str, value: str) -> Customer:
    customer = factories.customer(phone="")
    Identity.objects.create(customer=customer, kind=kind, value=value)
    return customer


def sent_invitation(
    channel: Channel,
    customer: Customer,
    recipient: str,
    *,
    kind: str = SurveyKind.NPS,
    pk: int | None = INVITATION_ID,
    expires_in: timedelta = timedelta(days=7),
    **survey_extra,
) -> Invitation:
    now = timezone.now()
    return Invitation.objects.create(
        pk=pk,
        survey=factories.survey(kind, **survey_extra),
        customer=customer,
        token=TOKEN if pk == INVITATION_ID else f"token-{recipient}-{now.timestamp()}",
        medium=channel.kind,
        trigger=TriggerKind.MANUAL,
        status=InvitationStatus.SENT,
        channel=channel,
        recipient=recipient,
        locale="en",
        sent_at=now - timedelta(minutes=5),
        expires_at=now - timedelta(minutes=5) + expires_in,
    )


def post_twilio(client, channel: Channel, name: str):
    body = fixture_bytes("twilio", name)
    path = f"/webhooks/twilio/{channel.pk}/"
    sig = twilio_signature(TWILIO_TOKEN, PUBLIC + path, form_params(body))
    return post_webhook(
        client,
        "twilio",
        channel.pk,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=sig,
    )


def post_meta(client, channel: Channel, name: str, *, body: bytes | None = None):
    raw = fixture_bytes("meta", name) if body is None else body
    return post_webhook(
        client,
        "meta",
        channel.pk,
        raw,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=meta_sign(APP_SECRET, raw),
    )


def post_telegram(client, channel: Channel, body: bytes):
    return post_webhook(
        client,
        "telegram",
        channel.pk,
        body,
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=TG_SECRET,
    )


def assert_answered(invitation: Invitation, *, score: int, medium: str) -> SurveyResponse:
    (event,) = InboundEvent.objects.all()
    assert event.status == InboundStatus.DONE, event.error
    response = SurveyResponse.objects.get(invitation=invitation)
    assert (response.score, response.medium, response.channel_id) == (score, medium, invitation.channel_id)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ANSWERED
    # The answer is not a support request: no message, no conversation (a detractor's follow-up aside).
    assert not Message.objects.exists()
    assert not Conversation.objects.exclude(survey_follow_ups__response=response).exists()
    (thanks,) = OutboundMessage.objects.all()
    assert (thanks.recipient, thanks.payload["text"]) == (invitation.recipient, "Thank you for your answer!")
    return response


def test_fixture_payloads_are_this_invitations_buttons():
    invitation = Invitation(pk=INVITATION_ID, token=TOKEN)
    assert button_payload(invitation, 8) == "svy:90417:8:8LwiTyxUaPBj"
    assert len(button_payload(Invitation(pk=10**15, token=TOKEN), 10).encode()) <= 64  # Telegram's limit


# --- SMS: a typed number -------------------------------------------------------------------------


def test_sms__survey_digit(client):
    channel = twilio_sms()
    invitation = sent_invitation(channel, factories.customer(), SMS_FROM)
    assert post_twilio(client, channel, "sms__survey_digit.txt").status_code == 200
    process_all()
    assert_answered(invitation, score=9, medium=Medium.SMS)


def test_sms__survey_score_of_ten(client):
    channel = twilio_sms()
    invitation = sent_invitation(channel, factories.customer(), SMS_FROM)
    post_twilio(client, channel, "sms__survey_score_of_ten.txt")
    process_all()
    assert_answered(invitation, score=9, medium=Medium.SMS)


def test_sms_digit_is_recorded_once_however_often_twilio_delivers_it(client):
    channel = twilio_sms()
    invitation = sent_invitation(channel, factories.customer(), SMS_FROM)
    for _ in range(3):
        assert post_twilio(client, channel, "sms__survey_digit.txt").status_code == 200
    process_all()
    assert_answered(invitation, score=9, medium=Medium.SMS)


def test_sms_number_off_the_scale_is_asked_again_and_opens_nothing(client):
    channel = twilio_sms()
    invitation = sent_invitation(channel, factories.customer(), SMS_FROM)
    post_twilio(client, channel, "sms__survey_out_of_range.txt")
    (event,) = process_all()
    assert event.status == InboundStatus.DONE
    assert not SurveyResponse.objects.exists() and not Conversation.objects.exists()
    (ask,) = OutboundMessage.objects.all()
    assert ask.payload["text"] == "Please reply with a number from 0 to 10."
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT


def test_sms_digit_without_an_invitation_is_an_ordinary_message(client):
    channel = twilio_sms()
    factories.customer()
    post_twilio(client, channel, "sms__survey_digit.txt")
    (event,) = process_all()
    assert event.status == InboundStatus.DONE
    (message,) = Message.objects.all()
    assert message.body == "9"
    assert not SurveyResponse.objects.exists()


def test_sms_digit_long_after_expiry_is_an_ordinary_message(client):
    channel = twilio_sms()
    invitation = sent_invitation(
        channel, factories.customer(), SMS_FROM, expires_in=timedelta(minutes=5) - timedelta(days=3)
    )
    post_twilio(client, channel, "sms__survey_digit.txt")
    process_all()
    assert Message.objects.get().body == "9"
    assert not SurveyResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT


def test_sms_digit_just_after_expiry_gets_a_polite_no(client):
    channel = twilio_sms()
    sent_invitation(channel, factories.customer(), SMS_FROM, expires_in=timedelta(minutes=4))
    post_twilio(client, channel, "sms__survey_digit.txt")
    process_all()
    assert not Message.objects.exists() and not SurveyResponse.objects.exists()
    assert OutboundMessage.objects.get().payload["text"] == "Sorry, this survey has closed."


def test_sms_second_digit_after_an_answer_is_not_a_second_answer(client):
    channel = twilio_sms()
    invitation = sent_invitation(channel, factories.customer(), SMS_FROM)
    post_twilio(client, channel, "sms__survey_digit.txt")
    post_twilio(client, channel, "sms__survey_score_of_ten.txt")
    process_all()
    assert SurveyResponse.objects.get(invitation=invitation).score == 9
    assert not Message.objects.exists()
    texts = list(OutboundMessage.objects.order_by("id").values_list("payload__text", flat=True))
    assert texts == ["Thank you for your answer!", "Thank you, we already have your answer to this survey."]


def test_sms_text_answer_is_an_ordinary_message(client):
    channel = twilio_sms()
    invitation = sent_invitation(channel, factories.customer(), SMS_FROM)
    post_twilio(client, channel, "sms__text_polish.txt")
    (event,) = process_all()
    assert event.status == InboundStatus.DONE
    assert Message.objects.get().body.startswith("Dzień dobry")
    assert not SurveyResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT


def test_sms_digit_from_another_number_does_not_answer(client):
    channel = twilio_sms()
    invitation = sent_invitation(channel, factories.customer(phone="+48601999888"), "+48601999888")
    post_twilio(client, channel, "sms__survey_digit.txt")
    process_all()
    assert Message.objects.get().body == "9"
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT


# --- Buttons ---------------------------------------------------------------------------------------


def test_whatsapp_message__survey_list_reply(client):
    channel = meta_channel("whatsapp")
    customer = person(IdentityKind.WHATSAPP, "+79161234567")
    invitation = sent_invitation(channel, customer, "+79161234567", kind=SurveyKind.CSAT)
    post_meta(client, channel, "whatsapp_message__survey_list_reply.json")
    process_all()
    assert_answered(invitation, score=4, medium=Medium.WHATSAPP)


def test_whatsapp_message__survey_button_reply(client):
    channel = meta_channel("whatsapp")
    customer = person(IdentityKind.WHATSAPP, "+79161234567")
    invitation = sent_invitation(channel, customer, "+79161234567", kind=SurveyKind.CSAT, scale_max=3)
    post_meta(client, channel, "whatsapp_message__survey_button_reply.json")
    process_all()
    assert_answered(invitation, score=3, medium=Medium.WHATSAPP)


def test_whatsapp_typed_number_answers_an_nps_asked_as_text(client):
    """Eleven NPS choices do not fit a WhatsApp list (ten rows at most), so NPS is asked as text."""
    channel = meta_channel("whatsapp")
    customer = person(IdentityKind.WHATSAPP, "+79161234567")
    invitation = sent_invitation(channel, customer, "+79161234567")
    body = json.loads(fixture_bytes("meta", "whatsapp_message__text.json"))
    body["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "10"
    post_meta(client, channel, "", body=json.dumps(body).encode())
    process_all()
    assert_answered(invitation, score=10, medium=Medium.WHATSAPP)


def test_messenger_message__survey_quick_reply(client):
    channel = meta_channel("messenger")
    customer = person(IdentityKind.MESSENGER, "6743829105523417")
    invitation = sent_invitation(channel, customer, "6743829105523417")
    post_meta(client, channel, "messenger_message__survey_quick_reply.json")
    process_all()
    assert_answered(invitation, score=9, medium=Medium.MESSENGER)


def test_instagram_message__survey_quick_reply(client):
    channel = meta_channel("instagram")
    customer = person(IdentityKind.INSTAGRAM, "5839201746638291")
    invitation = sent_invitation(channel, customer, "5839201746638291")
    post_meta(client, channel, "instagram_message__survey_quick_reply.json")
    process_all()
    assert_answered(invitation, score=10, medium=Medium.INSTAGRAM)


def test_telegram_callback_query__survey_score(client):
    channel = telegram_channel()
    customer = person(IdentityKind.TELEGRAM, "284716392")
    invitation = sent_invitation(channel, customer, "284716392")
    post_telegram(client, channel, fixture_bytes("telegram", "callback_query__survey_score.json"))
    process_all()
    assert_answered(invitation, score=8, medium=Medium.TELEGRAM)


def test_forged_button_payload_is_not_an_answer(client):
    channel = meta_channel("messenger")
    customer = person(IdentityKind.MESSENGER, "6743829105523417")
    invitation = sent_invitation(channel, customer, "6743829105523417")
    # A customer who saw the payload of 9 tries to turn it into a 10 without the key.
    body = fixture_bytes("meta", "messenger_message__survey_quick_reply.json").replace(
        b"svy:90417:9:", b"svy:90417:10:"
    )
    post_meta(client, channel, "", body=body)
    (event,) = process_all()
    assert event.status == InboundStatus.DONE
    assert not SurveyResponse.objects.exists()
    assert Message.objects.get().metadata["callback_data"].startswith("svy:90417:10:")
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT


def test_unknown_invitation_in_a_button_is_not_an_answer(client):
    channel = telegram_channel()
    person(IdentityKind.TELEGRAM, "284716392")
    post_telegram(client, channel, fixture_bytes("telegram", "callback_query__survey_score.json"))
    (event,) = process_all()
    assert event.status == InboundStatus.DONE
    assert not SurveyResponse.objects.exists()
    assert Message.objects.count() == 1


def test_button_pressed_by_someone_else_is_not_an_answer(client):
    channel = telegram_channel()
    customer = person(IdentityKind.TELEGRAM, "111222333")
    invitation = sent_invitation(channel, customer, "111222333")
    post_telegram(client, channel, fixture_bytes("telegram", "callback_query__survey_score.json"))
    process_all()
    assert not SurveyResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT


def test_button_of_an_expired_invitation_gets_a_polite_no(client):
    channel = telegram_channel()
    customer = person(IdentityKind.TELEGRAM, "284716392")
    sent_invitation(channel, customer, "284716392", expires_in=timedelta(minutes=1))
    post_telegram(client, channel, fixture_bytes("telegram", "callback_query__survey_score.json"))
    (event,) = process_all()
    assert event.status == InboundStatus.DONE
    assert not SurveyResponse.objects.exists() and not Message.objects.exists()
    assert OutboundMessage.objects.get().payload["text"] == "Sorry, this survey has closed."


def test_bare_numbers_and_buttons_leave_the_batch_path():
    sender = Sender(kind=IdentityKind.PHONE, value=SMS_FROM)
    for text in ("9", " 9 ", "9/10", "10!", "7 / 7"):
        assert not NormalizedMessage(sender=sender, provider_message_id="x", text=text).plain
    for text in ("Order 9", "123", "9 please", ""):
        assert NormalizedMessage(sender=sender, provider_message_id="x", text=text).plain
    button = NormalizedMessage(sender=sender, provider_message_id="x", text="Yes", metadata={"button": True})
    assert not button.plain


def test_a_run_of_ordinary_messages_and_an_answer_keeps_both_right(client):
    channel = twilio_sms()
    invitation = sent_invitation(channel, factories.customer(), SMS_FROM)
    post_twilio(client, channel, "sms__text_polish.txt")
    post_twilio(client, channel, "sms__survey_digit.txt")
    events = process_all()
    assert [e.status for e in events] == [InboundStatus.DONE, InboundStatus.DONE]
    assert Message.objects.get().body.startswith("Dzień dobry")
    assert SurveyResponse.objects.get(invitation=invitation).score == 9


def test_telegram_round_trip_with_the_button_we_sent(client, provider_stub):
    """The payload the invitation carried, pressed, answers it: nothing fixed in between."""
    from channels_app.outbound import do_send
    from surveys.delivery import do_send_due_invitations

    stub = provider_stub("telegram")
    stub.route("POST", r"/bot.+/sendMessage", lambda r: (200, {"ok": True, "result": {"message_id": 77}}))
    channel = telegram_channel()
    customer = person(IdentityKind.TELEGRAM, "284716392")
    now = timezone.now()
    invitation = Invitation.objects.create(
        survey=factories.survey(),
        customer=customer,
        token="round-trip-token-" + "x" * 20,
        medium=Medium.TELEGRAM,
        trigger=TriggerKind.MANUAL,
        send_at=now,
        expires_at=now + timedelta(days=7),
    )
    assert do_send_due_invitations() == 1
    do_send(outbound_id=OutboundMessage.objects.get().pk)
    (sent,) = stub.requests
    seven = next(k for row in sent.json()["reply_markup"]["inline_keyboard"] for k in row if k["text"] == "7")
    update = {
        "update_id": 815160099,
        "callback_query": {
            "id": "99",
            "from": {"id": 284716392, "is_bot": False, "first_name": "Дмитрий"},
            "message": {"message_id": 77, "chat": {"id": 284716392, "type": "private"}, "date": 1763800900},
            "chat_instance": "-1",
            "data": seven["callback_data"],
        },
    }
    post_telegram(client, channel, json.dumps(update).encode())
    process_all()
    response = SurveyResponse.objects.get(invitation=invitation)
    assert (response.score, response.medium) == (7, Medium.TELEGRAM)
    assert not Message.objects.exists()
