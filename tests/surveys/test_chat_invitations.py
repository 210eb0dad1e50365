"""Sending survey invitations in chat channels: the queued payload per medium and the provider request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.models import Channel, OutboundMessage, OutboundStatus
from channels_app.outbound import do_send
from channels_app.rules import sms_segments
from channels_app.services import do_create_channel
from profiles.models import Customer, Identity, IdentityKind
from surveys import delivery
from surveys.chat_answers import button_payload
from surveys.invitation_models import Invitation, InvitationStatus, Medium, TriggerKind
from surveys.models import ScaleStyle, SurveyKind
from tests.surveys import factories
from tickets.models import Conversation, Direction, Message

pytestmark = pytest.mark.django_db
TWILIO = {
    "account_sid": "AC3f8e2b7c91d04a6e8b5f1c2d7a9e0b41",
    "auth_token": "9f2c4e6a8b0d1f3e5a7c9b2d4f6e8a0c",
}
META = {"app_secret": "meta-app-secret", "verify_token": "meta-verify-token"}
PHONE_NUMBER_ID = "110384756291047"
NPS_QUESTION = "How likely are you to recommend us to a friend or colleague?"


def pending(customer: Customer, medium: str, *, channel: Channel | None = None, **survey_extra) -> Invitation:
    now = timezone.now()
    kind = survey_extra.pop("kind", SurveyKind.NPS)
    return Invitation.objects.create(
        survey=factories.survey(kind, **survey_extra),
        customer=customer,
        token=f"chat-invitation-token-{medium}-{now.timestamp()}",
        medium=medium,
        trigger=TriggerKind.MANUAL,
        channel=channel,
        locale=customer.locale or "en",
        send_at=now,
        expires_at=now + timedelta(days=14),
    )


def send_due(invitation: Invitation) -> Invitation:
    """The sweep, as the periodic task runs it; each test has this one invitation due."""
    delivery.do_send_due_invitations()
    invitation.refresh_from_db()
    return invitation


def person(kind: str, value: str, **extra) -> Customer:
    customer = factories.customer(phone="", **extra)
    Identity.objects.create(customer=customer, kind=kind, value=value)
    return customer


def wrote_recently(customer: Customer, channel: Channel) -> None:
    """An inbound message an hour ago: the WhatsApp 24-hour window is open."""
    at = timezone.now() - timedelta(hours=1)
    conversation = Conversation.objects.create(
        customer=customer, channel=channel, created_at=at, last_activity_at=at
    )
    Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=Direction.INBOUND,
        body="Dziękuję!",
        provider_message_id="wamid.recent",
        created_at=at,
    )


def meta_whatsapp() -> Channel:
    return do_create_channel(
        kind="whatsapp",
        name="Acme WhatsApp",
        address="+48221234567",
        config={"provider": "meta", "phone_number_id": PHONE_NUMBER_ID},
        credentials={"access_token": "EAAGwaFake", **META},
    )


def stub_meta(provider_stub):
    stub = provider_stub("meta")
    stub.route("POST", f"/{PHONE_NUMBER_ID}/messages", lambda r: (200, {"messages": [{"id": "wamid.OUT"}]}))
    stub.route("POST", r"/me/messages", lambda r: (200, {"recipient_id": "1", "message_id": "m_OUT"}))
    return stub


def queued() -> OutboundMessage:
    (outbound,) = OutboundMessage.objects.all()
    return outbound


def deliver(outbound: OutboundMessage) -> None:
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT


def test_sms_asks_for_a_number_within_two_segments(provider_stub):
    stub = provider_stub("twilio")
    stub.route("POST", r"/2010-04-01/Accounts/AC\w+/Messages\.json", lambda r: (201, {"sid": "SMout"}))
    channel = do_create_channel(
        kind="sms",
        name="Acme SMS",
        address="+48732100200",
        config={"default_region": "PL"},
        credentials=TWILIO,
    )
    invitation = send_due(pending(factories.customer(phone="601 234 567"), Medium.SMS))
    assert (invitation.status, invitation.channel_id) == (InvitationStatus.SENT, channel.pk)
    assert invitation.recipient == "+48601234567"  # normalized the way inbound senders are
    outbound = queued()
    assert outbound.message is None and outbound.recipient == "+48601234567"
    text = outbound.payload["text"]
    assert text == (
        f"{NPS_QUESTION}\nReply with a number from 0 to 10.\n0 = Not at all likely, 10 = Extremely likely"
    )
    assert "buttons" not in outbound.payload
    assert sms_segments(text).segments <= 2
    deliver(outbound)
    (sent,) = stub.requests
    assert sent.form()["To"] == "+48601234567"
    assert sent.form()["Body"] == text


def test_sms_drops_the_scale_words_rather_than_grow_past_two_segments():
    factories.sms_channel()
    question = {"ru": "Насколько вероятно, что вы порекомендуете нас своим друзьям или коллегам?"}
    customer = factories.customer(locale="ru")
    send_due(pending(customer, Medium.SMS, question=question))
    text = queued().payload["text"]
    assert text.startswith(question["ru"] + "\n")
    assert "=" not in text
    assert sms_segments(text).segments <= 2


def test_whatsapp_cloud_csat_goes_as_a_list_message(provider_stub):
    stub = stub_meta(provider_stub)
    channel = meta_whatsapp()
    customer = person(IdentityKind.WHATSAPP, "+79161234567")
    wrote_recently(customer, channel)
    invitation = send_due(
        pending(customer, Medium.WHATSAPP, kind=SurveyKind.CSAT, scale_style=ScaleStyle.WORDS)
    )
    outbound = queued()
    assert [b["title"] for b in outbound.payload["buttons"]] == [
        "Very unsatisfied",
        "Unsatisfied",
        "Neutral",
        "Satisfied",
        "Very satisfied",
    ]
    deliver(outbound)
    body = stub.requests[0].json()
    assert (body["to"], body["type"], body["interactive"]["type"]) == ("+79161234567", "interactive", "list")
    assert body["interactive"]["body"]["text"] == "How satisfied are you with the help you received?"
    (section,) = body["interactive"]["action"]["sections"]
    # Cloud API limits: at most 10 rows in all sections together, row titles up to 24 characters.
    assert [row["id"] for row in section["rows"]] == [button_payload(invitation, n) for n in range(1, 6)]
    assert all(len(row["title"]) <= 24 for row in section["rows"])
    assert 0 < len(body["interactive"]["action"]["button"]) <= 20


def test_whatsapp_cloud_three_point_csat_goes_as_reply_buttons(provider_stub):
    stub = stub_meta(provider_stub)
    channel = meta_whatsapp()
    customer = person(IdentityKind.WHATSAPP, "+79161234567")
    wrote_recently(customer, channel)
    invitation = send_due(pending(customer, Medium.WHATSAPP, kind=SurveyKind.CSAT, scale_max=3))
    deliver(queued())
    interactive = stub.requests[0].json()["interactive"]
    assert interactive["type"] == "button"
    assert [b["reply"]["id"] for b in interactive["action"]["buttons"]] == [
        button_payload(invitation, n) for n in (1, 2, 3)
    ]
    assert interactive["body"]["text"].endswith("\n1 = Very unsatisfied, 3 = Very satisfied")


def test_whatsapp_cloud_nps_has_eleven_choices_so_asks_for_a_number(provider_stub):
    stub = stub_meta(provider_stub)
    channel = meta_whatsapp()
    customer = person(IdentityKind.WHATSAPP, "+79161234567")
    wrote_recently(customer, channel)
    send_due(pending(customer, Medium.WHATSAPP))
    deliver(queued())
    body = stub.requests[0].json()
    assert body["type"] == "text"
    assert "Reply with a number from 0 to 10." in body["text"]["body"]


def test_whatsapp_through_twilio_asks_for_a_number(provider_stub):
    stub = provider_stub("twilio")
    stub.route("POST", r"/2010-04-01/Accounts/AC\w+/Messages\.json", lambda r: (201, {"sid": "SMwa"}))
    channel = do_create_channel(
        kind="whatsapp", name="WA", address="+48732100300", config={"provider": "twilio"}, credentials=TWILIO
    )
    customer = person(IdentityKind.WHATSAPP, "+48512345678")
    wrote_recently(customer, channel)
    send_due(pending(customer, Medium.WHATSAPP, kind=SurveyKind.CES))
    assert "buttons" not in queued().payload
    deliver(queued())
    form = stub.requests[0].form()
    assert form["To"] == "whatsapp:+48512345678"
    assert "Reply with a number from 1 to 7." in form["Body"]


def test_whatsapp_outside_the_window_is_not_sent():
    channel = meta_whatsapp()
    customer = person(IdentityKind.WHATSAPP, "+79161234567")
    invitation = send_due(pending(customer, Medium.WHATSAPP, channel=channel))
    assert invitation.status == InvitationStatus.FAILED
    assert "24-hour WhatsApp window" in invitation.reason
    assert not OutboundMessage.objects.exists()


def test_telegram_nps_goes_as_an_inline_keyboard(provider_stub):
    stub = provider_stub("telegram")
    stub.route("POST", r"/bot.+/sendMessage", lambda r: (200, {"ok": True, "result": {"message_id": 5}}))
    do_create_channel(kind="telegram", name="Bot", credentials={"bot_token": "7:AA", "webhook_secret": "s"})
    invitation = send_due(pending(person(IdentityKind.TELEGRAM, "284716392"), Medium.TELEGRAM))
    deliver(queued())
    body = stub.requests[0].json()
    assert body["chat_id"] == "284716392"
    assert body["text"] == f"{NPS_QUESTION}\n0 = Not at all likely, 10 = Extremely likely"
    keyboard = body["reply_markup"]["inline_keyboard"]
    assert [[key["text"] for key in row] for row in keyboard] == [
        ["0", "1", "2", "3", "4", "5"],
        ["6", "7", "8", "9", "10"],
    ]
    datas = [key["callback_data"] for row in keyboard for key in row]
    assert datas == [button_payload(invitation, n) for n in range(11)]
    assert all(1 <= len(data.encode()) <= 64 for data in datas)  # Bot API callback_data limit
    assert invitation.token not in "".join(datas)


@pytest.mark.parametrize("medium", [Medium.MESSENGER, Medium.INSTAGRAM])
def test_messenger_and_instagram_get_quick_replies(provider_stub, medium):
    stub = stub_meta(provider_stub)
    do_create_channel(
        kind=medium, name="Page", config={"page_id": "1"}, credentials={"page_access_token": "EA", **META}
    )
    customer = person(
        IdentityKind.MESSENGER if medium == Medium.MESSENGER else IdentityKind.INSTAGRAM, "6743829105"
    )
    invitation = send_due(pending(customer, medium))
    deliver(queued())
    body = stub.requests[0].json()
    assert body["recipient"] == {"id": "6743829105"}
    replies = body["message"]["quick_replies"]
    assert len(replies) == 11 <= 13
    assert replies[9] == {"content_type": "text", "title": "9", "payload": button_payload(invitation, 9)}


def test_emoji_csat_shows_the_emoji_on_the_buttons():
    do_create_channel(
        kind="messenger",
        name="Page",
        config={"page_id": "1"},
        credentials={"page_access_token": "EA", **META},
    )
    customer = person(IdentityKind.MESSENGER, "6743829105")
    send_due(pending(customer, Medium.MESSENGER, kind=SurveyKind.CSAT, scale_style=ScaleStyle.EMOJI))
    payload = queued().payload
    assert [b["title"] for b in payload["buttons"]] == ["😠", "🙁", "😐", "🙂", "😍"]
    assert payload["text"] == "How satisfied are you with the help you received?"


def test_the_conversations_channel_is_preferred_and_inactive_ones_skipped():
    first = factories.sms_channel("First")
    inactive = Channel.objects.create(kind="sms", name="Inactive", is_active=False)
    third = factories.sms_channel("Third")
    customer = factories.customer()
    now = timezone.now()
    conversation = Conversation.objects.create(
        customer=customer, channel=third, created_at=now, last_activity_at=now
    )
    invitation = pending(customer, Medium.SMS, channel=inactive)
    invitation.conversation = conversation
    invitation.save()
    assert send_due(invitation).channel_id == third.pk
    other = pending(customer, Medium.SMS, channel=inactive)
    assert send_due(other).channel_id == first.pk


def test_without_an_identity_or_a_channel_it_fails_with_a_reason():
    do_create_channel(kind="telegram", name="Bot", credentials={"bot_token": "7:AA", "webhook_secret": "s"})
    no_identity = send_due(pending(factories.customer(), Medium.TELEGRAM))
    assert (no_identity.status, no_identity.reason) == (
        InvitationStatus.FAILED,
        "The customer has no telegram identity.",
    )
    no_channel = send_due(pending(person(IdentityKind.MESSENGER, "674"), Medium.MESSENGER))
    assert (no_channel.status, no_channel.reason) == (
        InvitationStatus.FAILED,
        "No active messenger channel to send the survey through.",
    )
    assert not OutboundMessage.objects.exists()
