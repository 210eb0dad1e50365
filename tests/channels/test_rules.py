"""Channel rules with exact figures: SMS segments, and the WhatsApp 24-hour window as replies enforce it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.models import OutboundMessage
from channels_app.normalized import NormalizedMessage, Sender
from channels_app.rules import GSM7_BASIC, GSM7_EXTENSION, WindowState, sms_segments, whatsapp_window
from channels_app.services import do_create_channel
from profiles.models import IdentityKind
from tickets.models import Message
from tickets.replies import ReplyError, do_send_reply
from tickets.selectors import customer_whatsapp_window
from tickets.services import do_record_inbound_message

CREDENTIALS = {
    "account_sid": "AC3f8e2b7c91d04a6e8b5f1c2d7a9e0b41",
    "auth_token": "9f2c4e6a8b0d1f3e5a7c9b2d4f6e8a0c",
}


# --- SMS segments ----------------------------------------------------------------------------------


def test_gsm_alphabet_has_127_basic_and_10_extension_characters():
    # 128 code points minus ESC; the extension table adds form feed and ^{}\[~]|€.
    assert (len(GSM7_BASIC), len(GSM7_EXTENSION)) == (127, 10)


@pytest.mark.parametrize(
    ("text", "encoding", "segments", "chars", "per_segment"),
    [
        ("", "GSM-7", 0, 0, 160),
        ("a" * 160, "GSM-7", 1, 160, 160),
        ("a" * 161, "GSM-7", 2, 161, 153),
        ("a" * 306, "GSM-7", 2, 306, 153),
        ("a" * 307, "GSM-7", 3, 307, 153),
        ("Zażółć gęślą jaźń", "UCS-2", 1, 17, 70),
        ("ж" * 70, "UCS-2", 1, 70, 70),
        ("ж" * 71, "UCS-2", 2, 71, 67),
        ("ж" * 134, "UCS-2", 2, 134, 67),
        ("ж" * 135, "UCS-2", 3, 135, 67),
        ("€", "GSM-7", 1, 2, 160),
        ("€" * 80, "GSM-7", 1, 160, 160),
        ("€" * 81, "GSM-7", 2, 162, 153),
        ("Cena: 5€ [promocja] {kod} ~ok|^\\", "GSM-7", 1, 41, 160),
        ("Über? ñ, à, É, ß, Ø: all GSM-7 @ £ ¥ §", "GSM-7", 1, 38, 160),
        ("🙂", "UCS-2", 1, 2, 70),
        ("🙂" * 35, "UCS-2", 1, 70, 70),
        ("🙂" * 36, "UCS-2", 2, 72, 67),
        ("line one\nline two\r\n", "GSM-7", 1, 19, 160),
    ],
)
def test_sms_segments(text, encoding, segments, chars, per_segment):
    info = sms_segments(text)
    assert (info.encoding, info.segments, info.chars, info.per_segment) == (
        encoding,
        segments,
        chars,
        per_segment,
    )


def test_one_polish_letter_forces_ucs2():
    assert sms_segments("a" * 69 + "ż").encoding == "UCS-2"
    assert sms_segments("a" * 70 + "ż").segments == 2  # 71 characters: the 160-character budget is gone
    assert sms_segments("zażółć").encoding == "UCS-2"


def test_an_escape_pair_never_straddles_two_segments():
    # 306 septets would fit two segments of 153, but the euro sign at 153-154 cannot be split.
    text = "a" * 152 + "€" + "a" * 152
    assert (sms_segments(text).chars, sms_segments(text).segments) == (306, 3)


def test_a_surrogate_pair_never_straddles_two_segments():
    text = "ж" * 66 + "🙂" + "ж" * 66
    assert (sms_segments(text).chars, sms_segments(text).segments) == (134, 3)


def test_cyrillic_sms_from_the_fixture_is_two_ucs2_segments():
    text = (
        "Здравствуйте! Посылка пришла повреждённой, коробка вскрыта. "
        "Прошу оформить возврат и сообщить номер заявки."
    )
    info = sms_segments(text)
    assert (info.encoding, info.chars, info.segments) == ("UCS-2", 107, 2)


# --- WhatsApp window -------------------------------------------------------------------------------


def test_window_rule_without_an_inbound_message_is_closed_with_no_end():
    assert whatsapp_window(last_inbound_at=None) == WindowState(open=False, closes_at=None)


def test_window_rule_closes_exactly_24_hours_after_the_last_inbound_message():
    last = timezone.now() - timedelta(hours=30)
    closes_at = last + timedelta(hours=24)
    assert whatsapp_window(last_inbound_at=last) == WindowState(open=False, closes_at=closes_at)
    assert whatsapp_window(last_inbound_at=last, now=closes_at).open is False
    assert whatsapp_window(last_inbound_at=last, now=closes_at - timedelta(seconds=1)).open is True
    recent = timezone.now() - timedelta(hours=2)
    assert whatsapp_window(last_inbound_at=recent).open is True


@pytest.fixture
def wa_channel(db):
    return do_create_channel(
        kind="whatsapp",
        name="Acme WhatsApp",
        address="+48732100300",
        config={"provider": "twilio"},
        credentials=CREDENTIALS,
    )


@pytest.fixture
def sms_channel(db):
    return do_create_channel(kind="sms", name="Acme SMS", address="+48732100200", credentials=CREDENTIALS)


def inbound(channel, *, hours_ago: float, sid: str, kind=IdentityKind.WHATSAPP, value="+48512345678"):
    return do_record_inbound_message(
        channel=channel,
        message=NormalizedMessage(
            sender=Sender(kind=kind, value=value, display="Agnieszka Wójcik"),
            provider_message_id=sid,
            text="Dzień dobry",
            sent_at=timezone.now() - timedelta(hours=hours_ago),
        ),
    )


def test_window_is_closed_when_the_customer_never_wrote_here(wa_channel, sms_channel):
    message = inbound(sms_channel, hours_ago=1, sid="SM1", kind=IdentityKind.PHONE, value="+48512345678")
    state = customer_whatsapp_window(channel=wa_channel, conversation=message.conversation)
    assert (state.open, state.closes_at) == (False, None)


def test_window_is_open_24_hours_after_the_last_inbound_message(wa_channel):
    first = inbound(wa_channel, hours_ago=30, sid="SM1")
    last = inbound(wa_channel, hours_ago=2, sid="SM2")
    customer = last.conversation.customer
    state = customer_whatsapp_window(channel=wa_channel, customer=customer)
    assert state.closes_at == last.created_at + timedelta(hours=24)
    assert state.open is True
    assert first.created_at < last.created_at
    # Exactly at the 24th hour it is over.
    assert customer_whatsapp_window(channel=wa_channel, customer=customer, now=state.closes_at).open is False
    just_before = state.closes_at - timedelta(seconds=1)
    assert customer_whatsapp_window(channel=wa_channel, customer=customer, now=just_before).open is True
    # The conversation form asks the same question.
    assert customer_whatsapp_window(channel=wa_channel, conversation=last.conversation) == state


def test_window_counts_only_this_numbers_inbound_messages(wa_channel, agent):
    message = inbound(wa_channel, hours_ago=25, sid="SM1")
    other = do_create_channel(
        kind="whatsapp", name="Other number", address="+48732100999", config={"provider": "twilio"}
    )
    inbound(other, hours_ago=1, sid="SM2")
    # Our own replies do not reopen it either.
    do_send_reply(
        conversation=message.conversation, author=agent, channel=wa_channel, text="", template={"name": "HX1"}
    )
    state = customer_whatsapp_window(channel=wa_channel, conversation=message.conversation)
    assert state.open is False
    assert state.closes_at == message.created_at + timedelta(hours=24)


def test_window_needs_a_customer_or_conversation(wa_channel):
    with pytest.raises(ValueError):
        customer_whatsapp_window(channel=wa_channel)


# --- Replies -------------------------------------------------------------------------------------


def test_free_text_inside_the_window_is_sent(wa_channel, agent):
    message = inbound(wa_channel, hours_ago=23.9, sid="SM1")
    reply = do_send_reply(conversation=message.conversation, author=agent, channel=wa_channel, text="Jasne!")
    outbound = OutboundMessage.objects.get(message=reply)
    assert (outbound.recipient, outbound.payload) == ("+48512345678", {"text": "Jasne!"})


def test_free_text_outside_the_window_is_refused(wa_channel, agent):
    message = inbound(wa_channel, hours_ago=24.1, sid="SM1")
    with pytest.raises(ReplyError, match="24-hour WhatsApp window closed"):
        do_send_reply(conversation=message.conversation, author=agent, channel=wa_channel, text="Jasne!")
    assert not Message.objects.filter(direction="out").exists()
    assert not OutboundMessage.objects.exists()


def test_free_text_to_someone_who_never_wrote_on_whatsapp_is_refused(wa_channel, sms_channel, agent):
    from profiles.models import Identity

    message = inbound(sms_channel, hours_ago=1, sid="SM1", kind=IdentityKind.PHONE)
    Identity.objects.create(customer=message.conversation.customer, kind="whatsapp", value="+48512345678")
    with pytest.raises(ReplyError, match="only an approved template"):
        do_send_reply(conversation=message.conversation, author=agent, channel=wa_channel, text="Hej")


def test_template_outside_the_window_is_allowed(wa_channel, agent):
    message = inbound(wa_channel, hours_ago=72, sid="SM1")
    template = {"content_sid": "HX4b7e0a3d6c9f2b5e8a1d4c7f0b3e6a9d", "variables": {"1": "4821"}}
    reply = do_send_reply(
        conversation=message.conversation, author=agent, channel=wa_channel, text="", template=template
    )
    outbound = OutboundMessage.objects.get(message=reply)
    assert outbound.payload == {"text": "", "template": template}
    assert reply.metadata["template"] == template
    assert reply.body == "[Template: HX4b7e0a3d6c9f2b5e8a1d4c7f0b3e6a9d — 1=4821]"


def test_template_through_sms_is_refused(sms_channel, agent):
    message = inbound(sms_channel, hours_ago=1, sid="SM1", kind=IdentityKind.PHONE)
    with pytest.raises(ReplyError, match="only be sent through WhatsApp"):
        do_send_reply(
            conversation=message.conversation,
            author=agent,
            channel=sms_channel,
            text="",
            template={"name": "order_update"},
        )


def test_template_without_a_name_is_refused(wa_channel, agent):
    message = inbound(wa_channel, hours_ago=1, sid="SM1")
    with pytest.raises(ReplyError, match="Choose which approved template"):
        do_send_reply(
            conversation=message.conversation, author=agent, channel=wa_channel, text="", template={}
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Paczka wyjdzie jutro.", {"encoding": "GSM-7", "segments": 1}),
        ("Przesyłka dotrze jutro, przepraszamy za opóźnienie! " * 2, {"encoding": "UCS-2", "segments": 2}),
    ],
)
def test_sms_reply_records_its_segments(sms_channel, agent, text, expected):
    message = inbound(sms_channel, hours_ago=100, sid="SM1", kind=IdentityKind.PHONE)
    reply = do_send_reply(conversation=message.conversation, author=agent, channel=sms_channel, text=text)
    assert reply.metadata["sms"] == expected


def test_other_channels_keep_their_behaviour(agent, db):
    channel = do_create_channel(kind="telegram", name="Bot", credentials={"bot_token": "1:x"})
    message = inbound(channel, hours_ago=500, sid="1:1", kind=IdentityKind.TELEGRAM, value="284716392")
    reply = do_send_reply(conversation=message.conversation, author=agent, channel=channel, text="Hi")
    assert reply.metadata == {}
    with pytest.raises(ReplyError):
        do_send_reply(conversation=message.conversation, author=agent, channel=channel, text="  ")
