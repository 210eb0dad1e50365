"""Web chat: the visitor websocket against the real ASGI application and the Redis channel layer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator, WebsocketCommunicator

from channels_app.models import InboundEvent, InboundStatus, OutboundMessage, OutboundStatus
from channels_app.outbound import do_send
from channels_app.services import do_create_channel, do_store_inbound_event
from channels_app.webchat import limits
from channels_app.webchat.identity import issue_token, new_anonymous_id, user_hash
from channels_app.webchat.protocol import CLOSE_ORIGIN_REFUSED, CLOSE_UNAVAILABLE
from cxm.asgi import application
from profiles.models import Identity, IdentityKind
from tests.conftest import run_async
from tests.pipeline import process_all
from tickets.models import Message
from tickets.replies import do_send_reply

pytestmark = pytest.mark.django_db(transaction=True)
SITE = "https://shop.example"
IDENTITY_SECRET = "webchat-identity-secret-0123456789"


@pytest.fixture
def channel():
    return do_create_channel(
        kind="webchat",
        name="Shop chat",
        address="shop.example",
        config={"allowed_origins": [SITE, "https://www.shop.example"]},
        credentials={"identity_secret": IDENTITY_SECRET},
    )


class Chat:
    """One visitor socket; `ready` is the server's answer to the auth frame."""

    def __init__(self, communicator: WebsocketCommunicator, ready: dict[str, Any]):
        self.communicator = communicator
        self.ready = ready

    async def send(self, client_id: str, text: str) -> dict[str, Any]:
        await self.communicator.send_json_to({"type": "message", "id": client_id, "text": text})
        return await self.next(
            lambda frame: frame.get("id") == client_id and frame["type"] in ("ack", "error")
        )

    async def next(self, wanted=lambda frame: True) -> dict[str, Any]:
        while True:
            frame = await self.communicator.receive_json_from(timeout=5)
            if wanted(frame):
                return frame

    async def close(self) -> None:
        await self.communicator.disconnect()


def socket(channel_id: int, *, origin: str = SITE, lang: str = "en-US") -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application,
        f"/ws/webchat/{channel_id}/?lang={lang}",
        headers=[(b"origin", origin.encode()), (b"user-agent", b"Mozilla/5.0 test")],
    )


async def open_chat(channel_id: int, *, lang: str = "en-US", **auth: Any) -> Chat:
    communicator = socket(channel_id, lang=lang)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.send_json_to({"type": "auth", **auth})
    ready = await communicator.receive_json_from(timeout=5)
    assert ready["type"] == "ready", ready
    return Chat(communicator, ready)


async def refused(communicator: WebsocketCommunicator) -> tuple[dict[str, Any], int]:
    connected, _ = await communicator.connect(timeout=5)
    assert connected  # accepted only to explain the refusal, then closed
    error = await communicator.receive_json_from(timeout=5)
    closed = await communicator.receive_output(timeout=5)
    assert closed["type"] == "websocket.close"
    return error, closed["code"]


def test_allowed_origin_gets_labels_token_and_empty_history(channel):
    async def scenario():
        chat = await open_chat(channel.pk)
        await chat.close()
        return chat.ready

    ready = run_async(scenario)
    assert ready["labels"]["title"] == "Chat with us"
    assert ready["history"] == []
    assert ready["verified"] is False
    assert ready["visitor_token"]


def test_refused_origin_is_told_why_and_closed(channel):
    error, code = run_async(refused, socket(channel.pk, origin="https://evil.example", lang="pl-PL"))
    assert code == CLOSE_ORIGIN_REFUSED
    assert error["code"] == "origin_refused"
    assert error["message"]


def test_missing_origin_is_refused_when_origins_are_listed(channel):
    communicator = WebsocketCommunicator(application, f"/ws/webchat/{channel.pk}/")
    _, code = run_async(refused, communicator)
    assert code == CLOSE_ORIGIN_REFUSED


def test_empty_allowed_origins_means_any_site():
    open_channel = do_create_channel(kind="webchat", name="Anywhere", config={"allowed_origins": []})

    async def scenario():
        communicator = socket(open_channel.pk, origin="https://any.example")
        connected, _ = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return connected

    assert run_async(scenario)


def test_inactive_or_non_webchat_channel_is_unavailable(channel):
    api = do_create_channel(kind="api", name="Not a chat")
    channel.is_active = False
    channel.save()
    for channel_id in (channel.pk, api.pk, 999_999):
        error, code = run_async(refused, socket(channel_id))
        assert (error["code"], code) == ("unavailable", CLOSE_UNAVAILABLE)


