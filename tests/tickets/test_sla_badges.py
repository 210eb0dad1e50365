"""SLA badges: the nearest deadline and the time left, on track / at risk / breached, in the inbox rows and
the conversation header, with no extra queries per row."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Team
from accounts.roles import Role
from channels_app.models import Channel
from profiles.models import Customer
from tickets.models import Conversation, ConversationStatus
from tickets.sla import sla_state
from tickets.sla_models import SlaPolicy

pytestmark = pytest.mark.django_db
BADGE_RE = re.compile(r'data-testid="sla-badge" data-sla-kind="(\w+)" data-sla-state="(\w+)"')


@pytest.fixture
def team():
    return Team.objects.create(name="Support")


@pytest.fixture
def channel(team):
    channel = Channel.objects.create(kind="email", name="Support mailbox", address="help@acme.test")
    channel.teams.add(team)
    return channel


@pytest.fixture
def agent(make_user, team):
    return make_user(Role.AGENT, teams=[team], username="alice")


def conversation(channel, *, created_minutes_ago: int = 600, **fields) -> Conversation:
    created = timezone.now() - timedelta(minutes=created_minutes_ago)
    customer = Customer.objects.create(name="Anna Kowalska")
    return Conversation.objects.create(
        customer=customer, channel=channel, created_at=created, last_activity_at=created, **fields
    )


def badge(conv: Conversation) -> tuple[str, str] | None:
    html = Template("{% sla_badge conversation %}").render(Context({"conversation": conv}))
    found = BADGE_RE.findall(html)
    assert len(found) <= 1
    return found[0] if found else None


def ago(minutes: float):
    return timezone.now() - timedelta(minutes=minutes)


def later(minutes: float):
    return timezone.now() + timedelta(minutes=minutes)


def test_no_badge_without_deadlines_or_when_resolved(channel):
    assert badge(conversation(channel)) is None
    resolved = conversation(
        channel, status=ConversationStatus.RESOLVED, waiting_since=ago(5), first_response_due_at=ago(1)
    )
    assert badge(resolved) is None


def test_first_response_on_track_at_risk_and_breached(channel):
    on_track = conversation(channel, waiting_since=ago(10), first_response_due_at=later(50))
    at_risk = conversation(channel, waiting_since=ago(55), first_response_due_at=later(5))
    breached = conversation(channel, waiting_since=ago(70), first_response_due_at=ago(10))
    assert badge(on_track) == ("first_response", "on_track")
    assert badge(at_risk) == ("first_response", "at_risk")
    assert badge(breached) == ("first_response", "breached")


def test_next_response_counts_once_answered_and_the_nearest_deadline_wins(channel):
    answered = ago(120)
    waiting = conversation(
        channel,
        first_response_at=answered,
        first_response_due_at=ago(100),  # met long ago: not owed any more
        waiting_since=ago(30),
        next_response_due_at=later(30),
        resolution_due_at=later(600),
    )
    assert badge(waiting) == ("next_response", "on_track")
    # Answered and not waiting: only resolution is owed, and it is near its end.
    idle = conversation(
        channel, created_minutes_ago=600, first_response_at=answered, resolution_due_at=later(10)
    )
    assert badge(idle) == ("resolution", "at_risk")
    # Resolution comes before the response deadline: it is the one shown.
    sooner = conversation(
        channel, waiting_since=ago(5), first_response_due_at=later(120), resolution_due_at=ago(1)
    )
    assert badge(sooner) == ("resolution", "breached")


def test_badge_agrees_with_sla_state_on_kind_and_breach(channel):
    now = timezone.now()
    cases = [
        conversation(channel, waiting_since=ago(10), first_response_due_at=later(50)),
        conversation(
            channel, waiting_since=ago(70), first_response_due_at=ago(10), resolution_due_at=later(5)
        ),
        conversation(channel, first_response_at=ago(60), waiting_since=ago(5), next_response_due_at=ago(1)),
        conversation(channel, first_response_at=ago(60), resolution_due_at=later(300)),
    ]
    for conv in cases:
        state = sla_state(conv, now)
        assert state is not None
        kind, shown = badge(conv)
        assert kind == state["kind"]
        assert (shown == "breached") == state["breached"]


def test_badge_shows_a_relative_time_label_and_colour(channel):
    conv = conversation(channel, waiting_since=ago(70), first_response_due_at=ago(10))
    html = Template("{% sla_badge conversation %}").render(Context({"conversation": conv}))
    assert "First response" in html and "SLA breached" in html
    assert "<time datetime=" in html and "data-relative" in html
    assert "var(--danger)" in html


def test_inbox_rows_and_conversation_header_show_badges_without_extra_queries(channel, agent):
    policy = SlaPolicy.objects.create(name="Standard", first_response_minutes=60, resolution_minutes=600)
    for n in range(3):
        conversation(channel, waiting_since=ago(70), first_response_due_at=ago(10 + n), sla_policy=policy)
    client = Client()
    client.force_login(agent)
    client.get("/inbox/")
    with CaptureQueriesContext(connection) as few:
        html = client.get("/inbox/").content.decode()
    assert BADGE_RE.findall(html) == [("first_response", "breached")] * 3
    for n in range(10):
        conversation(channel, waiting_since=ago(5), first_response_due_at=later(55 + n), sla_policy=policy)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/inbox/").content.decode()
    assert len(BADGE_RE.findall(html)) == 13
    assert len(many) == len(few)

    conv = Conversation.objects.order_by("pk").first()
    page = client.get(f"/inbox/{conv.pk}/").content.decode()
    assert BADGE_RE.findall(page) == [("first_response", "breached")]
