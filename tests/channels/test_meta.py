"""Meta (WhatsApp Cloud API, Messenger, Instagram) through the real webhook and pipeline, one test per
fixture, plus the handshake, signatures, duplicates, status ordering and outbound sends against a stub."""

from __future__ import annotations

import time

import pytest

from channels_app.adapters.meta import sign
from channels_app.models import InboundEvent, InboundStatus, OutboundMessage, OutboundStatus
from channels_app.outbound import RetryLater, do_queue_outbound, do_send
from channels_app.services import do_create_channel
from profiles.models import IdentityKind
from tests.pipeline import fixture_bytes, post_webhook, process_all
from tickets.models import Attachment, AttachmentStatus, Message

pytestmark = pytest.mark.django_db
APP_SECRET = "meta-app-secret-5f0c2a8c8f1c6c4f"
VERIFY_TOKEN = "meta-verify-token-31415926"
WA_TOKEN = "EAAGwaFakeAccessTokenForTests"
PAGE_TOKEN = "EAAGpageFakeAccessTokenForTests"
PHONE_NUMBER_ID = "110384756291047"
PAGE_ID = "112233445566778"
IG_ID = "17841405822304914"
OUT_WAMID = "wamid.HBgLNzkxNjEyMzQ1NjcVAgARGBI5QTNDMkU4RjQ0QjEwRDU3QzIA"
OUT_MID = "m_Ff6s3T4uV5wX6yZ7aB8cD9eF0gH1iJ2kL3mN4oP5qR6sT7uV8wX9yZ0aB1cD2eF3gH4iJ5kL6mN7oP8qR9s"


def _secrets(token_field: str, token: str) -> dict[str, str]:
    return {token_field: token, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN}


@pytest.fixture
def wa(db):
    return do_create_channel(
        kind="whatsapp",
        name="Acme WhatsApp",
        address="+48 22 123 45 67",
        config={"provider": "meta", "phone_number_id": PHONE_NUMBER_ID},
        credentials=_secrets("access_token", WA_TOKEN),
    )


@pytest.fixture
def fb(db):
    return do_create_channel(
        kind="messenger",
        name="Acme Page",
        config={"page_id": PAGE_ID},
        credentials=_secrets("page_access_token", PAGE_TOKEN),
    )


@pytest.fixture
def ig(db):
    return do_create_channel(
        kind="instagram",
        name="Acme Instagram",
        address=IG_ID,
        credentials=_secrets("page_access_token", PAGE_TOKEN),
    )


def deliver(client, channel, name: str, *, secret: str | None = APP_SECRET, body: bytes | None = None):
    raw = fixture_bytes("meta", name) if body is None else body
    headers = {"HTTP_X_HUB_SIGNATURE_256": sign(secret, raw)} if secret is not None else {}
    return post_webhook(client, "meta", channel.pk, raw, content_type="application/json", **headers)


def only_message() -> Message:
    (message,) = Message.objects.select_related("conversation__customer")
    return message


def single_event(client, channel, name: str) -> InboundEvent:
    assert deliver(client, channel, name).status_code == 200
    (event,) = process_all()
    return event


# --- WhatsApp inbound --------------------------------------------------------------------------------


def test_whatsapp_message__text(client, wa):
    event = single_event(client, wa, "whatsapp_message__text.json")
    assert event.status == InboundStatus.DONE and event.dedup_key.startswith("sha256:")
    assert event.headers["X-Hub-Signature-256"].startswith("sha256=")
    message = only_message()
    assert message.body == "Здравствуйте! Заказ №5521 до сих пор не доставлен. Подскажите, когда ждать?"
    assert message.provider_message_id == "wamid.HBgLNzkxNjEyMzQ1NjcVAgASGBQzQUI3RjA5QzE0RDJFNTg4MUE2MAA="
    assert message.created_at.isoformat() == "2025-11-20T09:00:00+00:00"
    customer = message.conversation.customer
    assert customer.name == "Анна Кузнецова"
    identity = customer.identities.get()
    assert (identity.kind, identity.value) == (IdentityKind.WHATSAPP, "+79161234567")