def test_anonymous_message_goes_through_the_inbound_pipeline(channel):
    async def scenario():
        chat = await open_chat(
            channel.pk, name="Ola", email="ola@example.com", page="https://shop.example/cart"
        )
        ack = await chat.send("c-1", "  Where is my order?  ")
        await chat.close()
        return ack

    ack = run_async(scenario)
    assert ack == {"type": "ack", "id": "c-1", "duplicate": False}
    event = InboundEvent.objects.get()
    assert (event.provider, event.status, event.channel_id) == ("webchat", InboundStatus.PENDING, channel.pk)
    assert event.headers["Origin"] == SITE
    body = json.loads(bytes(event.body))
    visitor_id = body["visitor"]["id"]
    assert event.dedup_key == f"webchat:{visitor_id}:c-1"

    (event,) = process_all()
    assert event.status == InboundStatus.DONE, event.error
    message = Message.objects.select_related("conversation__customer").get()
    assert message.body == "Where is my order?"
    assert message.provider_message_id == f"{visitor_id}:c-1"
    assert message.metadata["thread_id"] == visitor_id
    assert message.metadata["webchat"]["page_url"] == "https://shop.example/cart"
    assert message.metadata["webchat"]["verified"] is False
    identity = message.conversation.customer.identities.get()
    assert (identity.kind, identity.value, identity.display) == (IdentityKind.WEBCHAT, visitor_id, "Ola")
    # An e-mail address typed into an anonymous widget proves nothing: it is kept, not made an identity.
    assert message.metadata["webchat"]["email"] == "ola@example.com"


def test_resend_after_reconnect_is_stored_once(channel):
    async def scenario():
        chat = await open_chat(channel.pk)
        first = await chat.send("c-dup", "Hello")
        await chat.close()
        again = await open_chat(channel.pk, token=chat.ready["visitor_token"])
        second = await again.send("c-dup", "Hello")
        await again.close()
        return first, second

    first, second = run_async(scenario)
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert InboundEvent.objects.count() == 1
    process_all()
    assert Message.objects.count() == 1


def test_reconnect_with_token_shows_history_including_replies(channel, agent):
    async def first_visit():
        chat = await open_chat(channel.pk)
        await chat.send("c-1", "First question")
        await chat.close()
        return chat.ready["visitor_token"]

    token = run_async(first_visit)

    async def pending_visit():
        # Not processed yet: the message must not look lost after a quick reload.
        chat = await open_chat(channel.pk, token=token)
        await chat.close()
        return chat.ready["history"]

    assert [(m["id"], m["text"]) for m in run_async(pending_visit)] == [("c-1", "First question")]

    process_all()
    conversation = Message.objects.get().conversation
    agent.first_name = "Marta"
    agent.save()
    do_send_reply(conversation=conversation, author=agent, channel=channel, text="Happy to help!")

    async def second_visit():
        chat = await open_chat(channel.pk, token=token)
        await chat.close()
        return chat.ready

    ready = run_async(second_visit)
    history = ready["history"]
    assert [(m["direction"], m["text"]) for m in history] == [
        ("in", "First question"),
        ("out", "Happy to help!"),
    ]
    assert history[0]["id"] == "c-1"
    assert history[1]["author"] == "Marta"
    assert ready["visitor_token"]


def test_token_of_another_channel_starts_a_new_visitor(channel):
    other = do_create_channel(kind="webchat", name="Other site")
    foreign = issue_token(other.pk, new_anonymous_id())

    async def scenario():
        chat = await open_chat(channel.pk, token=foreign)
        await chat.send("c-1", "hi")
        await chat.close()

    run_async(scenario)
    sent_as = json.loads(bytes(InboundEvent.objects.get().body))["visitor"]["id"]
    assert sent_as not in foreign and sent_as.startswith("a")


