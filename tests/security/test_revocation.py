"""An open app socket follows the user's current rights: logout, a new password and deactivation close
it at once (4401); a lost team or a lower role stop that team's or role's events while it stays open."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from accounts.models import Team
from accounts.roles import Role
from accounts.services import do_change_role
from channels_app.services import do_create_channel
from core import realtime
from cxm.asgi import application
from cxm.consumers import CLOSE_UNAUTHENTICATED
from profiles.models import Customer
from tests.conftest import PASSWORD, run_async
from tickets import events
from tickets.models import Conversation, Direction, Message

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://localhost")
CLOSED = {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


def signed_in(user) -> tuple[Client, list[tuple[bytes, bytes]]]:
    """A browser session of `user` and the headers its socket sends."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return client, [ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]


def conversation_of(team: Team, name: str) -> Conversation:
    channel = do_create_channel(kind="email", name=f"{name} mailbox")
    channel.teams.set([team])
    now = timezone.now()
    return Conversation.objects.create(
        customer=Customer.objects.create(name=name), channel=channel, created_at=now, last_activity_at=now
    )


def new_message(conversation: Conversation, text: str) -> None:
    """What the inbound pipeline does after storing a customer's message."""
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=Direction.INBOUND,
        body=text,
        created_at=timezone.now(),
    )
    events.notify_message_created(message, new_conversation=False)


async def open_socket(headers) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/app/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=3))["type"] == "hello"
    return communicator


async def closed_after_earlier_copies(communicator: WebsocketCommunicator) -> dict:
    """The next output that is not a copy of the "before" event: a user in several of the event's
    groups (an admin who is also in the team) may get it once per group before the revoke lands."""
    while True:
        output = await communicator.receive_output(timeout=3)
        if output.get("type") == "websocket.send" and '"preview": "before"' in output.get("text", ""):
            continue
        return output


async def previews(communicator: WebsocketCommunicator, count: int) -> list[str]:
    received = []
    for _ in range(count):
        event = await communicator.receive_json_from(timeout=3)
        assert event["type"] == events.MESSAGE_CREATED
        received.append(event["payload"]["preview"])
    return received


async def rights_changed(communicator: WebsocketCommunicator) -> None:
    """The socket has moved between groups, and says so to the page."""
    assert await communicator.receive_json_from(timeout=3) == {"type": realtime.RIGHTS_CHANGED, "payload": {}}


async def still_open(communicator: WebsocketCommunicator) -> None:
    await communicator.send_json_to({"type": "ping", "ts": 7})
    assert await communicator.receive_json_from(timeout=3) == {"type": "pong", "ts": 7}


def assert_closed_then_silent(revoke, user, conversation) -> None:
    """After `revoke()` the socket closes by itself, and a later message reaches nobody on it."""
    client, headers = signed_in(user)

    async def scenario():
        communicator = await open_socket(headers)
        await sync_to_async(new_message)(conversation, "before")
        assert await previews(communicator, 1) == ["before"]
        await sync_to_async(revoke)(client)
        assert await closed_after_earlier_copies(communicator) == CLOSED
        await sync_to_async(new_message)(conversation, "after: private reply text")
        assert await communicator.receive_nothing(timeout=0.5)

    run_async(scenario)


@pytest.fixture
def team():
    return Team.objects.create(name="Support")


def test_logout_closes_the_socket_of_that_session(make_user, team):
    agent = make_user(Role.AGENT, teams=[team])
    conversation = conversation_of(team, "Anna")

    def log_out(client: Client) -> None:
        assert client.post("/accounts/logout/").status_code == 302

    assert_closed_then_silent(log_out, agent, conversation)


def test_logout_of_one_session_leaves_the_users_other_sessions_open(make_user, team):
    agent = make_user(Role.AGENT, teams=[team])
    conversation = conversation_of(team, "Anna")
    laptop, laptop_headers = signed_in(agent)
    _, phone_headers = signed_in(agent)

    async def scenario():
        on_laptop = await open_socket(laptop_headers)
        on_phone = await open_socket(phone_headers)
        await sync_to_async(laptop.post)("/accounts/logout/")
        assert await on_laptop.receive_output(timeout=3) == CLOSED
        await sync_to_async(new_message)(conversation, "still for the phone")
        assert await previews(on_phone, 1) == ["still for the phone"]
        await on_phone.disconnect()

    run_async(scenario)


def test_password_set_by_an_admin_closes_the_users_sockets(make_user, admin_user, team):
    agent = make_user(Role.AGENT, teams=[team])
    conversation = conversation_of(team, "Anna")
    admin_user.is_superuser = True  # the Django admin's password form needs the model permission
    admin_user.save()
    admin = Client()
    admin.force_login(admin_user)

    def admin_sets_password(_client: Client) -> None:
        response = admin.post(
            f"/admin/accounts/user/{agent.pk}/password/",
            {"password1": "a-new-long-passphrase-42", "password2": "a-new-long-passphrase-42"},
        )
        assert response.status_code == 302, response.content[:500]

    assert_closed_then_silent(admin_sets_password, agent, conversation)


def test_own_password_change_closes_the_other_sessions(make_user, team):
    """Django's password change keeps the changing session (update_session_auth_hash); the rest end."""
    user = make_user(Role.ADMIN, teams=[team])  # the one password-change page the product has is the admin's
    conversation = conversation_of(team, "Anna")

    def change_in_another_browser(_client: Client) -> None:
        other, _ = signed_in(user)
        response = other.post(
            "/admin/password_change/",
            {
                "old_password": PASSWORD,
                "new_password1": "a-new-long-passphrase-42",
                "new_password2": "a-new-long-passphrase-42",
            },
        )
        assert response.status_code == 302, response.content[:500]
        assert other.get("/inbox/").status_code == 200  # that session survived the change

    assert_closed_then_silent(change_in_another_browser, user, conversation)


