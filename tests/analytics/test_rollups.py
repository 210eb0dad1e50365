"""Rollup cells always equal the recomputation: from the facts (hour cells), from the cells below (days,
months), and from scratch after any sequence of changes refreshed incrementally."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import buckets, dirty
from analytics.cell_sql import COUNTS, HISTS
from analytics.facts import refresh_facts
from analytics.models import ConversationCell, ConversationFact, ReplyFact
from analytics.periods import floor_day, floor_hour, floor_month
from analytics.refresh import do_refresh, do_refresh_dirty
from analytics.rollups import refresh_cells
from core.redis import get_redis
from profiles.models import Customer
from tests.analytics.reporting_builders import conversation, inbound, reopen, reply, resolve, shop, utc
from tickets.models import Conversation, ConversationStatus

pytestmark = pytest.mark.django_db


def stored_cells() -> dict[tuple, dict]:
    cells = {}
    for cell in ConversationCell.objects.all():
        key = (cell.grain, cell.period_start, cell.channel_id, cell.team_id, cell.agent_id)
        values = {name: round(float(getattr(cell, name)), 3) for name in COUNTS}
        values |= {name: list(getattr(cell, name) or [0] * buckets.SIZE) for name in HISTS}
        cells[key] = values
    return cells


def _zero() -> dict:
    return {name: 0.0 for name in COUNTS} | {name: [0] * buckets.SIZE for name in HISTS}


def _add_time(cell: dict, prefix: str, wall: float, business: float, within: bool | None) -> None:
    cell[f"{prefix}_n"] += 1
    cell[f"{prefix}_sum"] += wall
    cell[f"{prefix}_bsum"] += business
    cell[f"{prefix}_with"] += within is not None
    cell[f"{prefix}_within"] += bool(within)
    cell[f"{prefix}_hist"][buckets.bucket_of(wall) - 1] += 1
    cell[f"{prefix}_bhist"][buckets.bucket_of(business) - 1] += 1


def cells_from_facts() -> dict[tuple, dict]:
    """The cells recomputed in Python, straight from the fact rows."""
    hours: dict[tuple, dict] = defaultdict(_zero)
    facts = {f.pk: f for f in ConversationFact.objects.all()}
    for f in facts.values():
        dims = (f.channel_id, f.team_id, f.assignee_id)
        created = hours[(floor_hour(f.created_at), *dims)]
        created["created"] += 1
        created["inbound_messages"] += f.inbound_messages
        created["outbound_messages"] += f.outbound_messages
        created["sla_with_policy"] += f.sla_policy_id is not None
        breaches = (f.breaches_first_response, f.breaches_next_response, f.breaches_resolution)
        created["sla_breached"] += sum(breaches) > 0
        for name, value in zip(("first_response", "next_response", "resolution"), breaches, strict=True):
            created[f"breaches_{name}"] += value
        if f.resolved_at is not None:
            cell = hours[(floor_hour(f.resolved_at), *dims)]
            cell["resolved"] += 1
            _add_time(cell, "res", f.resolution_seconds, f.resolution_business_seconds, f.resolution_within)
        for moment in f.reopen_times:
            hours[(floor_hour(moment), *dims)]["reopened"] += 1
    for r in ReplyFact.objects.all():
        cell = hours[(floor_hour(r.replied_at), r.channel_id, r.team_id, r.assignee_id)]
        _add_time(
            cell, "fr" if r.is_first else "nr", r.waited_seconds, r.waited_business_seconds, r.within_target
        )
    result: dict[tuple, dict] = {}
    for grain, floor in (("h", floor_hour), ("d", floor_day), ("m", floor_month)):
        for (hour, *dims), values in hours.items():
            target = result.setdefault((grain, floor(hour), *dims), _zero())
            for name in COUNTS:
                target[name] += values[name]
            for name in HISTS:
                target[name] = [a + b for a, b in zip(target[name], values[name], strict=True)]
    return {
        key: {n: round(v, 3) if n in COUNTS else v for n, v in values.items()}
        for key, values in result.items()
    }


def test_cells_sum_facts_at_every_grain_and_follow_changes():
    s = shop()
    a = conversation(s.sms, utc("2026-01-31 23:30"), team=s.red, assignee=s.ann)
    inbound(a, utc("2026-01-31 23:30"))
    reply(a, utc("2026-02-01 00:10"), s.ann)  # first response in the next day and month
    inbound(a, utc("2026-02-01 02:00"))
    reply(a, utc("2026-02-01 02:45"), s.ann)
    resolve(a, utc("2026-02-02 10:00"))
    b = conversation(s.mail, utc("2026-02-01 00:20"))
    inbound(b, utc("2026-02-01 00:20"))
    do_refresh([a.pk, b.pk])

    cells = stored_cells()
    assert cells == cells_from_facts()
    month = cells[("m", utc("2026-02-01 00:00"), s.sms.pk, s.red.pk, s.ann.pk)]
    assert (month["fr_n"], month["nr_n"], month["resolved"], month["created"]) == (1, 1, 1, 0)
    assert month["fr_sum"] == 40 * 60 and month["nr_sum"] == 45 * 60
    january = cells[("m", utc("2026-01-01 00:00"), s.sms.pk, s.red.pk, s.ann.pk)]
    assert (january["created"], january["inbound_messages"], january["outbound_messages"]) == (1, 2, 2)

    # Reassigned, then erased: every cell it counted in is recomputed; nothing of it remains.
    a.assignee = s.bob
    a.save()
    do_refresh([a.pk])
    assert stored_cells() == cells_from_facts()
    assert not ConversationCell.objects.filter(agent_id=s.ann.pk).exists()
    pk = a.pk
    a.delete()
    do_refresh([pk])
    assert stored_cells() == cells_from_facts()
    assert set(ConversationCell.objects.values_list("channel_id", flat=True)) == {s.mail.pk}


def test_refresh_cells_of_nothing_is_a_no_op():
    assert refresh_cells([]) == 0
    assert refresh_facts([]) == set()


def test_rebuild_reporting_recomputes_everything():
    s = shop()
    conv = conversation(s.sms, utc("2026-03-02 08:00"), team=s.red)
    inbound(conv, utc("2026-03-02 08:00"))
    reply(conv, utc("2026-03-02 08:30"), s.ann)
    ConversationFact.objects.create(  # a fact whose conversation is gone
        conversation_id=conv.pk + 1000,
        created_at=utc("2026-03-01 00:00"),
        channel_id=s.mail.pk,
        customer_id=1,
    )
    ConversationCell.objects.create(
        grain="h",
        period_start=utc("2025-01-01 00:00"),
        channel_id=s.mail.pk,
        team_id=0,
        agent_id=0,
        created=5,
    )
    call_command("rebuild_reporting", verbosity=0)
    assert list(ConversationFact.objects.values_list("pk", flat=True)) == [conv.pk]
    assert stored_cells() == cells_from_facts()
    assert ConversationCell.objects.filter(grain="m").get().fr_n == 1


# ---- property: random histories, refreshed incrementally, equal the recomputation from scratch ----

OPS = st.lists(
    st.tuples(
        st.sampled_from(["new", "in", "reply", "resolve", "reopen", "assign", "merge", "erase", "refresh"]),
        st.integers(min_value=0, max_value=7),
        st.integers(min_value=0, max_value=7),
        st.integers(min_value=1, max_value=60 * 40),
    ),
    min_size=1,
    max_size=25,
)


def _play(ops, s) -> None:
    people = [Customer.objects.create(name=f"P{i}") for i in range(3)]
    teams, agents, channels = [None, s.red, s.blue], [None, s.ann, s.bob], [s.sms, s.mail]
    clock = utc("2026-01-30 20:00")
    convs: list[Conversation] = []
    for op, x, y, minutes in ops:
        clock += timedelta(minutes=minutes)
        alive = [c for c in convs if Conversation.objects.filter(pk=c.pk).exists()]
        people = [p for p in people if Customer.objects.filter(pk=p.pk).exists()]
        target = alive[x % len(alive)] if alive else None
        touched: list[int] = []
        if op == "new" or target is None:
            people = people or [Customer.objects.create(name="P")]
            conv = conversation(
                channels[x % 2],
                clock,
                customer=people[y % len(people)],
                team=teams[x % 3],
                assignee=agents[y % 3],
            )
            inbound(conv, clock)
            convs.append(conv)
            touched = [conv.pk]
        elif op == "in":
            inbound(target, clock)
            touched = [target.pk]
        elif op == "reply":
            reply(target, clock, agents[1 + y % 2])
            touched = [target.pk]
        elif op == "resolve" and target.status != ConversationStatus.RESOLVED:
            resolve(target, clock)
            touched = [target.pk]
        elif op == "reopen" and target.status == ConversationStatus.RESOLVED:
            if y % 2:
                inbound(target, clock)
            reopen(target)
            touched = [target.pk]
        elif op == "assign":
            team, agent = teams[y % 3], agents[x % 3]
            Conversation.objects.filter(pk=target.pk).update(team=team, assignee=agent)
            touched = [target.pk]
        elif op == "merge" and len(people) > 1:
            kept, merged = people[0], people[1 + y % (len(people) - 1)]
            moved = list(Conversation.objects.filter(customer=merged).values_list("pk", flat=True))
            Conversation.objects.filter(customer=merged).update(customer=kept)
            Customer.objects.filter(pk=merged.pk).delete()  # keeps the pk on objects that cached it
            people.remove(merged)
            touched = moved
        elif op == "erase":
            victim = Conversation.objects.get(pk=target.pk).customer
            touched = list(Conversation.objects.filter(customer=victim).values_list("pk", flat=True))
            Customer.objects.filter(pk=victim.pk).delete()  # erasure: the person and their conversations
        elif op == "refresh":
            do_refresh_dirty()
        dirty.mark_dirty(touched)
        if x == 0 and op != "refresh":
            dirty.mark_dirty(touched)  # a duplicate delivery
    do_refresh_dirty()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_incremental_refresh_equals_recomputation(ops):
    client = get_redis()
    with transaction.atomic():
        client.delete(dirty.DIRTY, dirty.PROCESSING, dirty.LOCK)
        s = shop()
        _play(ops, s)
        assert dirty.pending_count() == 0
        incremental = stored_cells()
        facts = {f.pk: f.__dict__ | {"_state": None} for f in ConversationFact.objects.all()}
        assert incremental == cells_from_facts()
        call_command("rebuild_reporting", verbosity=0)
        assert stored_cells() == incremental
        assert {f.pk: f.__dict__ | {"_state": None} for f in ConversationFact.objects.all()} == facts
        assert set(facts) == set(Conversation.objects.values_list("pk", flat=True))
        transaction.set_rollback(True)
