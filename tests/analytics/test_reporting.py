"""The reading API on a hand-computed month, for a manager and for agents, from rollups and from facts,
with drill-downs whose counts equal the numbers, and a bounded number of queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from analytics import buckets, dirty
from analytics.drill import DrillCell, drill
from analytics.filters import DashboardFilters
from analytics.refresh import do_refresh
from analytics.reporting import breakdown, hour_of_week, series, summary
from core.redis import get_redis
from profiles.models import Customer
from tests.analytics.reporting_builders import conversation, inbound, reply, resolve, shop, utc
from tests.analytics.test_rollups import OPS, _play
from tickets.models import Conversation, ConversationStatus, Direction, Label, Message
from tickets.visibility import visibility_for

pytestmark = pytest.mark.django_db
WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def month():
    """March 2026 in Warsaw: A, B (one customer) and C created in it; D created just before it."""
    s = shop()
    same = Customer.objects.create(name="Same person")
    a = conversation(s.sms, utc("2026-03-02 08:00"), customer=same, team=s.red, assignee=s.ann)
    inbound(a, utc("2026-03-02 08:00"))
    reply(a, utc("2026-03-02 08:30"), s.ann)
    inbound(a, utc("2026-03-02 10:00"))
    reply(a, utc("2026-03-02 11:00"), s.ann)
    resolve(a, utc("2026-03-03 08:00"))
    b = conversation(s.sms, utc("2026-03-02 09:00"), customer=same, team=s.red)
    inbound(b, utc("2026-03-02 09:00"))
    c = conversation(s.mail, utc("2026-03-05 12:00"), team=s.blue, assignee=s.bob)
    inbound(c, utc("2026-03-05 12:00"))
    reply(c, utc("2026-03-05 14:00"), s.bob)
    resolve(c, utc("2026-03-05 15:00"))
    inbound(c, utc("2026-03-06 09:00"))  # the customer wrote again: reopened
    c.status, c.resolved_at = ConversationStatus.OPEN, None
    c.save()
    d = conversation(s.mail, utc("2026-02-28 22:30"))  # 23:30 on 28 February in Warsaw
    inbound(d, utc("2026-02-28 22:30"))
    reply(d, utc("2026-02-28 23:30"), s.ann)  # 00:30 on 1 March in Warsaw
    resolve(d, utc("2026-03-01 10:00"))
    e = conversation(s.sms, utc("2026-03-31 22:30"), team=s.red)  # 1 April in Warsaw
    inbound(e, utc("2026-03-31 22:30"))
    do_refresh([a.pk, b.pk, c.pk, d.pk, e.pk])
    filters = DashboardFilters(
        start=datetime(2026, 3, 1, tzinfo=WARSAW), end=datetime(2026, 4, 1, tzinfo=WARSAW), tz="Europe/Warsaw"
    )
    return s, filters, {"a": a, "b": b, "c": c, "d": d, "e": e}


def test_summary_for_a_manager(month):
    s, filters, _ = month
    got = summary(filters, visibility_for(s.manager))
    assert (got.created, got.resolved, got.reopened, got.backlog) == (3, 2, 1, 2)
    assert (got.inbound_messages, got.outbound_messages, got.customers) == (5, 3, 2)
    assert got.messages_per_conversation == pytest.approx(8 / 3)
    assert got.conversations_per_customer == pytest.approx(1.5)
    # Resolved in March: A and D, neither reopened before; C's reopening counts as a reopening only.
    assert (got.resolved_reopened, got.reopen_rate) == (0, 0.0)
    first = got.first_response.wall
    assert (first.n, first.mean) == (3, 4200)
    assert first.median == buckets.quantile(buckets.histogram([1800, 3600, 7200]), 0.5)
    assert buckets.bucket_of(first.median - 1) == buckets.bucket_of(3600)  # the exact median's bucket
    assert got.first_response.business == first  # no SLA policy: business time is wall time
    assert (got.next_response.wall.n, got.next_response.wall.mean) == (1, 3600)
    assert (got.resolution.wall.n, got.resolution.wall.mean) == (2, (86400 + 41400) / 2)
    assert got.first_response.within_share is None and got.sla_attainment is None
    assert got.sla_breaches == {"first_response": 0, "next_response": 0, "resolution": 0}


def test_every_number_drills_to_as_many_conversations(month):
    s, filters, convs = month
    viewer = visibility_for(s.manager)
    got = summary(filters, viewer)
    expected = {
        "created": got.created,
        "resolved": got.resolved,
        "backlog": got.backlog,
        "first_response": got.first_response.wall.n,
        "next_response": got.next_response.wall.n,
        "resolution": got.resolution.wall.n,
        "reopened": got.reopened,
    }
    for measure, number in expected.items():
        assert drill(filters, viewer, measure).count() == number, measure
    assert set(drill(filters, viewer, "backlog")) == {convs["b"], convs["c"]}
    assert set(drill(filters, viewer, "first_response")) == {convs["a"], convs["c"], convs["d"]}
    day = DrillCell(start=datetime(2026, 3, 2, tzinfo=WARSAW), end=datetime(2026, 3, 3, tzinfo=WARSAW))
    assert set(drill(filters, viewer, "created", day)) == {convs["a"], convs["b"]}
    assert set(drill(filters, viewer, "created", DrillCell(weekday=1, hour=10))) == {convs["b"]}
    assert set(drill(filters, viewer, "created", DrillCell(channel_id=s.sms.pk, agent_id=0))) == {convs["b"]}
    with pytest.raises(ValueError):
        drill(filters, viewer, "nonsense")


def test_agents_see_only_their_conversations(month):
    s, filters, convs = month
    ann = summary(filters, visibility_for(s.ann))  # red's channel (sms), red's team, her own
    assert (ann.created, ann.resolved, ann.backlog, ann.first_response.wall.n) == (2, 1, 1, 1)
    assert drill(filters, visibility_for(s.ann), "created").count() == 2
    bob = summary(filters, visibility_for(s.bob))  # team blue, assigned to him
    assert (bob.created, bob.reopened, bob.backlog, bob.customers) == (1, 1, 1, 1)
    assert set(drill(filters, visibility_for(s.bob), "reopened")) == {convs["c"]}


def test_series_breakdown_and_heat_map(month):
    s, filters, _ = month
    viewer = visibility_for(s.manager)
    days = series(filters, viewer, step="day")
    assert len(days) == 31 and days[0].start == datetime(2026, 3, 1, tzinfo=WARSAW)
    assert [p.values.backlog for p in days[:6]] == [0, 2, 1, 1, 2, 2]
    assert [p.values.created for p in days[:6]] == [0, 2, 0, 0, 1, 0]
    assert days[-1].values.backlog == 2
    assert sum(p.values.created for p in days) == 3
    assert sum(p.values.first_response.wall.n for p in days) == 3
    weeks = series(filters, viewer, step="week")
    assert sum(p.values.resolved for p in weeks) == 2 and weeks[0].end == datetime(2026, 3, 2, tzinfo=WARSAW)

    channels = {row.key: row for row in breakdown(filters, viewer, by="channel")}
    assert set(channels) == {s.sms.pk, s.mail.pk}
    sms, mail = channels[s.sms.pk].values, channels[s.mail.pk].values
    assert (sms.created, sms.resolved, sms.backlog, mail.created, mail.resolved, mail.reopened) == (
        2,
        1,
        1,
        1,
        1,
        1,
    )
    assert channels[s.sms.pk].label == s.sms.name
    agents = {row.key: row.values.created for row in breakdown(filters, viewer, by="agent")}
    assert agents == {s.ann.pk: 1, s.bob.pk: 1, 0: 1}

    heat = hour_of_week(filters, viewer)
    assert heat.counts[0][9] == 1 and heat.counts[0][10] == 1 and heat.counts[3][13] == 1
    assert heat.max == 1 and sum(map(sum, heat.counts)) == 3


def test_facts_path_gives_the_same_numbers(month):
    s, filters, convs = month
    label = Label.objects.create(name="all")
    for conv in convs.values():
        conv.labels.add(label)
    viewer = visibility_for(s.manager)
    labelled = filters.replace(label_ids=(label.pk,))
    assert labelled.needs_facts and not filters.needs_facts
    assert summary(labelled, viewer) == summary(filters, viewer)
    assert series(labelled, viewer, step="week") == series(filters, viewer, step="week")
    assert breakdown(labelled, viewer, by="team") == breakdown(filters, viewer, by="team")
    assert hour_of_week(labelled, viewer) == hour_of_week(filters, viewer)
    assert summary(filters.replace(label_ids=(label.pk + 1,)), viewer).created == 0
    # Half-hour zones are read from facts: Kolkata's March starts at 18:30Z on 28 February, so D is in.
    kolkata = ZoneInfo("Asia/Kolkata")
    india = DashboardFilters(
        start=datetime(2026, 3, 1, tzinfo=kolkata),
        end=datetime(2026, 4, 1, tzinfo=kolkata),
        tz="Asia/Kolkata",
    )
    assert india.needs_facts
    assert summary(india, viewer).created == 4 == drill(india, viewer, "created").count()


def test_queries_are_bounded(month, django_assert_max_num_queries):
    s, filters, _ = month
    viewer = visibility_for(s.ann)
    with django_assert_max_num_queries(8):
        summary(filters, viewer)
    with django_assert_max_num_queries(8):
        series(filters, viewer, step="day")
    with django_assert_max_num_queries(9):
        breakdown(filters, viewer, by="agent")
    with django_assert_max_num_queries(4):
        hour_of_week(filters, viewer)


def test_filters_round_trip_through_the_url():
    filters = DashboardFilters.from_query(
        {
            "from": "2026-03-01",
            "to": "2026-03-31",
            "tz": "Europe/Warsaw",
            "channel": ["3", "1", "x"],
            "team": "0",
        }
    )
    assert filters.start == datetime(2026, 3, 1, tzinfo=WARSAW)
    assert filters.end == datetime(2026, 4, 1, tzinfo=WARSAW)
    assert (filters.channel_ids, filters.team_ids) == ((1, 3), (0,))
    assert DashboardFilters.from_query(_parse(filters.to_query())) == filters
    assert filters.previous().end == filters.start
    fallback = DashboardFilters.from_query({"tz": "Mars/Base", "from": "garbage"})
    assert fallback.tz == "UTC" and fallback.end - fallback.start == timedelta(days=30)


def _parse(query: str) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    return parse_qs(query)


# ---- property: every number equals a direct computation from the raw rows ----


def direct(start: datetime, end: datetime) -> dict[str, float]:
    """The numbers computed straight from conversations and messages, without the reporting store."""
    convs = list(Conversation.objects.all())
    created = [c for c in convs if start <= c.created_at < end]
    resolved = [c for c in convs if c.status == ConversationStatus.RESOLVED and c.resolved_at]
    first_waits = []
    for conv in convs:
        waiting = None
        for m in Message.objects.filter(conversation=conv).order_by("created_at", "id"):
            if m.direction == Direction.INBOUND and waiting is None:
                waiting = m.created_at
            elif m.direction == Direction.OUTBOUND and m.author_id and waiting is not None:
                if start <= m.created_at < end:
                    first_waits.append((m.created_at - waiting).total_seconds())
                break
    ids = [c.pk for c in created]
    return {
        "created": len(created),
        "resolved": sum(1 for c in resolved if start <= c.resolved_at < end),
        "backlog": sum(
            1 for c in convs if c.created_at < end and not (c in resolved and c.resolved_at < end)
        ),
        "inbound": Message.objects.filter(conversation_id__in=ids, direction=Direction.INBOUND).count(),
        "outbound": Message.objects.filter(conversation_id__in=ids, direction=Direction.OUTBOUND).count(),
        "first_n": len(first_waits),
        "first_sum": round(sum(first_waits), 3),
        "customers": len({c.customer_id for c in created}),
    }


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_reading_api_equals_direct_computation(ops):
    get_redis().delete(dirty.DIRTY, dirty.PROCESSING, dirty.LOCK)
    with transaction.atomic():
        s = shop()
        _play(ops, s)
        viewer = visibility_for(s.manager)
        for start, end in (
            (utc("2026-01-31 00:00"), utc("2026-02-15 07:00")),
            (utc("2026-01-01 00:00"), utc("2026-04-01 00:00")),
        ):
            filters = DashboardFilters(start=start, end=end)
            got = summary(filters, viewer)
            numbers = {
                "created": got.created,
                "resolved": got.resolved,
                "backlog": got.backlog,
                "inbound": got.inbound_messages,
                "outbound": got.outbound_messages,
                "first_n": got.first_response.wall.n,
                "first_sum": round((got.first_response.wall.mean or 0) * got.first_response.wall.n, 3),
                "customers": got.customers,
            }
            assert numbers == direct(start, end)
            for measure in ("created", "resolved", "backlog", "first_response"):
                assert (
                    drill(filters, viewer, measure).count()
                    == numbers[{"first_response": "first_n"}.get(measure, measure)]
                )
        transaction.set_rollback(True)


def test_the_reopen_rate_is_the_share_of_resolved_conversations_that_bounced(month):
    """C is resolved again after its reopening: one of three resolved conversations had been reopened,
    and the rate says so once, however many reopenings it took."""
    s, filters, convs = month
    c = convs["c"]
    resolve(c, utc("2026-03-07 10:00"))
    inbound(c, utc("2026-03-08 09:00"))  # reopened a second time
    resolve(c, utc("2026-03-09 10:00"))
    c.status, c.resolved_at = ConversationStatus.RESOLVED, utc("2026-03-09 10:00")
    c.save()
    do_refresh([c.pk])
    got = summary(filters, visibility_for(s.manager))
    assert (got.resolved, got.reopened, got.resolved_reopened) == (3, 2, 1)
    assert got.reopen_rate == pytest.approx(1 / 3)
    assert list(drill(filters, visibility_for(s.manager), "resolved_reopened")) == [c]
