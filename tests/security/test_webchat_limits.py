"""Web chat limits across sockets: per visitor and per client address, not only per connection."""

from __future__ import annotations

import pytest

from channels_app.models import InboundEvent
from channels_app.webchat import limits, throttle
from tests.channels.test_webchat import SITE, Chat, socket
from tests.conftest import run_async

pytestmark = pytest.mark.django_db(transaction=True)
ATTACKER = "203.0.113.7"


@pytest.fixture
def channel(db):
    from channels_app.services import do_create_channel

    return do_create_channel(
        kind="webchat", name="Shop chat", address="shop.example", config={"allowed_origins": [SITE]}
    )


@pytest.fixture(autouse=True)
def one_window(monkeypatch):
    # All of a test inside one minute and one hour window, wherever the clock is.
    monkeypatch.setattr(throttle, "_now", lambda: 1_800_000_000.0)


async def open_from(channel_id: int, address: str, **auth) -> Chat:
    communicator = socket(channel_id)
    communicator.scope["client"] = (address, 50000)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.send_json_to({"type": "auth", **auth})
    ready = await communicator.receive_json_from(timeout=5)
    assert ready["type"] == "ready", ready
    return Chat(communicator, ready)


def visitors_stored() -> set[str]:
    return {event.headers.get("X-Webchat-Visitor") for event in InboundEvent.objects.all()}


def test_many_sockets_from_one_address_cannot_flood_the_inbox(channel):
    sockets, per_socket = 15, 5  # each socket stays under its own limit of 10 messages

    async def scenario():
        answers = []
        for n in range(sockets):
            chat = await open_from(channel.pk, ATTACKER)
            for m in range(per_socket):
                answers.append(await chat.send(f"s{n}-m{m}", f"spam {n}/{m}"))
            await chat.close()
        return answers

    answers = run_async(scenario)
    stored = InboundEvent.objects.count()
    assert stored <= limits.ADDRESS_MESSAGES_PER_MINUTE < sockets * per_socket
    assert len(visitors_stored()) <= limits.ADDRESS_NEW_VISITORS_PER_HOUR < sockets
    refusals = {a["code"] for a in answers if a["type"] == "error"}
    assert "too_many_chats" in refusals and refusals <= {"too_many_chats", "rate_limited"}
    refused = next(a for a in answers if a["type"] == "error")
    assert refused["message"] == "Too many new chats were started from your network. Please try again later."


def test_messages_per_address_are_limited_across_known_visitors(channel, monkeypatch):
    monkeypatch.setattr(limits, "ADDRESS_NEW_VISITORS_PER_HOUR", 100)

    async def scenario():
        answers = []
        for n in range(8):
            chat = await open_from(channel.pk, ATTACKER)
            for m in range(9):
                answers.append(await chat.send(f"s{n}-m{m}", "hello"))
            await chat.close()
        return answers

    answers = run_async(scenario)
    assert InboundEvent.objects.count() == limits.ADDRESS_MESSAGES_PER_MINUTE
    assert [a["code"] for a in answers if a["type"] == "error"] == ["rate_limited"] * (72 - 60)


def test_one_visitor_on_many_sockets_is_limited_as_one(channel):
    async def scenario():
        first = await open_from(channel.pk, ATTACKER)
        token = first.ready["visitor_token"]
        chats = [first] + [await open_from(channel.pk, f"198.51.100.{n}", token=token) for n in range(1, 4)]
        answers = []
        for n, chat in enumerate(chats):
            for m in range(8):  # 8 per socket: under the per-socket limit, 32 for the one visitor
                answers.append(await chat.send(f"s{n}-m{m}", "hello"))
        for chat in chats:
            await chat.close()
        return answers

    answers = run_async(scenario)
    assert InboundEvent.objects.count() == limits.VISITOR_MESSAGES_PER_MINUTE
    errors = [a for a in answers if a["type"] == "error"]
    assert {a["code"] for a in errors} == {"rate_limited"}
    assert "too quickly" in errors[0]["message"]


def test_another_address_still_chats_while_one_is_blocked(channel):
    async def scenario():
        for n in range(limits.ADDRESS_NEW_VISITORS_PER_HOUR + 1):
            chat = await open_from(channel.pk, ATTACKER)
            last = await chat.send(f"a-{n}", "hello")
            await chat.close()
        neighbour = await open_from(channel.pk, "192.0.2.55")
        answer = await neighbour.send("b-1", "Dzień dobry, mam pytanie")
        await neighbour.close()
        return last, answer

    last, answer = run_async(scenario)
    assert last["code"] == "too_many_chats"
    assert answer["type"] == "ack"