def test_password_saved_anywhere_closes_the_sockets(make_user, team):
    agent = make_user(Role.AGENT, teams=[team])
    conversation = conversation_of(team, "Anna")

    def set_password(_client: Client) -> None:
        agent.set_password("a-new-long-passphrase-42")
        agent.save()

    assert_closed_then_silent(set_password, agent, conversation)


def test_deactivation_closes_the_socket_before_any_event(make_user, team):
    agent = make_user(Role.AGENT, teams=[team])
    conversation = conversation_of(team, "Anna")

    def deactivate(_client: Client) -> None:
        from accounts.services import do_deactivate_user

        do_deactivate_user(user=agent)

    assert_closed_then_silent(deactivate, agent, conversation)


def test_a_session_ended_without_any_hook_is_caught_by_the_auth_epoch(make_user, team, monkeypatch):
    """If the push to the socket is lost, the per-user epoch still makes the next event re-check."""
    from cxm import consumers

    monkeypatch.setattr(consumers, "EPOCH_CACHE_SECONDS", 0.0)
    agent = make_user(Role.AGENT, teams=[team])
    conversation = conversation_of(team, "Anna")
    _, headers = signed_in(agent)

    def end_sessions_quietly() -> None:
        Session.objects.all().delete()
        realtime.bump_auth_epochs([agent.pk])  # what every revoking change does besides the push

    async def scenario():
        communicator = await open_socket(headers)
        await sync_to_async(end_sessions_quietly)()
        await sync_to_async(new_message)(conversation, "after: private reply text")
        assert await communicator.receive_output(timeout=3) == CLOSED
        assert await communicator.receive_nothing(timeout=0.3)

    run_async(scenario)


@pytest.mark.parametrize("how", ["user.teams.remove", "team.members.set", "team.members.clear"])
def test_removal_from_a_team_stops_that_teams_events_and_keeps_the_socket(make_user, team, how):
    billing = Team.objects.create(name="Billing")
    agent = make_user(Role.AGENT, teams=[team, billing])
    colleague = make_user(Role.AGENT, teams=[billing])
    ours = conversation_of(team, "Anna")
    theirs = conversation_of(billing, "Boris")
    _, headers = signed_in(agent)

    def remove() -> None:
        if how == "user.teams.remove":
            agent.teams.remove(billing)
        elif how == "team.members.set":
            billing.members.set([colleague])
        else:
            billing.members.clear()

    async def scenario():
        communicator = await open_socket(headers)
        await sync_to_async(new_message)(theirs, "billing before")
        assert await previews(communicator, 1) == ["billing before"]
        await sync_to_async(remove)()
        # Published before the socket has handled the change: it must be dropped all the same.
        await sync_to_async(new_message)(theirs, "billing after: private reply text")
        await rights_changed(communicator)
        await sync_to_async(new_message)(ours, "support after")
        assert await previews(communicator, 1) == ["support after"]
        assert await communicator.receive_nothing(timeout=0.5)
        await still_open(communicator)
        await communicator.disconnect()

    run_async(scenario)


def test_joining_a_team_brings_its_events_to_the_open_socket(make_user, team):
    billing = Team.objects.create(name="Billing")
    agent = make_user(Role.AGENT, teams=[team])
    theirs = conversation_of(billing, "Boris")
    _, headers = signed_in(agent)

    async def scenario():
        communicator = await open_socket(headers)
        await sync_to_async(billing.members.add)(agent)
        await rights_changed(communicator)
        await sync_to_async(new_message)(theirs, "now yours too")
        assert await previews(communicator, 1) == ["now yours too"]
        await communicator.disconnect()

    run_async(scenario)


def test_role_downgrade_stops_all_access_events_and_keeps_own_teams(make_user, team):
    manager = make_user(Role.MANAGER, teams=[team])
    ours = conversation_of(team, "Anna")
    elsewhere = conversation_of(Team.objects.create(name="Billing"), "Boris")
    _, headers = signed_in(manager)

    async def scenario():
        communicator = await open_socket(headers)
        await sync_to_async(new_message)(elsewhere, "seen as manager")
        assert await previews(communicator, 1) == ["seen as manager"]
        await sync_to_async(do_change_role)(user=manager, role=Role.AGENT)
        await sync_to_async(new_message)(elsewhere, "hidden from agents")
        await rights_changed(communicator)
        await sync_to_async(new_message)(ours, "own team")
        # Before, "own team" would have come twice (the manager group and the team group).
        received = [await communicator.receive_json_from(timeout=3)]
        while not await communicator.receive_nothing(timeout=0.5):
            received.append(await communicator.receive_json_from(timeout=1))
        assert {event["payload"]["preview"] for event in received} == {"own team"}
        await still_open(communicator)
        await communicator.disconnect()

    run_async(scenario)


def test_role_upgrade_joins_the_all_access_groups(make_user, team):
    agent = make_user(Role.AGENT, teams=[team])
    elsewhere = conversation_of(Team.objects.create(name="Billing"), "Boris")
    _, headers = signed_in(agent)

    async def scenario():
        communicator = await open_socket(headers)
        await sync_to_async(do_change_role)(user=agent, role=Role.MANAGER)
        await rights_changed(communicator)
        await sync_to_async(new_message)(elsewhere, "now visible")
        assert await previews(communicator, 1) == ["now visible"]
        await communicator.disconnect()

    run_async(scenario)