def test_whatsapp_message__image_caption(client, wa):
    single_event(client, wa, "whatsapp_message__image_caption.json")
    message = only_message()
    assert message.body == "Коробка пришла мятая"
    (attachment,) = Attachment.objects.filter(message=message)
    # Only the media id is kept; the worker asks the Graph API for a download URL later.
    assert attachment.source_url == "meta-media:1029384756473829"
    assert (attachment.filename, attachment.content_type) == ("image.jpg", "image/jpeg")
    assert attachment.status == AttachmentStatus.PENDING


def test_whatsapp_message__document(client, wa):
    single_event(client, wa, "whatsapp_message__document.json")
    message = only_message()
    assert message.body == "Faktura do korekty"
    attachment = Attachment.objects.get(message=message)
    assert (attachment.filename, attachment.content_type) == ("faktura_FV-2025-11-031.pdf", "application/pdf")
    assert message.conversation.customer.name == "Piotr Zieliński"


def test_whatsapp_message__location(client, wa):
    single_event(client, wa, "whatsapp_message__location.json")
    message = only_message()
    assert message.metadata["location"]["latitude"] == 55.755826
    assert "Тверская ул., 7" in message.body and "37.6173" in message.body


def test_whatsapp_message__contacts(client, wa):
    single_event(client, wa, "whatsapp_message__contacts.json")
    message = only_message()
    assert message.metadata["contacts"] == [{"name": "Игорь Кузнецов", "phones": ["+7 916 765-43-21"]}]
    assert "Игорь Кузнецов" in message.body


def test_whatsapp_message__interactive_button_reply(client, wa):
    single_event(client, wa, "whatsapp_message__interactive_button_reply.json")
    message = only_message()
    assert message.body == "Отлично"
    assert (message.metadata["button"], message.metadata["callback_data"]) == (True, "csat:5")
    assert message.metadata["reply_to"] == "wamid.HBgLNzkxNjEyMzQ1NjcVAgARGBI0QjdFMjFBQzk5RjMwMUQ3NkUA"


def test_whatsapp_message__template_button(client, wa):
    single_event(client, wa, "whatsapp_message__template_button.json")
    message = only_message()
    assert message.body == "Перенести доставку"
    assert message.metadata["callback_data"] == "order_5521_reschedule"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("whatsapp_message__reaction.json", "reaction"),
        ("whatsapp_message__unsupported.json", "does not deliver"),
        ("whatsapp_message__wrong_phone_number_id.json", "phone_number_id 119999999999999"),
        ("whatsapp_template_status__approved.json", "message_template_status_update"),
    ],
)
def test_whatsapp_deliveries_without_a_message_are_ignored_with_the_reason(client, wa, name, reason):
    event = single_event(client, wa, name)
    assert event.status == InboundStatus.IGNORED
    assert reason in event.error
    assert not Message.objects.exists()


def test_whatsapp_batch__two_entries_three_messages(client, wa):
    event = single_event(client, wa, "whatsapp_batch__two_entries_three_messages.json")
    assert event.status == InboundStatus.DONE
    first, second, third = Message.objects.select_related("conversation__customer").order_by("created_at")
    assert [first.body, second.body, third.body] == [
        "Алло?",
        "Есть кто-нибудь?",
        "Dzień dobry, czy paczka już wyszła?",
    ]
    assert first.conversation_id == second.conversation_id != third.conversation_id
    assert third.conversation.customer.identities.get().value == "+48601987654"


