"""The browser's websocket is an API: it needs a session, and every event is re-authorized."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from core import realtime
from cxm.asgi import application
from cxm.consumers import CLOSE_UNAUTHENTICATED
from tests.conftest import run_async

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://localhost")


def _session_headers(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]


def test_anonymous_connection_is_closed_with_4401():
    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/app/", headers=[ORIGIN])
        connected, _ = await communicator.connect()
        assert connected
        closed = await communicator.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}

    run_async(scenario)


def test_foreign_origin_is_refused(agent):
    headers = [(b"origin", b"https://evil.example"), *_session_headers(agent)[1:]]

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/app/", headers=headers)
        connected, _ = await communicator.connect()
        assert not connected

    run_async(scenario)


def test_signed_in_user_gets_hello_pong_and_own_events(agent, make_user):
    headers = _session_headers(agent)
    other = make_user()

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/app/", headers=headers)
        connected, _ = await communicator.connect()
        assert connected
        assert (await communicator.receive_json_from(timeout=3))["type"] == "hello"
        await communicator.send_json_to({"type": "ping", "ts": 42})
        assert await communicator.receive_json_from(timeout=3) == {"type": "pong", "ts": 42}

        await sync_to_async(realtime.publish_now)(
            [realtime.user_group(other.pk)], realtime.SYSTEM_NOTICE, {"level": "info", "text": "not for you"}
        )
        await sync_to_async(realtime.publish_now)(
            [realtime.user_group(agent.pk)], realtime.SYSTEM_NOTICE, {"level": "info", "text": "hi"}
        )
        event = await communicator.receive_json_from(timeout=3)
        assert event == {"type": realtime.SYSTEM_NOTICE, "payload": {"level": "info", "text": "hi"}}
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()

    run_async(scenario)


def test_a_batch_reaches_the_browser_as_separate_events_in_order_and_only_its_group(agent, make_user):
    headers = _session_headers(agent)
    other = make_user()

    def publish_batch() -> None:
        with realtime.batched():
            for n in range(3):
                realtime.publish_now(
                    [realtime.user_group(agent.pk)], realtime.SYSTEM_NOTICE, {"level": "info", "text": str(n)}
                )
            realtime.publish_now(
                [realtime.user_group(other.pk)], realtime.SYSTEM_NOTICE, {"level": "info", "text": "other"}
            )

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/app/", headers=headers)
        await communicator.connect()
        await communicator.receive_json_from(timeout=3)
        await sync_to_async(publish_batch)()
        texts = [(await communicator.receive_json_from(timeout=3))["payload"]["text"] for _ in range(3)]
        assert texts == ["0", "1", "2"]
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()

    run_async(scenario)


def test_a_batch_for_a_deactivated_user_closes_the_socket_and_sends_nothing(agent):
    headers = _session_headers(agent)

    def publish_batch() -> None:
        with realtime.batched():
            for text in ("a", "b"):
                realtime.publish_now(
                    [realtime.user_group(agent.pk)], realtime.SYSTEM_NOTICE, {"level": "info", "text": text}
                )

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/app/", headers=headers)
        await communicator.connect()
        await communicator.receive_json_from(timeout=3)
        agent.is_active = False
        await sync_to_async(agent.save)()
        await sync_to_async(publish_batch)()
        closed = await communicator.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}

    run_async(scenario)


def test_unknown_messages_get_an_error_not_a_crash(agent):
    headers = _session_headers(agent)

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/app/", headers=headers)
        await communicator.connect()
        await communicator.receive_json_from(timeout=3)
        await communicator.send_json_to({"type": "subscribe", "conversation": 1})
        assert await communicator.receive_json_from(timeout=3) == {
            "type": "error",
            "error": "unknown message type",
        }
        await communicator.send_json_to([1, 2])
        assert (await communicator.receive_json_from(timeout=3))["type"] == "error"
        await communicator.disconnect()

    run_async(scenario)


def test_deactivated_user_is_disconnected_on_the_next_event(agent):
    headers = _session_headers(agent)

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/app/", headers=headers)
        await communicator.connect()
        await communicator.receive_json_from(timeout=3)
        agent.is_active = False
        await sync_to_async(agent.save)()
        await sync_to_async(realtime.publish_now)(
            [realtime.user_group(agent.pk)], realtime.SYSTEM_NOTICE, {"level": "info", "text": "secret"}
        )
        closed = await communicator.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}

    run_async(scenario)


def test_publish_waits_for_commit(agent):
    """Events published inside a transaction that rolls back never reach anyone."""
    from django.db import transaction

    headers = _session_headers(agent)

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/app/", headers=headers)
        await communicator.connect()
        await communicator.receive_json_from(timeout=3)

        def rolled_back():
            try:
                with transaction.atomic():
                    realtime.publish(
                        [realtime.user_group(agent.pk)], realtime.SYSTEM_NOTICE, {"text": "rolled back"}
                    )
                    raise RuntimeError
            except RuntimeError:
                pass
            with transaction.atomic():
                realtime.publish(
                    [realtime.user_group(agent.pk)], realtime.SYSTEM_NOTICE, {"text": "committed"}
                )

        await sync_to_async(rolled_back)()
        event = await communicator.receive_json_from(timeout=3)
        assert event["payload"] == {"text": "committed"}
        await communicator.disconnect()

    run_async(scenario)
