"""Telegram Bot API updates through the real webhook and pipeline, one test per fixture."""

from __future__ import annotations

import json

import pytest

from channels_app.models import InboundEvent, InboundStatus, OutboundMessage, OutboundStatus
from channels_app.outbound import do_send
from channels_app.services import do_create_channel
from tests.pipeline import fixture_bytes, post_webhook, process_all
from tickets.models import Attachment, AttachmentStatus, Message

pytestmark = pytest.mark.django_db
SECRET = "tg-webhook-secret-0123456789"


@pytest.fixture
def channel(db):
    return do_create_channel(
        kind="telegram",
        name="Acme Bot",
        credentials={"bot_token": "7000000001:AAFakeTokenForTests", "webhook_secret": SECRET},
    )


def deliver(client, channel, name, secret=SECRET):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    return post_webhook(
        client,
        "telegram",
        channel.pk,
        fixture_bytes("telegram", name),
        content_type="application/json",
        **headers,
    )


def only_message() -> Message:
    (message,) = Message.objects.select_related("conversation__customer")
    return message


def test_message__text(client, channel):
    assert deliver(client, channel, "message__text.json").status_code == 200
    (event,) = process_all()
    assert (event.status, event.dedup_key) == (InboundStatus.DONE, "update:815160001")
    message = only_message()
    assert message.body == "Здравствуйте! Где мой заказ №48213?"
    assert message.provider_message_id == "284716392:4521"
    assert message.conversation.customer.name == "Дмитрий Соколов"
    assert message.conversation.customer.identities.get().value == "284716392"


def test_message__photo_caption(client, channel):
    deliver(client, channel, "message__photo_caption.json")
    process_all()
    message = only_message()
    assert message.body == "Коробка пришла повреждённой"
    (attachment,) = Attachment.objects.filter(message=message)
    # The largest size is kept, fetched later from Telegram by file id.
    assert attachment.source_url == "telegram-file:AgACAgIAAxkBAAIBZ2LARGE"
    assert attachment.status == AttachmentStatus.PENDING


def test_message__location(client, channel):
    deliver(client, channel, "message__location.json")
    process_all()
    message = only_message()
    assert message.metadata["location"] == {"latitude": 55.751244, "longitude": 37.618423}
    assert "55.751244" in message.body


def test_message__contact(client, channel):
    deliver(client, channel, "message__contact.json")
    process_all()
    assert only_message().metadata["contact"]["phone_number"] == "+79123456789"


def test_message__document(client, channel):
    deliver(client, channel, "message__document.json")
    process_all()
    message = only_message()
    assert message.body == "W załączniku faktura — proszę o korektę"
    assert Attachment.objects.get(message=message).filename == "faktura_2026_11.pdf"


def test_edited_message__text(client, channel):
    deliver(client, channel, "message__text.json")
    deliver(client, channel, "edited_message__text.json")
    process_all()
    original, edit = Message.objects.order_by("id")
    assert edit.conversation_id == original.conversation_id
    assert edit.metadata["edit_of"] == original.provider_message_id


def test_callback_query__button(client, channel):
    deliver(client, channel, "callback_query__button.json")
    process_all()
    message = only_message()
    assert message.body == "csat:5"
    assert message.metadata["button"] is True


def test_my_chat_member__blocked(client, channel):
    deliver(client, channel, "my_chat_member__blocked.json")
    (event,) = process_all()
    assert event.status == InboundStatus.IGNORED
    assert "my_chat_member" in event.error
    assert not Message.objects.exists()


def test_garbage__not_json(client, channel):
    assert deliver(client, channel, "garbage__not_json.json").status_code == 200
    (event,) = process_all()
    assert event.status == InboundStatus.FAILED
    assert "not valid JSON" in event.error
    assert bytes(event.body) == fixture_bytes("telegram", "garbage__not_json.json")


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_bad_or_missing_secret_is_403_and_stores_nothing(client, channel, secret):
    assert deliver(client, channel, "message__text.json", secret=secret).status_code == 403
    assert not InboundEvent.objects.exists()


def test_redelivery_is_stored_once(client, channel):
    for _ in range(3):
        assert deliver(client, channel, "message__text.json").status_code == 200
    assert InboundEvent.objects.count() == 1
    process_all()
    assert Message.objects.count() == 1


def test_reply_goes_out_through_the_bot_api(client, channel, provider_stub, agent):
    from tickets.replies import do_send_reply

    stub = provider_stub("telegram")
    stub.route("POST", r"/bot.+/sendMessage", lambda r: (200, {"ok": True, "result": {"message_id": 9911}}))
    deliver(client, channel, "message__text.json")
    process_all()
    conversation = only_message().conversation
    reply = do_send_reply(conversation=conversation, author=agent, channel=channel, text="Заказ в пути!")
    outbound = OutboundMessage.objects.get(message=reply)
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    (sent,) = stub.requests
    assert sent.path == "/bot7000000001:AAFakeTokenForTests/sendMessage"
    assert sent.json() == {"chat_id": "284716392", "text": "Заказ в пути!"}
    outbound.refresh_from_db()
    assert (outbound.status, outbound.provider_message_id) == (OutboundStatus.SENT, "284716392:9911")


def test_provider_refusal_is_permanent_and_visible(client, channel, provider_stub, agent):
    from tickets.replies import do_send_reply

    stub = provider_stub("telegram")
    stub.route(
        "POST",
        r"/bot.+/sendMessage",
        lambda r: (
            403,
            {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
        ),
    )
    deliver(client, channel, "message__text.json")
    process_all()
    reply = do_send_reply(conversation=only_message().conversation, author=agent, channel=channel, text="Hi")
    outbound = OutboundMessage.objects.get(message=reply)
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.FAILED
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.FAILED
    assert "bot was blocked" in outbound.error
    assert json.loads(stub.requests[0].body)["chat_id"] == "284716392"