def test_whatsapp_batch__valid_and_garbage_keeps_the_valid_part(client, wa):
    event = single_event(client, wa, "whatsapp_batch__valid_and_garbage.json")
    assert event.status == InboundStatus.DONE
    assert only_message().body == "Спасибо!"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("garbage__not_json.json", "not valid JSON"),
        ("garbage__unknown_object.json", "unknown Meta webhook object 'user'"),
        ("garbage__entry_not_list.json", "no entry list"),
    ],
)
def test_garbage_is_kept_and_marked_failed(client, wa, name, reason):
    event = single_event(client, wa, name)
    assert event.status == InboundStatus.FAILED
    assert reason in event.error
    assert bytes(event.body) == fixture_bytes("meta", name)
    assert not Message.objects.exists()


def test_a_delivery_of_another_product_is_ignored(client, wa):
    event = single_event(client, wa, "messenger_message__text.json")
    assert event.status == InboundStatus.IGNORED
    assert "'page' delivery does not belong to a whatsapp channel" in event.error


# --- WhatsApp statuses ---------------------------------------------------------------------------------


@pytest.fixture
def wa_sent(client, wa, provider_stub, agent) -> OutboundMessage:
    """A reply that went out through the stubbed Cloud API and got OUT_WAMID."""
    from tickets.replies import do_send_reply

    stub = provider_stub("meta")
    stub.route(
        "POST",
        f"/{PHONE_NUMBER_ID}/messages",
        lambda r: (
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": "+79161234567", "wa_id": "79161234567"}],
                "messages": [{"id": OUT_WAMID}],
            },
        ),
    )
    # The customer wrote just now, so the 24-hour window is open for a free-text reply.
    now = str(int(time.time())).encode()
    deliver(
        client, wa, "", body=fixture_bytes("meta", "whatsapp_message__text.json").replace(b"1763629200", now)
    )
    process_all()
    reply = do_send_reply(
        conversation=only_message().conversation, author=agent, channel=wa, text="Уже едет!"
    )
    outbound = OutboundMessage.objects.get(message=reply)
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    outbound.refresh_from_db()
    outbound.stub = stub  # type: ignore[attr-defined]
    return outbound


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("whatsapp_status__sent.json", OutboundStatus.SENT),
        ("whatsapp_status__delivered.json", OutboundStatus.DELIVERED),
        ("whatsapp_status__read.json", OutboundStatus.READ),
        ("whatsapp_status__failed.json", OutboundStatus.FAILED),
    ],
)
def test_whatsapp_status(client, wa, wa_sent, name, status):
    assert deliver(client, wa, name).status_code == 200
    assert process_all()[-1].status == InboundStatus.DONE
    wa_sent.refresh_from_db()
    assert wa_sent.status == status
    if status == OutboundStatus.FAILED:
        assert "24 hours" in wa_sent.error and "131047" in wa_sent.error


def test_whatsapp_statuses_out_of_order_never_move_backwards(client, wa, wa_sent):
    for name in (
        "whatsapp_status__read.json",
        "whatsapp_status__delivered.json",
        "whatsapp_status__sent.json",
    ):
        deliver(client, wa, name)
    process_all()
    wa_sent.refresh_from_db()
    assert wa_sent.status == OutboundStatus.READ
    deliver(client, wa, "whatsapp_status__failed.json")
    process_all()
    wa_sent.refresh_from_db()
    assert wa_sent.status == OutboundStatus.READ


# --- Messenger -----------------------------------------------------------------------------------------


def test_messenger_message__text(client, fb):
    assert single_event(client, fb, "messenger_message__text.json").status == InboundStatus.DONE
    message = only_message()
    assert message.body == "Cześć! Chciałbym zwrócić kurtkę z zamówienia 8812."
    assert message.created_at.isoformat() == "2025-11-20T09:30:00+00:00"
    identity = message.conversation.customer.identities.get()
    assert (identity.kind, identity.value) == (IdentityKind.MESSENGER, "6743829105523417")


