"""Presence and typing over the app socket: authorized per message, relayed only to sockets that may see."""

from __future__ import annotations

import asyncio

import pytest
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from accounts.models import Team
from accounts.roles import Role
from channels_app.models import Channel
from cxm import presence
from cxm.asgi import application
from profiles.models import Customer
from tests.conftest import run_async
from tests.test_websocket import _session_headers
from tickets.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def conversation():
    team = Team.objects.create(name="Support")
    channel = Channel.objects.create(kind="email", name="Support mailbox", address="help@acme.test")
    channel.teams.add(team)
    customer = Customer.objects.create(name="Anna Kowalska")
    now = timezone.now()
    return Conversation.objects.create(
        customer=customer, channel=channel, subject="Invoice", created_at=now, last_activity_at=now
    )


@pytest.fixture
def alice(make_user, conversation):
    return make_user(Role.AGENT, teams=list(conversation.channel.teams.all()), username="alice")


@pytest.fixture
def bob(make_user, conversation):
    return make_user(Role.AGENT, teams=list(conversation.channel.teams.all()), username="bob")


@pytest.fixture
def olga(make_user):
    return make_user(Role.AGENT, teams=[Team.objects.create(name="Sales")], username="olga")


@pytest.fixture(autouse=True)
def _clean_presence(conversation):
    client = presence._redis()
    keys = [presence._viewers_key(conversation.pk), presence._typing_key(conversation.pk)]
    if client is not None:
        client.delete(*keys)
    presence._local.clear()
    yield
    if client is not None:
        client.delete(*keys)


_headers: dict[int, list[tuple[bytes, bytes]]] = {}


def _prepare(*users) -> None:
    """Session cookies are made in sync code, before the scenario's event loop starts."""
    for user in users:
        _headers[user.pk] = _session_headers(user)


async def _connect(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/app/", headers=_headers[user.pk])
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=3))["type"] == "hello"
    return communicator


async def _next_presence(communicator: WebsocketCommunicator) -> dict:
    while True:
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == "presence":
            return message


def _ids(people: list[dict]) -> list[int]:
    return [person["id"] for person in people]


def test_two_agents_see_each_other(conversation, alice, bob):
    _prepare(alice, bob)

    async def scenario():
        a = await _connect(alice)
        b = await _connect(bob)
        await a.send_json_to({"type": "presence.join", "conversation": conversation.pk})
        first = await _next_presence(a)
        assert first == {"type": "presence", "conversation": conversation.pk, "viewers": [], "typing": []}
        await b.send_json_to({"type": "presence.join", "conversation": conversation.pk})
        seen_by_a = await _next_presence(a)
        assert seen_by_a["viewers"] == [{"id": bob.pk, "name": bob.display_name, "initials": bob.initials}]
        seen_by_b = await _next_presence(b)
        assert _ids(seen_by_b["viewers"]) == [alice.pk]
        await a.disconnect()
        await b.disconnect()

    run_async(scenario)


def test_an_agent_who_cannot_see_the_conversation_gets_an_error_and_no_presence(conversation, alice, olga):
    _prepare(alice, olga)

    async def scenario():
        a = await _connect(alice)
        o = await _connect(olga)
        await o.send_json_to({"type": "presence.join", "conversation": conversation.pk})
        assert await o.receive_json_from(timeout=3) == {
            "type": "error",
            "error": presence.ERROR_FORBIDDEN,
            "conversation": conversation.pk,
        }
        await o.send_json_to({"type": "typing", "conversation": conversation.pk})
        assert (await o.receive_json_from(timeout=3))["error"] == presence.ERROR_FORBIDDEN
        # A conversation that does not exist gets the very same answer.
        await o.send_json_to({"type": "presence.join", "conversation": 999_999})
        assert (await o.receive_json_from(timeout=3))["error"] == presence.ERROR_FORBIDDEN
        await o.send_json_to({"type": "presence.join", "conversation": "abc"})
        assert (await o.receive_json_from(timeout=3))["error"] == presence.ERROR_INVALID

        await a.send_json_to({"type": "presence.join", "conversation": conversation.pk})
        await a.send_json_to({"type": "typing", "conversation": conversation.pk})
        assert (await _next_presence(a))["viewers"] == []  # olga was never recorded
        await _next_presence(a)
        assert await o.receive_nothing(timeout=0.5)
        await a.disconnect()
        await o.disconnect()

    run_async(scenario)


