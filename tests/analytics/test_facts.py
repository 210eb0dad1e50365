"""Facts per conversation and per reply, on hand-computed fixtures: business hours across weekends, a
holiday, DST changes in Europe and America, and the definitions of first/next response, resolution and
reopenings."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.facts import refresh_facts
from analytics.models import ConversationFact, ReplyFact
from analytics.periods import floor_hour
from profiles.models import Customer
from surveys.models import Survey, SurveyKind, SurveyResponse
from tests.analytics.reporting_builders import conversation, inbound, reopen, reply, resolve, shop, utc
from tickets.sla_models import BusinessHours, Holiday, SlaBreachNotice, SlaPolicy

pytestmark = pytest.mark.django_db
OFFICE = {str(day): [["09:00", "13:00"], ["14:00", "18:00"]] for day in range(1, 6)}


@pytest.fixture
def warsaw_policy():
    hours = BusinessHours.objects.create(name="Warsaw", timezone="Europe/Warsaw", intervals=OFFICE)
    Holiday.objects.create(business_hours=hours, date=date(2026, 3, 4), name="Team day")
    return SlaPolicy.objects.create(
        name="Warsaw",
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=8 * 60,
        business_hours=hours,
    )


@pytest.fixture
def new_york_policy():
    hours = BusinessHours.objects.create(
        name="New York",
        timezone="America/New_York",
        intervals={str(d): [["09:00", "17:00"]] for d in range(1, 6)},
    )
    return SlaPolicy.objects.create(name="NY", first_response_minutes=60, business_hours=hours)


def test_first_next_and_resolution_over_a_weekend(warsaw_policy):
    s = shop()
    # Friday 6 March 2026 17:00 in Warsaw (CET, 16:00Z); answered Monday 10:30 (09:30Z).
    conv = conversation(s.sms, utc("2026-03-06 16:00"), team=s.red, assignee=s.ann, sla_policy=warsaw_policy)
    inbound(conv, utc("2026-03-06 16:00"))
    first = reply(conv, utc("2026-03-09 09:30"), s.ann)
    # A new wait at 12:50 (and a second message that does not restart it), answered at 14:10 Warsaw.
    inbound(conv, utc("2026-03-09 11:50"))
    inbound(conv, utc("2026-03-09 11:55"))
    following = reply(conv, utc("2026-03-09 13:10"), s.bob)
    reply(conv, utc("2026-03-09 13:20"), s.bob)  # nobody was waiting: not a response
    resolve(conv, utc("2026-03-09 14:00"))  # 15:00 in Warsaw

    keys = refresh_facts([conv.pk])

    fact = ConversationFact.objects.get(pk=conv.pk)
    assert fact.first_response_at == utc("2026-03-09 09:30")
    assert fact.first_response_seconds == 65.5 * 3600
    # Friday 17:00-18:00 and Monday 09:00-10:30.
    assert fact.first_response_business_seconds == 2.5 * 3600
    assert fact.first_response_within is False
    # Friday 17-18, Monday 9-13 and 14-15.
    assert fact.resolution_seconds == 70 * 3600
    assert fact.resolution_business_seconds == 6 * 3600
    assert fact.resolution_within is True
    assert (fact.inbound_messages, fact.outbound_messages) == (3, 3)
    assert (fact.team_id, fact.assignee_id, fact.reopen_count) == (s.red.pk, s.ann.pk, 0)
    replies = {r.message_id: r for r in ReplyFact.objects.filter(conversation_id=conv.pk)}
    assert set(replies) == {first.pk, following.pk}
    assert replies[first.pk].is_first and not replies[following.pk].is_first
    # 12:50-13:00 and 14:00-14:10 of working time; 80 minutes on the wall clock.
    assert replies[following.pk].waited_seconds == 80 * 60
    assert replies[following.pk].waited_business_seconds == 20 * 60
    assert replies[following.pk].within_target is True
    assert replies[following.pk].agent_id == s.bob.pk
    dims = (s.sms.pk, s.red.pk, s.ann.pk)
    assert keys == {
        (utc("2026-03-06 16:00"), *dims),
        (utc("2026-03-09 09:00"), *dims),
        (utc("2026-03-09 13:00"), *dims),
        (utc("2026-03-09 14:00"), *dims),
    }


def test_business_time_skips_a_holiday_and_follows_dst(warsaw_policy, new_york_policy):
    s = shop()
    holiday = conversation(s.sms, utc("2026-03-03 16:30"), sla_policy=warsaw_policy)
    inbound(holiday, utc("2026-03-03 16:30"))  # Tuesday 17:30 in Warsaw
    reply(holiday, utc("2026-03-05 08:15"), s.ann)  # Thursday 09:15; Wednesday is the team's holiday
    europe = conversation(s.sms, utc("2026-03-27 16:00"), sla_policy=warsaw_policy)
    inbound(europe, utc("2026-03-27 16:00"))  # Friday 17:00 CET
    reply(europe, utc("2026-03-30 07:30"), s.ann)  # Monday 09:30 CEST: the clocks went forward on Sunday
    america = conversation(s.mail, utc("2026-03-06 21:00"), sla_policy=new_york_policy)
    inbound(america, utc("2026-03-06 21:00"))  # Friday 16:00 EST
    reply(america, utc("2026-03-09 14:00"), s.ann)  # Monday 10:00 EDT
    no_policy = conversation(s.mail, utc("2026-03-07 10:00"))
    inbound(no_policy, utc("2026-03-07 10:00"))
    reply(no_policy, utc("2026-03-07 10:25"), s.ann)

    refresh_facts([holiday.pk, europe.pk, america.pk, no_policy.pk])

    facts = {f.pk: f for f in ConversationFact.objects.all()}
    assert facts[holiday.pk].first_response_seconds == 39.75 * 3600
    assert facts[holiday.pk].first_response_business_seconds == 45 * 60
    assert facts[holiday.pk].first_response_within is True
    assert facts[europe.pk].first_response_seconds == 63.5 * 3600
    assert facts[europe.pk].first_response_business_seconds == 1.5 * 3600
    assert facts[america.pk].first_response_seconds == 65 * 3600
    assert facts[america.pk].first_response_business_seconds == 2 * 3600
    assert facts[america.pk].first_response_within is False
    assert facts[no_policy.pk].first_response_business_seconds == 25 * 60
    assert facts[no_policy.pk].first_response_within is None


def test_what_is_not_a_response(warsaw_policy):
    s = shop()
    conv = conversation(s.sms, utc("2026-03-10 08:00"))
    reply(conv, utc("2026-03-10 08:00"), s.ann)  # the agent wrote first: nobody was waiting
    inbound(conv, utc("2026-03-10 08:05"), automated=True)  # an auto-reply does not wait
    reply(conv, utc("2026-03-10 08:10"), None)  # an automated message is no agent's answer
    inbound(conv, utc("2026-03-10 09:00"))
    reply(conv, utc("2026-03-10 09:30"), s.ann)

    refresh_facts([conv.pk])

    fact = ConversationFact.objects.get(pk=conv.pk)
    assert fact.first_response_at == utc("2026-03-10 09:30")
    assert fact.first_response_seconds == 30 * 60
    assert (fact.inbound_messages, fact.outbound_messages) == (2, 3)
    assert ReplyFact.objects.filter(conversation_id=conv.pk).count() == 1


def test_reopenings_and_the_latest_resolution():
    s = shop()
    conv = conversation(s.sms, utc("2026-03-10 08:00"))
    inbound(conv, utc("2026-03-10 08:00"))
    resolve(conv, utc("2026-03-10 09:00"))
    inbound(conv, utc("2026-03-11 07:00"))  # the customer wrote again: reopened at 07:00
    reopen(conv)
    resolve(conv, utc("2026-03-11 10:00"))
    reopen(conv)  # an agent reopened it without a message: the moment is the resolution it undid
    refresh_facts([conv.pk])
    fact = ConversationFact.objects.get(pk=conv.pk)
    assert fact.reopen_count == 2
    assert fact.reopen_times == [utc("2026-03-11 07:00"), utc("2026-03-11 10:00")]
    assert fact.resolved_at is None and fact.resolution_seconds is None

    resolve(conv, utc("2026-03-12 08:00"))
    refresh_facts([conv.pk])
    fact.refresh_from_db()
    assert fact.reopen_count == 2
    assert fact.resolved_at == utc("2026-03-12 08:00")
    assert fact.resolution_seconds == 48 * 3600


def test_refresh_is_idempotent_and_follows_reassignment_merge_and_erasure():
    s = shop()
    conv = conversation(s.sms, utc("2026-03-10 08:00"), team=s.red, assignee=s.ann)
    inbound(conv, utc("2026-03-10 08:00"))
    reply(conv, utc("2026-03-10 08:20"), s.ann)
    first_keys = refresh_facts([conv.pk])
    assert refresh_facts([conv.pk, conv.pk]) == first_keys  # a duplicate delivery changes nothing
    assert ConversationFact.objects.count() == 1 and ReplyFact.objects.count() == 1

    conv.assignee, conv.team = s.bob, s.blue
    conv.save()
    moved = refresh_facts([conv.pk])
    # Old and new cells both need recomputing.
    assert {k[2:] for k in moved} == {(s.red.pk, s.ann.pk), (s.blue.pk, s.bob.pk)}
    assert ReplyFact.objects.get().assignee_id == s.bob.pk

    kept = Customer.objects.create(name="Kept")
    conv.customer = kept
    conv.save()
    refresh_facts([conv.pk])
    assert ConversationFact.objects.get().customer_id == kept.pk

    pk = conv.pk
    conv.delete()
    gone = refresh_facts([pk])
    assert not ConversationFact.objects.exists() and not ReplyFact.objects.exists()
    assert gone == {(floor_hour(utc("2026-03-10 08:00")), s.sms.pk, s.blue.pk, s.bob.pk)}


def test_sla_breaches_and_late_answers():
    s = shop()
    conv = conversation(s.sms, utc("2026-03-10 08:00"))
    for target, due in (("first_response", "09:00"), ("next_response", "11:00"), ("next_response", "13:00")):
        SlaBreachNotice.objects.create(
            conversation=conv,
            target=target,
            due_at=utc(f"2026-03-10 {due}"),
            announced_at=utc("2026-03-10 14:00"),
        )
    survey = Survey.objects.create(name="CSAT", kind=SurveyKind.CSAT, scale_max=5)
    SurveyResponse.objects.create(
        survey=survey, conversation=conv, score=2, created_at=utc("2026-03-11 08:00")
    )
    refresh_facts([conv.pk])
    fact = ConversationFact.objects.get()
    assert (fact.breaches_first_response, fact.breaches_next_response, fact.breaches_resolution) == (1, 2, 0)
    assert fact.csat_score == 2

    SurveyResponse.objects.create(
        survey=survey, conversation=conv, score=5, created_at=utc("2026-03-20 08:00")
    )
    refresh_facts([conv.pk])
    assert ConversationFact.objects.get().csat_score == 5


def test_domain_events_mark_conversations_and_the_task_refreshes_them():
    from analytics import dirty
    from analytics.tasks import refresh_reporting
    from core import events
    from core.redis import get_redis

    get_redis().delete(dirty.DIRTY, dirty.PROCESSING, dirty.LOCK)
    s = shop()
    conv = conversation(s.sms, utc("2026-03-10 08:00"))
    inbound(conv, utc("2026-03-10 08:00"))
    received = events.MessageReceived(
        message_id=1,
        conversation_id=conv.pk,
        customer_id=conv.customer_id,
        channel_id=s.sms.pk,
        channel_kind="sms",
        new_conversation=True,
        sent_at=utc("2026-03-10 08:00"),
    )
    events.deliver([received, received])  # delivered twice
    assert dirty.pending_count() == 1
    assert refresh_reporting() == 1
    assert ConversationFact.objects.get().inbound_messages == 1
    assert dirty.pending_count() == 0

    kept = Customer.objects.create(name="Kept")
    merged_from = conv.customer_id
    type(conv).objects.filter(pk=conv.pk).update(customer=kept)
    events.deliver([events.CustomersMerged(kept_id=kept.pk, merged_id=merged_from, actor_id=None)])
    assert refresh_reporting() == 1
    assert ConversationFact.objects.get().customer_id == kept.pk

    Customer.objects.filter(pk=kept.pk).delete()  # erasure removes the person's conversations
    events.deliver([events.CustomerErased(customer_id=kept.pk)])
    assert dirty.pending_count() == 1
    assert refresh_reporting() == 1
    assert not ConversationFact.objects.exists()
