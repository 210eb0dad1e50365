"""SLA policies, the deadlines each event sets, their state, and the admin that configures them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.test import Client

from accounts.models import User
from channels_app.services import do_create_channel
from profiles.models import Customer
from tickets.admin import BusinessHoursForm
from tickets.models import Conversation, ConversationStatus
from tickets.sla import breach_counts, do_apply_sla, pick_policy, policy_for, sla_state
from tickets.sla_models import BusinessHours, Holiday, SlaPolicy

pytestmark = pytest.mark.django_db
OFFICE = {str(day): [["09:00", "13:00"], ["14:00", "18:00"]] for day in range(1, 6)}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def channel(db):
    return do_create_channel(kind="api", name="SLA", credentials={"signing_secret": "s" * 32})


@pytest.fixture
def other_channel(db):
    return do_create_channel(kind="api", name="Other", credentials={"signing_secret": "o" * 32})


@pytest.fixture
def warsaw(db) -> BusinessHours:
    hours = BusinessHours.objects.create(name="Warsaw", timezone="Europe/Warsaw", intervals=OFFICE)
    Holiday.objects.create(business_hours=hours, date=date(2026, 3, 4), name="Team day")
    return hours


@pytest.fixture
def policy(warsaw) -> SlaPolicy:
    return SlaPolicy.objects.create(
        name="Default",
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=8 * 60,
        business_hours=warsaw,
    )


def conversation(channel, *, at: str = "2026-03-02 08:00", **extra) -> Conversation:
    customer = Customer.objects.create(name="Anna")
    return Conversation.objects.create(
        customer=customer, channel=channel, created_at=utc(at), last_activity_at=utc(at), **extra
    )


def reloaded(conv: Conversation) -> Conversation:
    return Conversation.objects.select_related("sla_policy__business_hours").get(pk=conv.pk)


def test_the_most_specific_active_policy_applies(channel, other_channel):
    anything = SlaPolicy.objects.create(name="Any")
    high = SlaPolicy.objects.create(name="High", priority="high")
    on_channel = SlaPolicy.objects.create(name="Channel", channel=channel)
    both = SlaPolicy.objects.create(name="Channel high", channel=channel, priority="high")
    SlaPolicy.objects.create(name="Off", channel=channel, priority="urgent", is_active=False)

    assert policy_for(conversation(channel, priority="high")) == both
    assert policy_for(conversation(channel, priority="low")) == on_channel
    assert policy_for(conversation(channel, priority="urgent")) == on_channel  # the inactive one is skipped
    assert policy_for(conversation(other_channel, priority="high")) == high
    assert policy_for(conversation(other_channel, priority="low")) == anything
    SlaPolicy.objects.all().delete()
    assert policy_for(conversation(channel)) is None


def test_among_equally_specific_policies_the_oldest_wins():
    first, second = SlaPolicy(pk=1, name="B", priority="high"), SlaPolicy(pk=2, name="A", priority="high")
    assert pick_policy([second, first], channel_id=5, priority="high") == first


def test_a_first_message_sets_waiting_and_business_time_deadlines(channel, policy):
    conv = conversation(channel, at="2026-03-02 23:50")
    # 23:50 UTC on Monday is 00:50 Tuesday in Warsaw: the clock starts at Tuesday 09:00 (08:00 UTC).
    assert do_apply_sla(conversations=[conv], event="customer_message", at=utc("2026-03-02 23:50")) == 1
    conv = reloaded(conv)
    assert conv.sla_policy == policy
    assert conv.waiting_since == utc("2026-03-02 23:50")
    assert conv.first_response_due_at == utc("2026-03-03 09:00")
    assert conv.next_response_due_at is None
    # Eight working hours from Tuesday 09:00, over lunch, end at 18:00 Warsaw.
    assert conv.resolution_due_at == utc("2026-03-03 17:00")


def test_the_conversation_cycle(channel, policy):
    conv = conversation(channel)
    do_apply_sla(conversations=[conv], event="customer_message", at=utc("2026-03-02 08:00"))
    due = conv.first_response_due_at
    assert due == utc("2026-03-02 09:00")

    # A second message while waiting changes nothing and writes nothing.
    assert do_apply_sla(conversations=[conv], event="customer_message", at=utc("2026-03-02 08:30")) == 0
    assert reloaded(conv).first_response_due_at == due

    conv.first_response_at = utc("2026-03-02 08:40")
    conv.save(update_fields=["first_response_at"])
    do_apply_sla(conversations=[conv], event="agent_reply", at=utc("2026-03-02 08:40"))
    assert reloaded(conv).waiting_since is None and reloaded(conv).first_response_due_at == due

    # The customer answers on Tuesday at 16:30 Warsaw time: two working hours end on Thursday (after
    # Wednesday's holiday) at 09:30 Warsaw.
    do_apply_sla(conversations=[conv], event="customer_message", at=utc("2026-03-03 15:30"))
    conv = reloaded(conv)
    assert conv.waiting_since == utc("2026-03-03 15:30")
    assert conv.next_response_due_at == utc("2026-03-05 08:30")

    do_apply_sla(conversations=[conv], event="resolved", at=utc("2026-03-05 08:00"))
    conv = reloaded(conv)
    assert (conv.waiting_since, conv.next_response_due_at, conv.resolution_due_at) == (None, None, None)
    assert conv.first_response_due_at == due  # met, kept as the record of its target

    do_apply_sla(conversations=[conv], event="reopened", at=utc("2026-03-06 08:00"))
    assert reloaded(conv).resolution_due_at == utc("2026-03-06 17:00")  # Friday 09:00 + 8h = 18:00 Warsaw


def test_an_auto_reply_that_opened_a_resolved_conversation_is_owed_nothing(channel, policy):
    conv = conversation(channel, status=ConversationStatus.RESOLVED)
    assert do_apply_sla(conversations=[conv], event="customer_message", at=utc("2026-03-02 08:00")) == 0
    assert reloaded(conv).waiting_since is None


def test_a_priority_change_moves_to_the_new_policy_from_the_same_anchors(channel, policy):
    urgent = SlaPolicy.objects.create(name="Urgent", priority="urgent", first_response_minutes=15)
    conv = conversation(channel)
    do_apply_sla(conversations=[conv], event="customer_message", at=utc("2026-03-02 08:00"))
    conv.priority = "urgent"
    conv.save(update_fields=["priority"])
    do_apply_sla(conversations=[conv], event="priority_changed", at=utc("2026-03-02 08:05"))
    conv = reloaded(conv)
    assert conv.sla_policy == urgent
    # Around the clock (no business hours) from when the customer started waiting.
    assert conv.first_response_due_at == utc("2026-03-02 08:15")
    assert conv.resolution_due_at is None  # the new policy has no resolution target


def test_without_any_policy_nothing_is_due(channel):
    conv = conversation(channel)
    do_apply_sla(conversations=[conv], event="customer_message", at=utc("2026-03-02 08:00"))
    conv = reloaded(conv)
    assert conv.waiting_since == utc("2026-03-02 08:00")
    assert conv.first_response_due_at is None and conv.sla_policy is None
    assert sla_state(conv, utc("2026-03-09 08:00")) is None


def test_a_hundred_conversations_take_a_bounded_number_of_queries(
    channel, other_channel, policy, django_assert_max_num_queries
):
    SlaPolicy.objects.create(name="Other", channel=other_channel, first_response_minutes=30)
    conversations = [conversation(channel if i % 2 else other_channel) for i in range(100)]
    with django_assert_max_num_queries(3):  # policies, holidays, one UPDATE
        changed = do_apply_sla(
            conversations=conversations, event="customer_message", at=utc("2026-03-02 08:00")
        )
    assert changed == 100
    dues = dict(Conversation.objects.values_list("channel_id", "first_response_due_at").distinct())
    assert dues == {channel.pk: utc("2026-03-02 09:00"), other_channel.pk: utc("2026-03-02 08:30")}
    with django_assert_max_num_queries(1):
        do_apply_sla(conversations=conversations, event="agent_reply", at=utc("2026-03-02 08:10"))
    assert not Conversation.objects.filter(waiting_since__isnull=False).exists()


def test_unknown_events_and_unsaved_conversations_are_refused(channel):
    with pytest.raises(ValueError):
        do_apply_sla(conversations=[Conversation()], event="agent_reply", at=utc("2026-03-02 08:00"))
    with pytest.raises(ValueError):
        do_apply_sla(conversations=[conversation(channel)], event="bogus", at=utc("2026-03-02 08:00"))  # type: ignore[arg-type]


def test_breached_and_at_risk_are_measured_in_business_time(channel, policy, django_assert_num_queries):
    conv = conversation(channel, at="2026-03-06 16:30")  # Friday 17:30 in Warsaw
    do_apply_sla(conversations=[conv], event="customer_message", at=utc("2026-03-06 16:30"))
    conv = (
        Conversation.objects.select_related("sla_policy__business_hours")
        .prefetch_related("sla_policy__business_hours__holidays")
        .get(pk=conv.pk)
    )
    assert conv.first_response_due_at == utc("2026-03-09 08:30")  # Monday 09:30 in Warsaw
    with django_assert_num_queries(0):
        # Monday 09:00: half the target left, though only 1% of the real time since the message.
        state = sla_state(conv, utc("2026-03-09 08:00"))
    assert state == {
        "kind": "first_response",
        "due_at": utc("2026-03-09 08:30"),
        "breached": False,
        "at_risk": False,
    }
    assert sla_state(conv, utc("2026-03-09 08:20"))["at_risk"] is True  # 10 of 60 minutes left
    assert sla_state(conv, utc("2026-03-07 12:00"))["at_risk"] is False  # the weekend does not count
    late = sla_state(conv, utc("2026-03-09 08:30"))
    assert late["breached"] is True and late["at_risk"] is False

    conv.first_response_at = utc("2026-03-09 08:40")
    conv.waiting_since = None
    # Answered: the resolution deadline is left, 8h from Friday 17:30 = Monday 17:30 Warsaw.
    assert sla_state(conv, utc("2026-03-09 09:00"))["kind"] == "resolution"
    assert sla_state(conv, utc("2026-03-09 09:00"))["due_at"] == utc("2026-03-09 16:30")
    conv.status = ConversationStatus.RESOLVED
    assert sla_state(conv, utc("2026-03-09 09:00")) is None


def test_breach_counts_for_dashboards(channel, policy, django_assert_num_queries):
    waiting = [conversation(channel) for _ in range(3)]
    do_apply_sla(conversations=waiting, event="customer_message", at=utc("2026-03-02 08:00"))
    answered, resolved = waiting[1], waiting[2]
    Conversation.objects.filter(pk=answered.pk).update(first_response_at=utc("2026-03-02 08:10"))
    answered.refresh_from_db()
    do_apply_sla(conversations=[answered], event="agent_reply", at=utc("2026-03-02 08:10"))
    do_apply_sla(conversations=[answered], event="customer_message", at=utc("2026-03-02 09:00"))
    Conversation.objects.filter(pk=resolved.pk).update(status=ConversationStatus.RESOLVED)

    with django_assert_num_queries(1):
        counts = breach_counts(Conversation.objects.all(), utc("2026-03-02 12:00"))
    assert counts == {"first_response": 1, "next_response": 1, "resolution": 0, "any": 2}
    later = breach_counts(Conversation.objects.all(), utc("2026-03-03 12:00"))
    assert later == {"first_response": 1, "next_response": 1, "resolution": 2, "any": 2}
    assert breach_counts(Conversation.objects.all(), utc("2026-03-02 08:30"))["any"] == 0


def test_the_business_hours_form_refuses_what_deadlines_could_not_use():
    good = BusinessHoursForm(
        data={"name": "Warsaw", "timezone": "Europe/Warsaw", "intervals": '{"1": [["09:00", "17:00"]]}'}
    )
    assert good.is_valid(), good.errors
    bad = BusinessHoursForm(
        data={"name": "X", "timezone": "Mars/Base", "intervals": '{"1": [["17:00", "09:00"]]}'}
    )
    assert not bad.is_valid()
    assert set(bad.errors) == {"timezone", "intervals"}
    empty = BusinessHoursForm(data={"name": "Y", "timezone": "UTC", "intervals": "{}"})
    assert not empty.is_valid() and "intervals" in empty.errors


def test_the_admin_pages_work(warsaw, policy):
    user = User.objects.create_superuser(username="root", password="x" * 20, email="root@example.com")
    client = Client()
    client.force_login(user)
    for url in (
        "/admin/tickets/businesshours/",
        f"/admin/tickets/businesshours/{warsaw.pk}/change/",
        "/admin/tickets/slapolicy/",
        f"/admin/tickets/slapolicy/{policy.pk}/change/",
        "/admin/tickets/slapolicy/add/",
    ):
        assert client.get(url).status_code == 200, url


def test_business_hours_with_holidays_are_added_in_the_admin(db):
    user = User.objects.create_superuser(username="root", password="x" * 20, email="root@example.com")
    client = Client()
    client.force_login(user)
    response = client.post(
        "/admin/tickets/businesshours/add/",
        {
            "name": "Warsaw",
            "timezone": "Europe/Warsaw",
            "intervals": '{"1": [["09:00", "13:00"], ["14:00", "18:00"]]}',
            "holidays-TOTAL_FORMS": "1",
            "holidays-INITIAL_FORMS": "0",
            "holidays-0-date": "2026-05-01",
            "holidays-0-name": "Labour Day",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    hours = BusinessHours.objects.get()
    assert hours.intervals["1"][1] == ["14:00", "18:00"]
    assert list(hours.holidays.values_list("date", flat=True)) == [date(2026, 5, 1)]