def test_messenger_message__attachment(client, fb):
    single_event(client, fb, "messenger_message__attachment.json")
    attachment = Attachment.objects.get()
    assert attachment.source_url.startswith(
        "https://scontent.xx.fbcdn.net/v/t1.15752-9/471829301_10228_n.jpg"
    )
    assert (attachment.filename, attachment.content_type) == ("471829301_10228_n.jpg", "image/jpeg")


def test_messenger_postback__button(client, fb):
    single_event(client, fb, "messenger_postback__button.json")
    message = only_message()
    assert message.body == "Status zamówienia"
    assert message.metadata["callback_data"] == "ORDER_STATUS" and message.metadata["postback"] is True


def test_messenger_message__quick_reply(client, fb):
    single_event(client, fb, "messenger_message__quick_reply.json")
    message = only_message()
    assert message.body == "Tak, pomogło"
    assert (message.metadata["button"], message.metadata["callback_data"]) == (True, "csat:5")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("messenger_message__echo.json", "echo of our own message"),
        ("messenger_read__watermark.json", "watermark only"),
        ("messenger_message__wrong_page.json", "addressed to 998877665544332"),
    ],
)
def test_messenger_deliveries_without_a_message_are_ignored(client, fb, name, reason):
    event = single_event(client, fb, name)
    assert event.status == InboundStatus.IGNORED
    assert reason in event.error
    assert not Message.objects.exists()


def test_messenger_delivery__receipt(client, fb, provider_stub):
    stub = provider_stub("meta")
    stub.route(
        "POST", "/me/messages", lambda r: (200, {"recipient_id": "6743829105523417", "message_id": OUT_MID})
    )
    outbound = do_queue_outbound(channel=fb, recipient="6743829105523417", payload={"text": "Już sprawdzamy"})
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    assert single_event(client, fb, "messenger_delivery__receipt.json").status == InboundStatus.DONE
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.DELIVERED
    assert outbound.status_at.isoformat() == "2025-11-20T09:35:00+00:00"


# --- Instagram -----------------------------------------------------------------------------------------


def test_instagram_message__text(client, ig):
    single_event(client, ig, "instagram_message__text.json")
    message = only_message()
    assert message.body == "Привет! Есть ли это платье в размере S?"
    identity = message.conversation.customer.identities.get()
    assert (identity.kind, identity.value) == (IdentityKind.INSTAGRAM, "5839201746638291")


def test_instagram_message__story_reply(client, ig):
    single_event(client, ig, "instagram_message__story_reply.json")
    message = only_message()
    assert message.body == "Сколько стоит?"
    assert message.metadata["story_reply"]["id"] == "17954821136650223"
    assert not Attachment.objects.exists()  # story media is ephemeral: linked, never copied


def test_instagram_message__story_mention(client, ig):
    single_event(client, ig, "instagram_message__story_mention.json")
    message = only_message()
    assert message.metadata["story_mention"]["url"].startswith(
        "https://lookaside.fbsbx.com/ig_messaging_cdn/"
    )
    assert message.body == message.metadata["story_mention"]["url"]
    assert not Attachment.objects.exists()


def test_instagram_message__image(client, ig):
    single_event(client, ig, "instagram_message__image.json")
    attachment = Attachment.objects.get()
    assert attachment.source_url.startswith("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=18023")
    assert attachment.status == AttachmentStatus.PENDING


# --- Handshake, signature, duplicates -----------------------------------------------------------------


def handshake(client, channel, **params):
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    query.update(params)
    return client.get(f"/webhooks/meta/{channel.pk}/", {k: v for k, v in query.items() if v is not None})


@pytest.mark.parametrize("kind", ["wa", "fb", "ig"])
def test_handshake_echoes_the_challenge(client, request, kind):
    response = handshake(client, request.getfixturevalue(kind))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.verify_token": "wrong-token"},
        {"hub.verify_token": None},
        {"hub.mode": "unsubscribe"},
        {"hub.challenge": None},
    ],
    ids=["wrong-token", "no-token", "wrong-mode", "no-challenge"],
)
def test_handshake_with_bad_parameters_is_403(client, wa, params):
    response = handshake(client, wa, **params)
    assert response.status_code == 403
    assert b"1158201444" not in response.content