def test_signed_user_with_correct_hash_becomes_a_verified_external_id(channel, agent):
    good = user_hash(IDENTITY_SECRET, "user-42")

    async def scenario():
        chat = await open_chat(channel.pk, userId="user-42", userHash=good, name="Jan Kowalski")
        await chat.send("c-1", "Order 1001?")
        await chat.close()
        return chat.ready

    ready = run_async(scenario)
    assert ready["verified"] is True
    assert "visitor_token" not in ready  # the user id is the identity; nothing to keep in the browser
    process_all()
    message = Message.objects.select_related("conversation__customer").get()
    identities = {i.kind: i for i in message.conversation.customer.identities.all()}
    assert identities[IdentityKind.EXTERNAL_ID].value == "user-42"
    assert identities[IdentityKind.EXTERNAL_ID].verified
    assert identities[IdentityKind.WEBCHAT].value.startswith("u")
    assert message.conversation.customer.name == "Jan Kowalski"

    # The same user on another device sees the same conversation and gets replies there.
    do_send_reply(conversation=message.conversation, author=agent, channel=channel, text="Shipped today")

    async def other_device():
        chat = await open_chat(channel.pk, userId="user-42", userHash=good)
        await chat.close()
        return chat.ready["history"]

    assert [m["text"] for m in run_async(other_device)] == ["Order 1001?", "Shipped today"]


def test_wrong_hash_is_refused_and_treated_as_a_guest(channel):
    async def scenario():
        chat = await open_chat(channel.pk, userId="user-42", userHash="0" * 64)
        error = await chat.next(lambda frame: frame["type"] == "error")
        await chat.send("c-1", "I am user 42, honest")
        await chat.close()
        return chat.ready, error

    ready, error = run_async(scenario)
    assert ready["verified"] is False
    assert error["code"] == "identity_refused"
    assert error["message"] == "We could not confirm your account, so you are chatting as a guest."
    process_all()
    assert not Identity.objects.filter(kind=IdentityKind.EXTERNAL_ID).exists()
    identity = Message.objects.get().conversation.customer.identities.get()
    assert identity.kind == IdentityKind.WEBCHAT and identity.value.startswith("a")


def test_user_hash_is_refused_when_the_channel_has_no_identity_secret():
    bare = do_create_channel(kind="webchat", name="No secret")

    async def scenario():
        chat = await open_chat(bare.pk, userId="user-42", userHash=user_hash("", "user-42"))
        error = await chat.next(lambda frame: frame["type"] == "error")
        await chat.close()
        return chat.ready, error

    ready, error = run_async(scenario)
    assert (ready["verified"], error["code"]) == (False, "identity_refused")


def test_rate_limit_per_connection(channel):
    async def scenario():
        chat = await open_chat(channel.pk)
        answers = [await chat.send(f"c-{n}", f"message {n}") for n in range(limits.RATE_LIMIT_MESSAGES + 1)]
        await chat.close()
        return answers

    answers = run_async(scenario)
    assert all(a["type"] == "ack" for a in answers[:-1])
    assert answers[-1]["code"] == "rate_limited"
    assert "too quickly" in answers[-1]["message"]
    assert InboundEvent.objects.count() == limits.RATE_LIMIT_MESSAGES


def test_oversize_and_empty_messages_are_refused_with_a_reason(channel):
    async def scenario():
        chat = await open_chat(channel.pk, lang="ru")
        too_long = await chat.send("c-1", "x" * (limits.MAX_MESSAGE_CHARS + 1))
        empty = await chat.send("c-2", "   ")
        await chat.communicator.send_to(text_data="x" * (limits.MAX_FRAME_CHARS + 1))
        frame = await chat.next()
        await chat.communicator.send_to(text_data="not json")
        garbage = await chat.next()
        await chat.close()
        return too_long, empty, frame, garbage

    too_long, empty, frame, garbage = run_async(scenario)
    assert (too_long["code"], empty["code"], frame["code"], garbage["code"]) == (
        "too_long",
        "empty",
        "too_long",
        "invalid",
    )
    assert str(limits.MAX_MESSAGE_CHARS) in too_long["message"]
    assert not InboundEvent.objects.exists()


def test_message_before_auth_is_refused(channel):
    async def scenario():
        communicator = socket(channel.pk)
        await communicator.connect(timeout=5)
        await communicator.send_json_to({"type": "message", "id": "c-1", "text": "hi"})
        answer = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return answer

    assert run_async(scenario)["code"] == "not_ready"
    assert not InboundEvent.objects.exists()


def test_agent_reply_reaches_the_connected_visitor(channel, agent):
    async def scenario():
        chat = await open_chat(channel.pk)
        await chat.send("c-1", "Anyone there?")
        await sync_to_async(process_all)()
        conversation = await sync_to_async(lambda: Message.objects.get().conversation)()
        reply = await sync_to_async(do_send_reply)(
            conversation=conversation, author=agent, channel=channel, text="Yes, Marta here."
        )
        outbound = await sync_to_async(OutboundMessage.objects.get)(message=reply)
        status = await sync_to_async(do_send)(outbound_id=outbound.pk)
        pushed = await chat.next(
            lambda frame: frame["type"] == "message" and frame["message"]["direction"] == "out"
        )
        await chat.close()
        return reply, outbound, status, pushed

    reply, outbound, status, pushed = run_async(scenario)
    assert status == OutboundStatus.SENT
    assert pushed["message"]["text"] == "Yes, Marta here."
    assert pushed["message"]["id"] == f"m{reply.pk}"
    outbound.refresh_from_db()
    assert outbound.recipient.startswith("a")
    assert outbound.provider_message_id == f"webchat-out-{outbound.pk}"


