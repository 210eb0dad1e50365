"""Automatic assignment of new conversations: strategies, availability, capacity, locking, queries."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone

from accounts.models import Team, User
from accounts.roles import Role
from channels_app.models import Channel
from core import realtime
from cxm import urls as cxm_urls
from profiles.models import Customer
from tickets.assignment import do_auto_assign
from tickets.models import AssignmentRule, Conversation, ConversationStatus

# Until tickets.urls includes tickets.urls_assignment, this module serves the routes itself.
urlpatterns = [path("inbox/", include("tickets.urls_assignment")), *cxm_urls.urlpatterns]

pytestmark = pytest.mark.urls(__name__)


@pytest.fixture
def team(db):
    return Team.objects.create(name="Support")


@pytest.fixture
def channel(team):
    channel = Channel.objects.create(kind="telegram", name="Acme Bot")
    channel.teams.add(team)
    return channel


@pytest.fixture
def customer(db):
    return Customer.objects.create(name="Anna Kowalska")


@pytest.fixture
def make_agent(make_user, team):
    def make(username: str, *, availability: str = "online", capacity: int = 10, teams=None) -> User:
        user = make_user(Role.AGENT, teams=[team] if teams is None else teams, username=username)
        user.availability = availability
        user.capacity = capacity
        user.save(update_fields=["availability", "capacity"])
        return user

    return make


def new_conversations(channel, customer, count=1, **extra) -> list[Conversation]:
    now = timezone.now()
    return Conversation.objects.bulk_create(
        [
            Conversation(
                customer=customer,
                channel=channel,
                subject=f"Hello {n}",
                created_at=now,
                last_activity_at=now,
                **extra,
            )
            for n in range(count)
        ]
    )


@pytest.fixture
def sent(monkeypatch):
    """What the realtime layer was asked to send (after commit)."""
    calls: list[tuple[list[str], str, dict]] = []
    monkeypatch.setattr(
        realtime, "publish_now", lambda groups, kind, payload: calls.append((list(groups), kind, payload))
    )
    return calls


def assignees(conversations) -> list[int | None]:
    by_pk = dict(
        Conversation.objects.filter(pk__in=[c.pk for c in conversations]).values_list("pk", "assignee_id")
    )
    return [by_pk[c.pk] for c in conversations]


@pytest.mark.django_db
class TestRoundRobin:
    def test_takes_turns_after_the_last_assignee_and_wraps(self, channel, customer, make_agent):
        a, b, c = make_agent("a"), make_agent("b"), make_agent("c")
        rule = AssignmentRule.objects.create(
            channel=channel, strategy=AssignmentRule.ROUND_ROBIN, last_assignee=b
        )
        conversations = new_conversations(channel, customer, 4)
        assigned = do_auto_assign(conversations=conversations)
        assert len(assigned) == 4
        assert assignees(conversations) == [c.pk, a.pk, b.pk, c.pk]
        rule.refresh_from_db()
        assert rule.last_assignee_id == c.pk
        # The objects passed in know their assignee too (for the events that follow).
        assert [conv.assignee_id for conv in conversations] == [c.pk, a.pk, b.pk, c.pk]

    def test_skips_agents_who_are_not_online_inactive_or_full(self, channel, customer, make_agent, team):
        a = make_agent("a")
        make_agent("busy", availability="busy")
        make_agent("offline", availability="offline")
        full = make_agent("full", capacity=1)
        new_conversations(channel, customer, 1, assignee=full)  # already at capacity
        gone = make_agent("gone")
        User.objects.filter(pk=gone.pk).update(is_active=False)
        AssignmentRule.objects.create(channel=channel, strategy=AssignmentRule.ROUND_ROBIN)
        conversations = new_conversations(channel, customer, 3)
        do_auto_assign(conversations=conversations)
        assert assignees(conversations) == [a.pk, a.pk, a.pk]

    def test_team_rule_applies_when_the_channel_has_none(self, channel, customer, make_agent, team):
        a, b = make_agent("a"), make_agent("b")
        AssignmentRule.objects.create(team=team, strategy=AssignmentRule.ROUND_ROBIN)
        conversations = new_conversations(channel, customer, 2)
        do_auto_assign(conversations=conversations)
        assert assignees(conversations) == [a.pk, b.pk]

    def test_channel_rule_wins_over_team_rule(self, channel, customer, make_agent, team):
        a, b = make_agent("a"), make_agent("b")
        make_agent("c", capacity=0)
        AssignmentRule.objects.create(team=team, strategy=AssignmentRule.ROUND_ROBIN, last_assignee=a)
        AssignmentRule.objects.create(channel=channel, strategy=AssignmentRule.LEAST_LOADED)
        new_conversations(channel, customer, 1, assignee=a)
        conversations = new_conversations(channel, customer, 1)
        do_auto_assign(conversations=conversations)
        assert assignees(conversations) == [b.pk]


@pytest.mark.django_db
class TestLeastLoaded:
    def test_fewest_open_conversations_then_lowest_id(self, channel, customer, make_agent):
        a, b, c = make_agent("a"), make_agent("b"), make_agent("c")
        new_conversations(channel, customer, 2, assignee=a)
        new_conversations(channel, customer, 1, assignee=b)
        # Resolved ones are not load.
        new_conversations(channel, customer, 5, assignee=c, status=ConversationStatus.RESOLVED)
        AssignmentRule.objects.create(channel=channel, strategy=AssignmentRule.LEAST_LOADED)
        conversations = new_conversations(channel, customer, 4)
        do_auto_assign(conversations=conversations)
        # Loads a=2, b=1, c=0 → c, then b/c tie at 1 → b, then c, then a/b/c all 2 → a.
        assert assignees(conversations) == [c.pk, b.pk, c.pk, a.pk]

    def test_capacity_caps_the_run(self, channel, customer, make_agent):
        a = make_agent("a", capacity=2)
        AssignmentRule.objects.create(channel=channel, strategy=AssignmentRule.LEAST_LOADED)
        conversations = new_conversations(channel, customer, 3)
        assigned = do_auto_assign(conversations=conversations)
        assert len(assigned) == 2
        assert assignees(conversations) == [a.pk, a.pk, None]


@pytest.mark.django_db
class TestNothingToDo:
    def test_no_eligible_agent_leaves_it_unassigned(
        self, channel, customer, make_agent, sent, django_capture_on_commit_callbacks
    ):
        make_agent("offline", availability="offline")
        make_agent("busy", availability="busy")
        rule = AssignmentRule.objects.create(channel=channel, strategy=AssignmentRule.ROUND_ROBIN)
        conversations = new_conversations(channel, customer, 2)
        with django_capture_on_commit_callbacks(execute=True):
            assert do_auto_assign(conversations=conversations) == []
        assert assignees(conversations) == [None, None]
        rule.refresh_from_db()
        assert rule.last_assignee_id is None
        assert sent == []

    def test_no_active_rule(self, channel, customer, make_agent, team):
        make_agent("a")
        AssignmentRule.objects.create(channel=channel, is_active=False)
        AssignmentRule.objects.create(team=team, is_active=False)
        conversations = new_conversations(channel, customer, 1)
        assert do_auto_assign(conversations=conversations) == []
        assert assignees(conversations) == [None]

    def test_agents_outside_the_channels_teams_are_not_picked(self, channel, customer, make_agent):
        make_agent("sales", teams=[Team.objects.create(name="Sales")])
        AssignmentRule.objects.create(channel=channel)
        conversations = new_conversations(channel, customer, 1)
        assert do_auto_assign(conversations=conversations) == []

    def test_already_assigned_and_resolved_are_left_alone(self, channel, customer, make_agent, make_user):
        make_agent("a")
        other = make_user(Role.MANAGER, username="boss")
        AssignmentRule.objects.create(channel=channel)
        taken = new_conversations(channel, customer, 1, assignee=other)
        resolved = new_conversations(channel, customer, 1, status=ConversationStatus.RESOLVED)
        # Someone assigned this one after it was loaded.
        stale = new_conversations(channel, customer, 1)
        Conversation.objects.filter(pk=stale[0].pk).update(assignee=other)
        assert do_auto_assign(conversations=[*taken, *resolved, *stale]) == []
        assert assignees([*taken, *resolved, *stale]) == [other.pk, None, other.pk]


@pytest.mark.django_db
def test_assignee_is_told_after_commit(
    channel, customer, make_agent, sent, django_capture_on_commit_callbacks
):
    a = make_agent("a")
    AssignmentRule.objects.create(channel=channel)
    conversations = new_conversations(channel, customer, 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        do_auto_assign(conversations=conversations)
    assert sent == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert sent == [
        (
            [realtime.user_group(a.pk)],
            realtime.SYSTEM_NOTICE,
            {
                "level": "info",
                "text": "New conversation assigned to you",
                "url": f"/inbox/{conversations[0].pk}/",
            },
        )
    ]


@pytest.mark.django_db
def test_query_count_does_not_grow_with_the_batch(channel, customer, make_agent, team):
    for n in range(5):
        make_agent(f"agent{n}", capacity=20)
    second = Channel.objects.create(kind="sms", name="Acme SMS")
    second.teams.add(team)
    AssignmentRule.objects.create(channel=channel, strategy=AssignmentRule.ROUND_ROBIN)
    AssignmentRule.objects.create(team=team, strategy=AssignmentRule.LEAST_LOADED)

    one = new_conversations(channel, customer, 1)
    with CaptureQueriesContext(connection) as small:
        do_auto_assign(conversations=one)
    many = new_conversations(channel, customer, 25) + new_conversations(second, customer, 25)
    with CaptureQueriesContext(connection) as big:
        assigned = do_auto_assign(conversations=many)
    assert len(assigned) == 50
    assert len(big.captured_queries) <= 10
    assert len(big.captured_queries) == len(small.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_two_workers_cannot_hand_out_the_same_turn(channel, customer, make_agent):
    a, b = make_agent("a"), make_agent("b")
    AssignmentRule.objects.create(channel=channel, strategy=AssignmentRule.ROUND_ROBIN)
    first, second = new_conversations(channel, customer, 2)
    first_done = threading.Event()
    errors: list[BaseException] = []

    def worker(conversation: Conversation, *, hold: bool) -> None:
        try:
            with transaction.atomic():
                do_auto_assign(conversations=[conversation])
                if hold:
                    first_done.set()
                    time.sleep(0.5)  # the other worker runs meanwhile; it must wait for this commit
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            first_done.set()
        finally:
            connection.close()

    one = threading.Thread(target=worker, args=(first,), kwargs={"hold": True})
    one.start()
    assert first_done.wait(10)
    two = threading.Thread(target=worker, args=(second,), kwargs={"hold": False})
    two.start()
    one.join(10)
    two.join(10)
    assert not errors
    assert sorted(assignees([first, second])) == sorted([a.pk, b.pk])
    assert AssignmentRule.objects.get().last_assignee_id == b.pk


@pytest.mark.django_db
class TestAvailabilitySwitch:
    def test_agent_sets_own_availability(self, make_agent):
        user = make_agent("a", availability="offline")
        client = Client()
        client.force_login(user)
        response = client.post(
            "/inbox/availability/", {"availability": "busy"}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 204
        assert "availability-changed" in response["HX-Trigger"]
        user.refresh_from_db()
        assert user.availability == "busy"
        response = client.post(
            "/inbox/availability/", {"availability": "online", "next": "https://evil.test/"}
        )
        assert response.status_code == 302
        assert response["Location"] == "/inbox/"
        user.refresh_from_db()
        assert user.availability == "online"

    def test_rejects_unknown_values_and_get(self, make_agent):
        user = make_agent("a", availability="offline")
        client = Client()
        client.force_login(user)
        assert client.post("/inbox/availability/", {"availability": "away"}).status_code == 400
        assert client.get("/inbox/availability/").status_code == 405
        user.refresh_from_db()
        assert user.availability == "offline"

    def test_anonymous_goes_to_login(self):
        response = Client().post("/inbox/availability/", {"availability": "online"})
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