@pytest.mark.parametrize("secret", [None, "wrong-app-secret"], ids=["missing", "wrong"])
def test_bad_signature_is_403_and_stores_nothing(client, wa, secret):
    assert deliver(client, wa, "whatsapp_message__text.json", secret=secret).status_code == 403
    assert not InboundEvent.objects.exists()


def test_signature_over_a_different_body_is_403(client, wa):
    raw = fixture_bytes("meta", "whatsapp_message__text.json")
    response = post_webhook(
        client,
        "meta",
        wa.pk,
        raw.replace(b"5521", b"5522"),
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(APP_SECRET, raw),
    )
    assert response.status_code == 403
    assert not InboundEvent.objects.exists()


def test_whatsapp_channel_on_twilio_is_not_reachable_through_meta(client):
    twilio_wa = do_create_channel(
        kind="whatsapp",
        name="Twilio WhatsApp",
        config={"provider": "twilio"},
        credentials={"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN},
    )
    assert deliver(client, twilio_wa, "whatsapp_message__text.json").status_code == 403
    assert handshake(client, twilio_wa).status_code == 403
    assert not InboundEvent.objects.exists()


def test_duplicate_delivery_is_stored_once(client, wa):
    for _ in range(3):
        assert deliver(client, wa, "whatsapp_batch__two_entries_three_messages.json").status_code == 200
    assert InboundEvent.objects.count() == 1
    process_all()
    assert Message.objects.count() == 3


def test_the_same_message_in_two_different_deliveries_is_stored_once(client, wa):
    deliver(client, wa, "whatsapp_message__text.json")
    raw = fixture_bytes("meta", "whatsapp_message__text.json").replace(b"\n", b"\r\n")
    deliver(client, wa, "", body=raw)
    assert InboundEvent.objects.count() == 2
    assert [e.status for e in process_all()] == [InboundStatus.DONE, InboundStatus.DONE]
    assert Message.objects.count() == 1


# --- Outbound ------------------------------------------------------------------------------------------


def test_whatsapp_reply_goes_out_through_the_cloud_api(wa_sent):
    (sent,) = wa_sent.stub.requests
    assert sent.path == f"/{PHONE_NUMBER_ID}/messages"
    assert sent.headers["Authorization"] == f"Bearer {WA_TOKEN}"
    assert sent.json() == {
        "messaging_product": "whatsapp",
        "to": "+79161234567",
        "type": "text",
        "text": {"body": "Уже едет!"},
    }
    assert wa_sent.provider_message_id == OUT_WAMID


def _wa_stub(provider_stub, answer=(200, {"messaging_product": "whatsapp", "messages": [{"id": OUT_WAMID}]})):
    stub = provider_stub("meta")
    stub.route("POST", f"/{PHONE_NUMBER_ID}/messages", lambda r: answer)
    return stub


def test_whatsapp_template_send(wa, provider_stub):
    stub = _wa_stub(provider_stub)
    components = [{"type": "body", "parameters": [{"type": "text", "text": "5521"}]}]
    outbound = do_queue_outbound(
        channel=wa,
        recipient="+79161234567",
        payload={"template": {"name": "order_update", "language": "ru", "components": components}},
    )
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    assert stub.requests[0].json() == {
        "messaging_product": "whatsapp",
        "to": "+79161234567",
        "type": "template",
        "template": {"name": "order_update", "language": {"code": "ru"}, "components": components},
    }


def test_whatsapp_buttons_send_as_interactive_reply_buttons(wa, provider_stub):
    stub = _wa_stub(provider_stub)
    buttons = [{"title": "Да", "payload": "yes"}, {"title": "Нет", "payload": "no"}]
    outbound = do_queue_outbound(
        channel=wa, recipient="+79161234567", payload={"text": "Вопрос решён?", "buttons": buttons}
    )
    do_send(outbound_id=outbound.pk)
    assert stub.requests[0].json() == {
        "messaging_product": "whatsapp",
        "to": "+79161234567",
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Вопрос решён?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "yes", "title": "Да"}},
                    {"type": "reply", "reply": {"id": "no", "title": "Нет"}},
                ]
            },
        },
    }