def test_losing_access_stops_the_relay(conversation, alice, bob):
    _prepare(alice, bob)

    async def scenario():
        a = await _connect(alice)
        b = await _connect(bob)
        await a.send_json_to({"type": "presence.join", "conversation": conversation.pk})
        await _next_presence(a)
        await b.send_json_to({"type": "presence.join", "conversation": conversation.pk})
        await _next_presence(b)
        await _next_presence(a)
        from asgiref.sync import sync_to_async

        await sync_to_async(lambda: alice.teams.clear())()
        await b.send_json_to({"type": "typing", "conversation": conversation.pk})
        assert _ids((await _next_presence(b))["typing"]) == []
        # Her socket left the team's group and says so; no presence update follows.
        assert (await a.receive_json_from(timeout=3))["type"] == "rights.changed"
        assert await a.receive_nothing(timeout=0.5)
        await a.disconnect()
        await b.disconnect()

    run_async(scenario)


def test_leave_removes_and_closing_the_socket_leaves(conversation, alice, bob):
    _prepare(alice, bob)

    async def scenario():
        a = await _connect(alice)
        b = await _connect(bob)
        await a.send_json_to({"type": "presence.join", "conversation": conversation.pk})
        await _next_presence(a)
        await b.send_json_to({"type": "presence.join", "conversation": conversation.pk})
        await _next_presence(b)
        assert _ids((await _next_presence(a))["viewers"]) == [bob.pk]
        await b.send_json_to({"type": "presence.leave", "conversation": conversation.pk})
        assert (await _next_presence(a))["viewers"] == []
        assert await b.receive_nothing(timeout=0.3)  # bob left the group too

        await b.send_json_to({"type": "presence.join", "conversation": conversation.pk})
        assert _ids((await _next_presence(a))["viewers"]) == [bob.pk]
        await b.disconnect()
        assert (await _next_presence(a))["viewers"] == []
        await a.disconnect()

    run_async(scenario)


def test_typing_is_relayed_and_fades(conversation, alice, bob, monkeypatch):
    monkeypatch.setattr(presence, "TYPING_TTL", 0.5)
    _prepare(alice, bob)

    async def scenario():
        a = await _connect(alice)
        b = await _connect(bob)
        await a.send_json_to({"type": "presence.join", "conversation": conversation.pk})
        await _next_presence(a)
        await b.send_json_to({"type": "presence.join", "conversation": conversation.pk})
        await _next_presence(a)
        await _next_presence(b)
        await b.send_json_to({"type": "typing", "conversation": conversation.pk})
        update = await _next_presence(a)
        assert _ids(update["typing"]) == [bob.pk]
        assert (await _next_presence(b))["typing"] == []  # nobody is told about their own typing
        await asyncio.sleep(0.7)
        await a.send_json_to({"type": "presence.heartbeat", "conversation": conversation.pk})
        update = await _next_presence(a)
        assert _ids(update["viewers"]) == [bob.pk]
        assert update["typing"] == []
        await a.disconnect()
        await b.disconnect()

    run_async(scenario)


def test_presence_expires_without_heartbeat(conversation, alice, bob, monkeypatch):
    monkeypatch.setattr(presence, "PRESENCE_TTL", 1.0)
    _prepare(alice, bob)

    async def scenario():
        a = await _connect(alice)
        b = await _connect(bob)
        await b.send_json_to({"type": "presence.join", "conversation": conversation.pk})
        await _next_presence(b)
        await asyncio.sleep(1.2)  # bob's page went quiet (closed laptop, no leave)
        await a.send_json_to({"type": "presence.join", "conversation": conversation.pk})
        assert (await _next_presence(a))["viewers"] == []
        await a.disconnect()
        await b.disconnect()

    run_async(scenario)


def test_a_flood_of_presence_messages_is_refused_past_the_limit(conversation, alice):
    _prepare(alice)

    async def scenario():
        a = await _connect(alice)
        for _ in range(presence.RATE_MESSAGES):
            await a.send_json_to({"type": "typing", "conversation": conversation.pk})
            assert (await _next_presence(a))["conversation"] == conversation.pk
        await a.send_json_to({"type": "typing", "conversation": conversation.pk})
        assert await a.receive_json_from(timeout=3) == {"type": "error", "error": presence.ERROR_RATE}
        # The socket stays usable for everything else.
        await a.send_json_to({"type": "ping", "ts": 1})
        assert (await a.receive_json_from(timeout=3))["type"] == "pong"
        await a.disconnect()

    run_async(scenario)


def test_sliding_window_frees_up_as_time_passes():
    from core.rate_window import SlidingWindow

    window = SlidingWindow(2, 10.0)
    assert window.allow(0.0) and window.allow(1.0)
    assert not window.allow(5.0)
    assert window.allow(10.5)  # the first one left the window
    assert not window.allow(10.6)
