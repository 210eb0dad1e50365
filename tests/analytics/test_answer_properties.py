"""Property: after any sequence of answers, late answers, reassignments, merges and erasures, announced
as the application announces them and drained by the worker, every rollup cell equals the
recomputation from raw answers, and every reading-API number equals a direct computation over raw
answers (surveys.scoring on a SurveyResponse queryset, through the visibility layer)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import answer_dirty, answer_tasks
from analytics import answer_reporting as ar
from core import events
from core.redis import get_redis
from profiles.merge import do_merge
from profiles.models import Customer
from surveys import scoring
from surveys.models import SurveyResponse
from tests.analytics.answer_builders import (
    answer,
    at,
    conversation,
    expected_cells,
    filters,
    stored_cells,
    world,
)
from tickets.visibility import visibility_for

pytestmark = pytest.mark.django_db(transaction=False)

SCALES = {"nps": (0, 10), "csat5": (1, 5), "csat3": (1, 3), "ces": (1, 7)}

answers_ = st.tuples(
    st.just("answer"),
    st.sampled_from(sorted(SCALES)),
    st.integers(0, 10),
    st.integers(0, 70),  # day offset from 1 February 2026: late answers fall in earlier months
    st.integers(0, 23),
    st.one_of(st.none(), st.integers(0, 2)),  # conversation
    st.one_of(st.none(), st.integers(0, 1)),  # the answer's own agent
    st.booleans(),  # comment
    st.sampled_from(["email", "widget"]),
)
reassign = st.tuples(
    st.just("reassign"),
    st.integers(0, 2),
    st.one_of(st.none(), st.integers(0, 1)),
    st.one_of(st.none(), st.integers(0, 1)),
)
erase = st.tuples(st.just("erase"), st.integers(0, 50))
blank = st.tuples(st.just("blank"), st.integers(0, 50))
merge = st.tuples(st.just("merge"), st.integers(1, 2))
refresh = st.tuples(st.just("drain"))
operations = st.lists(
    st.one_of(answers_, answers_, reassign, reassign, erase, blank, merge, refresh), max_size=30
)


@pytest.fixture
def base():
    w = world()
    w.people = [w.customer, Customer.objects.create(name="B"), Customer.objects.create(name="C")]
    w.convs = [
        conversation(w, channel=w.sms, team=w.red, assignee=w.ann, customer=w.people[0]),
        conversation(w, channel=w.mail, team=w.blue, assignee=w.bob, customer=w.people[1]),
        conversation(w, channel=w.mail, customer=w.people[2]),
    ]
    w.surveys = {"nps": w.nps, "csat5": w.csat5, "csat3": w.csat3, "ces": w.ces}
    return w


def _apply(w, op, created: list[SurveyResponse]) -> None:
    kind = op[0]
    agents, teams = [w.ann, w.bob], [w.red, w.blue]
    if kind == "answer":
        _, key, raw, day, hour, conv_index, agent_index, comment, medium = op
        low, high = SCALES[key]
        conv = w.convs[conv_index] if conv_index is not None else None
        response = answer(
            w.surveys[key],
            low + raw % (high - low + 1),
            at(1, hour, month=2) + timedelta(days=day),
            conversation=conv,
            channel=w.mail if conv is None else None,
            agent=agents[agent_index] if agent_index is not None else None,
            comment="words" if comment else "",
            medium=medium,
        )
        created.append(response)
        events.deliver(
            [events.SurveyAnswered(response.pk, response.survey_id, None, None, response.score, False)]
        )
    elif kind == "reassign":
        _, index, team, assignee = op
        conv = w.convs[index]
        conv.team = teams[team] if team is not None else None
        conv.assignee = agents[assignee] if assignee is not None else None
        conv.save(update_fields=["team", "assignee"])
        events.deliver([events.ConversationAssigned(conv.pk, conv.assignee_id, None, None)])
    elif kind in ("erase", "blank") and created:
        response = created[op[1] % len(created)]
        # As the row says now: a merge may have moved the answer to another customer.
        customer_id = (
            SurveyResponse.objects.filter(pk=response.pk).values_list("customer_id", flat=True).first()
        )
        if kind == "erase":
            SurveyResponse.objects.filter(pk=response.pk).delete()
        else:
            SurveyResponse.objects.filter(pk=response.pk).update(comment="")
        if customer_id is not None:
            events.deliver([events.CustomerErased(customer_id)])
        else:
            events.deliver([events.SurveyAnswered(response.pk, response.survey_id, None, None, None, False)])
    elif kind == "merge":
        merged = w.people[op[1]]
        merged.refresh_from_db()
        if merged.merged_into_id is None:
            do_merge(survivor=w.people[0], merged=merged)
            events.deliver([events.CustomersMerged(w.people[0].pk, merged.pk, None)])
    elif kind == "drain":
        answer_tasks.drain()


def _direct(qs) -> scoring.ScoreTotals:
    return scoring.score_totals(qs)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    eager=st.booleans(),
    ops=operations,
    window=st.tuples(st.integers(0, 70), st.integers(1, 40)),
    survey=st.sampled_from(["", *SCALES]),
)
def test_rollups_and_numbers_equal_the_raw_answers(base, eager, ops, window, survey):
    """`eager`: the worker drains after every change (the store must follow each one), else the
    changes pile up and one drain catches up with all of them."""
    get_redis().delete(*answer_dirty.KEYS.values())
    with transaction.atomic():
        created: list[SurveyResponse] = []
        for op in ops:
            _apply(base, op, created)
            if eager:
                answer_tasks.drain()
        answer_tasks.drain()
        assert answer_dirty.pending() == 0
        assert stored_cells() == expected_cells()

        start = at(1, 0, month=2) + timedelta(days=window[0])
        f = filters(start, start + timedelta(days=window[1]))
        raw = SurveyResponse.objects.filter(created_at__gte=f.start, created_at__lt=f.end)
        if survey:
            f = f.replace(survey_ids=(base.surveys[survey].pk,))
            raw = raw.filter(survey=base.surveys[survey])
        for user in (base.manager, base.ann):
            vis = visibility_for(user)
            scores = ar.answer_scores_for(f, vis)
            direct = _direct(vis.linked(raw))
            assert scores.totals == direct
            assert scores.responses == vis.linked(raw).count()
            assert scores.comments == vis.linked(raw).exclude(comment="").count()
            assert ar.drill_answers(f, vis, "responses").count() == scores.responses
            assert ar.drill_answers(f, vis, "detractors").count() == direct.detractors
            assert ar.drill_answers(f, vis, "csat_satisfied").count() == direct.satisfied
            by_team = ar.answer_breakdown(f, vis, by="team")
            assert sum(row.scores.responses for row in by_team) == scores.responses
            for row in by_team:
                team_raw = vis.linked(raw).filter(conversation__team_id=row.key) if row.key else (
                    vis.linked(raw).filter(conversation__team__isnull=True)
                )  # fmt: skip
                assert row.scores.totals == _direct(team_raw)
        transaction.set_rollback(True)