def test_messenger_reply_goes_out_through_the_send_api(client, fb, provider_stub, agent):
    from tickets.replies import do_send_reply

    stub = provider_stub("meta")
    stub.route(
        "POST", "/me/messages", lambda r: (200, {"recipient_id": "6743829105523417", "message_id": OUT_MID})
    )
    deliver(client, fb, "messenger_message__text.json")
    process_all()
    reply = do_send_reply(
        conversation=only_message().conversation, author=agent, channel=fb, text="Już pomagamy"
    )
    outbound = OutboundMessage.objects.get(message=reply)
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    (sent,) = stub.requests
    assert sent.path == "/me/messages"
    assert sent.headers["Authorization"] == f"Bearer {PAGE_TOKEN}"
    assert sent.json() == {
        "recipient": {"id": "6743829105523417"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Już pomagamy"},
    }
    outbound.refresh_from_db()
    assert outbound.provider_message_id == OUT_MID


def test_instagram_buttons_go_out_as_quick_replies(ig, provider_stub):
    stub = provider_stub("meta")
    stub.route(
        "POST", "/me/messages", lambda r: (200, {"recipient_id": "5839201746638291", "message_id": "aWdf1"})
    )
    outbound = do_queue_outbound(
        channel=ig,
        recipient="5839201746638291",
        payload={"text": "Оцените нас", "buttons": [{"title": "👍", "payload": "csat:5"}]},
    )
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    assert stub.requests[0].json() == {
        "recipient": {"id": "5839201746638291"},
        "messaging_type": "RESPONSE",
        "message": {
            "text": "Оцените нас",
            "quick_replies": [{"content_type": "text", "title": "👍", "payload": "csat:5"}],
        },
    }


def graph_error(code: int, message: str, **extra) -> dict:
    return {
        "error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC123", **extra}
    }


@pytest.mark.parametrize(
    "answer",
    [
        (400, graph_error(4, "(#4) Application request limit reached")),
        (400, graph_error(130429, "Rate limit hit")),
        (503, graph_error(2, "Service temporarily unavailable")),
        (500, b"<html>oops</html>"),
    ],
    ids=["app-limit", "throughput", "unavailable", "html-500"],
)
def test_temporary_send_error_is_retried(wa, provider_stub, answer):
    from channels_app.adapters.base import AdapterError, get_adapter

    _wa_stub(provider_stub, answer)
    outbound = do_queue_outbound(channel=wa, recipient="+79161234567", payload={"text": "Привет"})
    with pytest.raises(RetryLater):
        do_send(outbound_id=outbound.pk)
    outbound.refresh_from_db()
    assert (outbound.status, outbound.provider_message_id) == (OutboundStatus.QUEUED, None)
    # What do_send is given to keep on the row: a temporary error naming the provider's answer.
    with pytest.raises(AdapterError) as raised:
        get_adapter("meta").send(outbound, wa)
    assert raised.value.permanent is False
    assert str(raised.value).startswith(f"Meta refused ({answer[0]})")


def test_temporary_send_error_is_kept_on_the_queued_row(wa, provider_stub):
    _wa_stub(provider_stub, (400, graph_error(130429, "Rate limit hit")))
    outbound = do_queue_outbound(channel=wa, recipient="+79161234567", payload={"text": "Привет"})
    with pytest.raises(RetryLater):
        do_send(outbound_id=outbound.pk)
    outbound.refresh_from_db()
    assert outbound.attempts == 1
    assert "Rate limit hit" in outbound.error


