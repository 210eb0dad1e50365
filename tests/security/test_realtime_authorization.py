"""The websocket is an API: every realtime event type about a conversation, and every message type a
browser may send about one, is checked against who may see that conversation.

Two agents are connected to /ws/app/ at once: the EN agent, who must receive each event (so a silent
RU socket proves something), and the RU agent, who must receive nothing about the EN conversation.
Events are produced by the services that publish them in production, through the real Redis layer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import ModuleType

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings

from analytics import views_live
from core import events as domain_events
from core import realtime
from cxm import presence
from cxm.asgi import application
from cxm.consumers import CLOSE_UNAUTHENTICATED
from tests.conftest import run_async
from tests.security.world import World, build_world
from tickets import conversation_services, events

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://localhost")

# Where event names are defined (cxm/realtime.py says: the one place; apps add theirs beside it).
EVENT_MODULES: list[ModuleType] = [realtime, events, conversation_services, views_live]
_EVENT_NAME = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


def _trigger_message(world: World, *, new: bool) -> None:
    events.notify_message_created(world.message_in, new_conversation=new)


def _trigger_status(world: World) -> None:
    from tickets.reply_delivery import do_retry_outbound

    do_retry_outbound(
        actor=world.users["admin"], conversation=world.conversation_en, message_id=world.message_out.pk
    )


def _trigger_update(world: World) -> None:
    conversation_services.do_set_status(
        conversation=world.conversation_en, actor=world.users["admin"], status="pending"
    )


def _trigger_note(world: World) -> None:
    # Mentioning the RU agent too: a mention must not carry the conversation to someone who cannot open it.
    conversation_services.do_add_internal_note(
        conversation=world.conversation_en,
        author=world.users["admin"],
        body="@matrix.agent @matrix.other please look",
    )


def _trigger_answer(world: World) -> None:
    answered = domain_events.SurveyAnswered(
        response_id=0,
        survey_id=world.survey.pk,
        customer_id=world.customer.pk,
        conversation_id=world.conversation_en.pk,
        score=3,
        detractor=True,
    )
    views_live.announce_answers([answered])


# Each event type about a conversation, and how the product produces it for the EN conversation.
# None: the event carries no conversation of its own (addressed to one user by the service that knows).
TRIGGERS: dict[str, Callable[[World], None] | None] = {
    events.MESSAGE_CREATED: lambda w: _trigger_message(w, new=False),
    events.CONVERSATION_CREATED: lambda w: _trigger_message(w, new=True),
    events.MESSAGE_STATUS: _trigger_status,
    conversation_services.CONVERSATION_UPDATED: _trigger_update,
    conversation_services.NOTE_CREATED: _trigger_note,
    # Sent to one user's group; the mention above checks it does not reach the RU agent.
    realtime.SYSTEM_NOTICE: None,
    views_live.DASHBOARDS_CHANGED: _trigger_answer,
}
# Names that exist in the event modules but carry no conversation: revocation signals addressed to one
# user's sockets (their rights changed; the layer message that makes a socket re-check them).
NOT_ABOUT_A_CONVERSATION = {"rights.changed", "auth.revoke"}


def _event_names() -> set[str]:
    names = set()
    for module in EVENT_MODULES:
        for attribute, value in vars(module).items():
            if attribute.isupper() and isinstance(value, str) and _EVENT_NAME.match(value):
                names.add(value)
    return names


def _headers(world: World, role: str) -> list[tuple[bytes, bytes]]:
    cookie = f"{settings.SESSION_COOKIE_NAME}={world.sessions[role]}"
    return [ORIGIN, (b"cookie", cookie.encode())]


async def _connect(world: World, role: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/app/", headers=_headers(world, role))
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=3))["type"] == "hello"
    return communicator


async def _drain(communicator: WebsocketCommunicator, wait: float) -> list[dict]:
    frames = []
    while not await communicator.receive_nothing(timeout=wait):
        frames.append(await communicator.receive_json_from(timeout=1))
    return frames


@pytest.fixture
def world(tmp_path):
    with override_settings(MEDIA_ROOT=str(tmp_path)):
        yield build_world()


def test_every_realtime_event_type_has_an_entry():
    missing = sorted(_event_names() - set(TRIGGERS) - NOT_ABOUT_A_CONVERSATION)
    assert not missing, (
        f"realtime event types without an entry in TRIGGERS ({__name__}): {missing}; say how the product "
        "produces each for a conversation, so the other team's socket is shown not to receive it"
    )


def test_an_anonymous_socket_is_closed():
    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/app/", headers=[ORIGIN])
        connected, _ = await communicator.connect()
        assert connected  # accepted, then closed with the reason
        assert await communicator.receive_output(timeout=3) == {
            "type": "websocket.close",
            "code": CLOSE_UNAUTHENTICATED,
        }

    run_async(scenario)


def test_events_about_a_conversation_reach_only_those_who_may_see_it(world):
    def produce(event_type: str) -> None:
        TRIGGERS[event_type](world)

    async def scenario() -> list[str]:
        ours = await _connect(world, "agent")
        theirs = await _connect(world, "agent_other_team")
        wrong = []
        for event_type, trigger in TRIGGERS.items():
            if trigger is None:
                continue
            await sync_to_async(produce)(event_type)
            got_ours = await _drain(ours, 0.5)
            got_theirs = await _drain(theirs, 0.2)
            if event_type not in {frame["type"] for frame in got_ours}:
                wrong.append(f"{event_type}: the EN agent did not receive it (got {got_ours})")
            if got_theirs:
                wrong.append(f"{event_type}: the RU agent received {got_theirs}")
        await ours.disconnect()
        await theirs.disconnect()
        return wrong

    wrong = run_async(scenario)
    assert not wrong, "\n".join(wrong)


def test_presence_messages_about_a_hidden_conversation_are_refused(world):
    async def scenario() -> list[str]:
        ours = await _connect(world, "agent")
        theirs = await _connect(world, "agent_other_team")
        wrong = []
        for kind in sorted(presence.MESSAGE_TYPES):
            await theirs.send_json_to({"type": kind, "conversation": world.conversation_en.pk})
            answer = await theirs.receive_json_from(timeout=3)
            if answer.get("error") != presence.ERROR_FORBIDDEN:
                wrong.append(f"{kind} from the RU agent: {answer}")
        # The EN agent joining is announced to the room, never to the RU socket that tried to join it.
        await ours.send_json_to({"type": presence.JOIN, "conversation": world.conversation_en.pk})
        await _drain(ours, 0.3)
        leaked = await _drain(theirs, 0.3)
        if leaked:
            wrong.append(f"the RU agent received {leaked}")
        await ours.disconnect()
        await theirs.disconnect()
        return wrong

    wrong = run_async(scenario)
    assert not wrong, "\n".join(wrong)


def test_the_web_chat_socket_serves_web_chat_channels_only(world):
    """The visitors' socket is public, but an email channel's id opens nothing."""

    async def scenario():
        path = f"/ws/webchat/{world.channel_en.pk}/"
        communicator = WebsocketCommunicator(
            application, path, headers=[(b"origin", b"https://shop.example")]
        )
        connected, _ = await communicator.connect()
        if connected:
            frames = []
            while True:
                output = await communicator.receive_output(timeout=3)
                if output["type"] == "websocket.close":
                    break
                frames.append(output)
            assert output["code"] >= 4000, output
        await communicator.disconnect()

    run_async(scenario)