def test_visitor_messages_are_echoed_to_the_visitors_other_tabs(channel):
    async def scenario():
        first = await open_chat(channel.pk)
        second = await open_chat(channel.pk, token=first.ready["visitor_token"])
        await first.send("c-1", "from tab one")
        echoed = await second.next(lambda frame: frame["type"] == "message")
        await first.close()
        await second.close()
        return echoed

    assert run_async(scenario)["message"] == {
        "id": "c-1",
        "direction": "in",
        "text": "from tab one",
        "at": InboundEvent.objects.get().received_at.isoformat(),
        "author": "",
    }


def test_labels_follow_the_visitors_language(channel):
    async def scenario(lang):
        chat = await open_chat(channel.pk, lang=lang)
        await chat.close()
        return chat.ready

    polish, fallback = run_async(scenario, "pl-PL"), run_async(scenario, "xx-YY")
    assert polish["language"] == "pl"
    assert fallback["language"] == "en"
    assert fallback["labels"]["send"] == "Send"


def test_webhook_route_refuses_forged_visitor_messages(client, channel):
    response = client.post(f"/webhooks/webchat/{channel.pk}/", b"{}", content_type="application/json")
    assert response.status_code == 403
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not valid JSON"),
        (b'{"type": "typing"}', "unknown event type 'typing'"),
        (b'{"type": "message", "id": "c", "text": "hi", "visitor": {}}', "missing 'id'"),
        (b'{"type": "message", "id": "c", "text": "hi", "visitor": {"id": "../x"}}', "malformed id"),
        (b'{"type": "message", "id": "c", "text": " ", "visitor": {"id": "a' + b"0" * 32 + b'"}}', "empty"),
    ],
)
def test_unparseable_stored_body_fails_with_a_reason(channel, body, reason):
    do_store_inbound_event(
        channel=channel,
        provider="webchat",
        dedup_key="bad",
        content_type="application/json",
        headers={},
        body=body,
    )
    (event,) = process_all()
    assert event.status == InboundStatus.FAILED
    assert reason in event.error


def test_widget_script_is_served_with_caching_headers():
    async def scenario(headers):
        communicator = HttpCommunicator(application, "GET", "/widget/chat.js", headers=headers)
        return await communicator.get_response(timeout=5)

    response = run_async(scenario, [])
    assert response["status"] == 200
    headers = dict(response["headers"])
    assert headers[b"content-type"].startswith(b"text/javascript")
    assert b"attachShadow" in response["body"]
    again = run_async(scenario, [(b"if-none-match", headers[b"etag"])])
    assert again["status"] == 304


def test_channel_page_shows_the_snippet_origins_and_hash_instructions(admin_client_, channel):
    page = admin_client_.get(f"/settings/channels/{channel.pk}/").content.decode()
    assert (
        f'&lt;script src="http://testserver/widget/chat.js" data-channel="{channel.pk}" async&gt;'
        "&lt;/script&gt;" in page
    )
    assert "<code>https://shop.example</code>" in page
    assert "HMAC-SHA256" in page
    assert "No identity verification secret is set yet" not in page


def test_snippet_section_is_only_on_web_chat_channels(admin_client_):
    api = do_create_channel(kind="api", name="Not a chat")
    bare = do_create_channel(kind="webchat", name="Open chat")
    assert (
        'data-testid="webchat-snippet"'
        not in admin_client_.get(f"/settings/channels/{api.pk}/").content.decode()
    )
    page = admin_client_.get(f"/settings/channels/{bare.pk}/").content.decode()
    assert "Any website may embed this chat." in page
    assert "No identity verification secret is set yet" in page


def test_an_idle_visitor_socket_stays_open():
    import asyncio

    bare = do_create_channel(kind="webchat", name="Quiet chat")

    async def scenario():
        chat = await open_chat(bare.pk)
        await asyncio.sleep(7)
        ack = await chat.send("c-1", "still there?")
        await chat.close()
        return ack

    assert run_async(scenario)["type"] == "ack"
