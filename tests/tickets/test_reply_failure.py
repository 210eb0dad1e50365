"""A reply that fails says so: "Send and resolve" resolves only once the reply is out, the reason is
shown next to it, and the same outbound row can be sent again."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team
from accounts.roles import Role
from channels_app.models import OutboundMessage, OutboundStatus
from channels_app.outbound import RetryLater, do_send
from channels_app.services import do_create_channel
from core import realtime
from profiles.models import Customer, Identity, IdentityKind
from tests.pipeline import fixture_bytes
from tickets.models import Conversation, ConversationStatus, Direction, Message
from tickets.reply_delivery import failure_reason

pytestmark = pytest.mark.django_db
TOKEN = "7000000001:AAFakeTokenForTests"
# What the adapter records for the Bot API's 403 answer (channels_app/adapters/telegram/fixtures/api).
REFUSED = "provider refused (403): " + json.dumps(
    {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
)
BLOCKED = "Not delivered: Telegram said: Forbidden: bot was blocked by the user"


def answer(name: str):
    """The Bot API's answer from a fixture, with the HTTP status it comes with."""
    body = json.loads(fixture_bytes("telegram", f"api/{name}"))
    return lambda request: (200 if body["ok"] else body["error_code"], body)


@pytest.fixture
def team():
    return Team.objects.create(name="Support")


@pytest.fixture
def agent(make_user, team):
    return make_user(Role.AGENT, teams=[team], username="alice")


@pytest.fixture
def outsider(make_user):
    return make_user(Role.AGENT, teams=[Team.objects.create(name="Sales")], username="olga")


@pytest.fixture
def bot(team):
    channel = do_create_channel(kind="telegram", name="Acme Bot", credentials={"bot_token": TOKEN})
    channel.teams.add(team)
    return channel


@pytest.fixture
def stub(provider_stub):
    return provider_stub("telegram")


@pytest.fixture
def conversation(bot):
    customer = Customer.objects.create(name="Дмитрий Соколов")
    Identity.objects.create(customer=customer, kind=IdentityKind.TELEGRAM, value="284716392")
    now = timezone.now() - timedelta(minutes=5)
    conv = Conversation.objects.create(
        customer=customer, channel=bot, subject="Где мой заказ?", created_at=now, last_activity_at=now
    )
    Message.objects.create(
        conversation=conv, channel=bot, direction=Direction.INBOUND, body="Где мой заказ?", created_at=now
    )
    return conv


@pytest.fixture
def published(monkeypatch):
    sent: list[tuple[list[str], str, dict]] = []
    monkeypatch.setattr(
        realtime, "publish", lambda groups, kind, payload: sent.append((list(groups), kind, payload))
    )
    return sent


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send_and_resolve(client, conversation, text="Заказ в пути!", **extra):
    return client.post(
        reverse("conversation_reply", kwargs={"pk": conversation.pk}),
        {"channel": conversation.channel_id, "text": text, "resolve": "1", "force": "1"},
        **extra,
    )


def page(client, conversation) -> str:
    return client.get(reverse("conversation_detail", kwargs={"pk": conversation.pk})).content.decode()


def retry_url(conversation, message) -> str:
    return reverse("conversation_retry", kwargs={"pk": conversation.pk, "message_id": message.pk})


def outbound_of(conversation) -> OutboundMessage:
    return OutboundMessage.objects.select_related("message").get(message__conversation=conversation)


# --- Send and resolve ------------------------------------------------------------------------------------
def test_send_and_resolve_resolves_once_the_reply_is_sent(agent, conversation, stub):
    stub.route("POST", rf"/bot{TOKEN}/sendMessage", answer("sendMessage__ok.json"))
    client = client_for(agent)
    response = send_and_resolve(client, conversation, HTTP_HX_REQUEST="true")
    assert "the conversation is resolved as soon as it is sent" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN  # queued, not sent yet

    outbound = outbound_of(conversation)
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.RESOLVED and conversation.resolved_at is not None
    # A later "delivered" does not resolve again what someone reopened meanwhile.
    Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.OPEN)
    from channels_app.normalized import StatusUpdate
    from channels_app.outbound_status import do_apply_status_update

    update = StatusUpdate(
        provider_message_id=outbound_of(conversation).provider_message_id, status="delivered"
    )
    assert do_apply_status_update(channel=conversation.channel, update=update)
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN


def test_send_and_resolve_that_fails_leaves_the_conversation_open_and_says_why(
    agent, conversation, stub, published
):
    stub.route("POST", rf"/bot{TOKEN}/sendMessage", answer("sendMessage__forbidden_blocked.json"))
    client = client_for(agent)
    send_and_resolve(client, conversation)
    outbound = outbound_of(conversation)
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.FAILED

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN and conversation.resolved_at is None
    assert "resolve_on_sent" not in outbound_of(conversation).message.metadata  # a retry only sends
    # The author is told wherever they are in the app.
    notices = [(g, p) for g, kind, p in published if kind == realtime.SYSTEM_NOTICE]
    assert notices and notices[0][0] == [realtime.user_group(agent.pk)]
    assert "Forbidden: bot was blocked by the user" in notices[0][1]["text"]
    assert "stays open" in notices[0][1]["text"]
    assert notices[0][1]["url"] == reverse("conversation_detail", kwargs={"pk": conversation.pk})
    # ... and the thread shows the reason next to the reply, with a Retry button.
    html = page(client, conversation)
    assert BLOCKED in html
    assert f'action="{retry_url(conversation, outbound.message)}"' in html
    assert 'data-delivery-status="failed"' in html


def test_a_channel_that_cannot_reach_the_customer_is_refused_at_once(agent, conversation, team):
    email = do_create_channel(kind="email", name="Mailbox", address="help@acme.test")
    email.teams.add(team)
    response = client_for(agent).post(
        reverse("conversation_reply", kwargs={"pk": conversation.pk}),
        {"channel": email.pk, "text": "Hello", "resolve": "1", "force": "1"},
        HTTP_HX_REQUEST="true",
    )
    # htmx gets the reply box back with the error (without htmx it is a 400 page).
    assert 'data-testid="reply-error"' in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN
    assert not OutboundMessage.objects.exists()


def test_no_identity_for_the_channel_is_a_reply_error(agent, conversation, team):
    from tickets.replies import ReplyError, do_send_reply

    sms = do_create_channel(kind="sms", name="Acme SMS")
    with pytest.raises(ReplyError, match="The customer has no Phone"):
        do_send_reply(conversation=conversation, author=agent, channel=sms, text="Hi", resolve_on_sent=True)
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_a_temporary_error_keeps_the_reply_queued_for_the_worker_to_try_again(agent, conversation, stub):
    stub.route("POST", rf"/bot{TOKEN}/sendMessage", answer("sendMessage__too_many_requests.json"))
    client = client_for(agent)
    send_and_resolve(client, conversation)
    outbound = outbound_of(conversation)
    with pytest.raises(RetryLater) as later:
        do_send(outbound_id=outbound.pk)
    assert later.value.delay == 5
    outbound.refresh_from_db()
    assert (outbound.status, outbound.attempts) == (OutboundStatus.QUEUED, 1)
    assert "Too Many Requests" in outbound.error
    html = page(client, conversation)
    assert 'data-delivery-status="queued"' in html and 'data-testid="delivery-failure"' not in html
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN


# --- Retry -----------------------------------------------------------------------------------------------
def test_retry_queues_the_same_outbound_once_and_shows_the_next_outcome(
    agent, conversation, stub, django_capture_on_commit_callbacks
):
    stub.route("POST", rf"/bot{TOKEN}/sendMessage", answer("sendMessage__forbidden_blocked.json"))
    client = client_for(agent)
    send_and_resolve(client, conversation)
    outbound = outbound_of(conversation)
    do_send(outbound_id=outbound.pk)

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(retry_url(conversation, outbound.message), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert [c for c in queued if c.__qualname__.startswith("do_retry_outbound.")]  # the send task
    retried = outbound_of(conversation)
    assert retried.pk == outbound.pk
    assert (retried.status, retried.error, retried.attempts) == (OutboundStatus.QUEUED, "", 0)
    assert BLOCKED not in response.content.decode()
    assert 'data-delivery-status="queued"' in response.content.decode()

    # A second click changes nothing and queues nothing.
    with django_capture_on_commit_callbacks() as again:
        client.post(retry_url(conversation, outbound.message), HTTP_HX_REQUEST="true")
    assert not [c for c in again if c.__qualname__.startswith("do_retry_outbound.")]
    assert OutboundMessage.objects.count() == 1

    # It fails again: shown again.
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.FAILED
    assert BLOCKED in page(client, conversation)

    # The customer unblocked the bot: the next retry goes out, and the failure is gone from the thread.
    stub.route("POST", rf"/bot{TOKEN}/sendMessage", answer("sendMessage__ok.json"))
    client.post(retry_url(conversation, outbound.message))
    assert do_send(outbound_id=outbound.pk) == OutboundStatus.SENT
    html = page(client, conversation)
    assert 'data-delivery-status="sent"' in html and BLOCKED not in html
    assert len([r for r in stub.requests if r.path.endswith("/sendMessage")]) == 3
    # The resolve asked for with the first send does not come back with a retry.
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN


def test_retry_is_only_for_who_may_see_and_only_for_failed_replies(agent, outsider, conversation, stub):
    stub.route("POST", rf"/bot{TOKEN}/sendMessage", answer("sendMessage__ok.json"))
    client = client_for(agent)
    send_and_resolve(client, conversation)
    outbound = outbound_of(conversation)
    do_send(outbound_id=outbound.pk)

    url = retry_url(conversation, outbound.message)
    assert client_for(outsider).post(url).status_code == 404
    assert Client().post(url).status_code == 302  # anonymous → login
    assert client.get(url).status_code == 405
    # A sent reply is not sent again.
    client.post(url)
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.SENT and outbound.attempts == 1
    # The customer's own message has nothing to retry.
    inbound = Message.objects.get(direction=Direction.INBOUND)
    assert client.post(retry_url(conversation, inbound)).status_code == 404


def test_a_failure_reported_after_sent_reopens_what_the_send_resolved(agent, conversation, stub):
    from channels_app.normalized import StatusUpdate
    from channels_app.outbound_status import do_apply_status_update

    stub.route("POST", rf"/bot{TOKEN}/sendMessage", answer("sendMessage__ok.json"))
    send_and_resolve(client_for(agent), conversation)
    outbound = outbound_of(conversation)
    do_send(outbound_id=outbound.pk)
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.RESOLVED

    outbound.refresh_from_db()
    update = StatusUpdate(
        provider_message_id=outbound.provider_message_id,
        status="failed",
        error="Twilio undelivered, error 30003: Unreachable destination handset",
    )
    do_apply_status_update(channel=conversation.channel, update=update)
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN
    assert "Unreachable destination handset" in page(client_for(agent), conversation)


def test_failed_replies_add_no_queries_per_message(agent, conversation):
    client = client_for(agent)
    url = reverse("conversation_detail", kwargs={"pk": conversation.pk})
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    def failed_reply(n: int) -> None:
        reply = Message.objects.create(
            conversation=conversation, channel=conversation.channel, direction=Direction.OUTBOUND,
            author=agent, body=f"reply {n}", created_at=timezone.now() + timedelta(seconds=n),
        )  # fmt: skip
        OutboundMessage.objects.create(
            channel=conversation.channel, recipient="284716392", message=reply, status="failed",
            error=REFUSED,
        )  # fmt: skip

    failed_reply(0)
    few = count()
    for n in range(1, 20):
        failed_reply(n)
    assert count() == few
    assert page(client, conversation).count('data-testid="delivery-failure"') == 20


@pytest.mark.parametrize(
    ("error", "provider", "shown"),
    [
        (
            REFUSED,
            "telegram",
            "Telegram said: Forbidden: bot was blocked by the user",
        ),
        (
            "Twilio error 21610: Attempt to send to unsubscribed recipient (provider refused (400): {...})",
            "twilio",
            "Twilio error 21610: Attempt to send to unsubscribed recipient",
        ),
        ("Meta refused (400): the 24-hour messaging window has closed", "meta", None),
        ("provider timed out: read timeout", "telegram", "provider timed out: read timeout"),
        ("", "telegram", "the channel gave no reason"),
    ],
)
def test_failure_reasons_read_like_the_provider(error, provider, shown):
    assert failure_reason(error=error, provider=provider) == (shown or error)