def test_closed_24_hour_window_is_a_permanent_failure_with_a_clear_reason(wa, provider_stub):
    _wa_stub(
        provider_stub,
        (
            400,
            graph_error(
                131047,
                "Re-engagement message",
                error_data={"messaging_product": "whatsapp", "details": "More than 24 hours have passed."},
            ),
        ),
    )
    outbound = do_queue_outbound(channel=wa, recipient="+79161234567", payload={"text": "Привет"})
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.FAILED
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.FAILED
    assert "only an approved template" in outbound.error and "131047" in outbound.error


def test_messenger_window_error_is_permanent(fb, provider_stub):
    stub = provider_stub("meta")
    stub.route(
        "POST",
        "/me/messages",
        lambda r: (
            400,
            graph_error(10, "(#10) This message is sent outside of allowed window.", error_subcode=2018278),
        ),
    )
    outbound = do_queue_outbound(channel=fb, recipient="6743829105523417", payload={"text": "Hej"})
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.FAILED
    outbound.refresh_from_db()
    assert "24-hour messaging window has closed" in outbound.error


def test_whatsapp_without_phone_number_id_fails_clearly(wa, provider_stub):
    wa.config = {"provider": "meta"}
    wa.save()
    outbound = do_queue_outbound(channel=wa, recipient="+79161234567", payload={"text": "Привет"})
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.FAILED
    outbound.refresh_from_db()
    assert "phone_number_id" in outbound.error


# --- Media ---------------------------------------------------------------------------------------------


def test_whatsapp_media_is_fetched_through_the_graph_api(client, wa, provider_stub, settings):
    from tickets.attachment_fetch import do_fetch_attachment

    stub = provider_stub("meta")
    stub.route(
        "GET",
        "/1029384756473829",
        lambda r: (200, {"url": f"{stub.url}/whatsapp_business/attachments/", "mime_type": "image/jpeg"}),
    )
    stub.route(
        "GET",
        "/whatsapp_business/attachments/",
        lambda r: (200, b"\xff\xd8\xffJPEG", {"Content-Type": "image/jpeg"}),
    )
    deliver(client, wa, "whatsapp_message__image_caption.json")
    process_all()
    attachment = Attachment.objects.get()
    assert do_fetch_attachment(attachment_id=attachment.pk) == AttachmentStatus.STORED
    assert [r.headers["Authorization"] for r in stub.requests] == [f"Bearer {WA_TOKEN}"] * 2
    attachment.refresh_from_db()
    assert attachment.file.read() == b"\xff\xd8\xffJPEG"


def test_without_phone_number_id_the_display_number_decides(client):
    channel = do_create_channel(
        kind="whatsapp",
        name="Acme WhatsApp (number only)",
        address="+48 22 123 45 67",
        credentials=_secrets("access_token", WA_TOKEN),
    )
    deliver(client, channel, "whatsapp_message__text.json")
    deliver(client, channel, "whatsapp_message__wrong_phone_number_id.json")
    done, ignored = process_all()
    assert (done.status, ignored.status) == (InboundStatus.DONE, InboundStatus.IGNORED)
    assert "number 48229999999" in ignored.error
    assert only_message().body.startswith("Здравствуйте!")


def test_whatsapp_list_message_for_more_than_three_choices(wa, provider_stub):
    stub = _wa_stub(provider_stub)
    buttons = [{"title": str(n), "payload": f"nps:{n}"} for n in range(1, 6)]
    outbound = do_queue_outbound(
        channel=wa,
        recipient="+79161234567",
        payload={"text": "Оцените нас", "buttons": buttons, "list_button": "Оценить"},
    )
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    interactive = stub.requests[0].json()["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "Оценить"
    assert interactive["action"]["sections"][0]["rows"][4] == {"id": "nps:5", "title": "5"}
