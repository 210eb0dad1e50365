"""The answer store: facts and rollup cells recomputed from raw answers, whatever happened to them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import answer_dirty, answer_tasks
from analytics.answer_models import AnswerCell, AnswerFact
from analytics.answer_refresh import rebuild_all, refresh_answers
from core import events
from profiles.merge import do_merge
from profiles.models import Customer
from surveys.models import SurveyResponse
from tests.analytics.answer_builders import (
    answer,
    at,
    conversation,
    expected_cells,
    refresh_everything,
    stored_cells,
    world,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_marks():
    from core.redis import get_redis

    get_redis().delete(*answer_dirty.KEYS.values())
    yield
    get_redis().delete(*answer_dirty.KEYS.values())


def _cell(grain: str, **dims) -> tuple[int, ...]:
    rows = AnswerCell.objects.filter(grain=grain, **dims)
    assert rows.count() == 1, list(rows.values())
    cell = rows.get()
    return (*(getattr(cell, f"s{i}") for i in range(11)), cell.comments)


def test_hand_computed_cells_at_every_grain():
    w = world()
    conv = conversation(w, channel=w.sms, team=w.red, assignee=w.ann)
    a = answer(w.nps, 10, at(3, 9), conversation=conv, comment="great")
    b = answer(w.nps, 6, at(3, 9).replace(minute=40), conversation=conv)
    c = answer(w.nps, 10, at(3, 14), conversation=conv)
    d = answer(w.nps, 3, at(20, 1), conversation=conv, comment="slow")
    refresh_answers([a.pk, b.pk, c.pk, d.pk])

    dims = {"survey_id": w.nps.pk, "channel_id": w.sms.pk, "team_id": w.red.pk, "agent_id": w.ann.pk}
    nine = [0] * 12
    nine[10], nine[6], nine[11] = 1, 1, 1
    assert _cell("h", period_start=at(3, 9), **dims) == tuple(nine)
    day = [0] * 12
    day[10], day[6], day[11] = 2, 1, 1
    assert _cell("d", period_start=at(3, 0), **dims) == tuple(day)
    month = [0] * 12
    month[10], month[6], month[3], month[11] = 2, 1, 1, 2
    assert _cell("m", period_start=at(1, 0), **dims) == tuple(month)
    assert AnswerCell.objects.filter(grain="h").count() == 3
    assert stored_cells() == expected_cells()


def test_answer_dimensions_follow_the_documented_rule():
    """Channel: the conversation's, else the answer's; team: the conversation's; agent: the answer's,
    else the conversation's assignee."""
    w = world()
    conv = conversation(w, channel=w.sms, team=w.red, assignee=w.ann)
    own_agent = answer(w.csat5, 5, at(2), conversation=conv, channel=w.mail, agent=w.bob)
    no_agent = answer(w.csat5, 4, at(2), conversation=conv)
    widget = answer(w.csat5, 1, at(2), channel=w.mail, medium="widget")
    refresh_answers([own_agent.pk, no_agent.pk, widget.pk])
    facts = {f.pk: f for f in AnswerFact.objects.all()}
    assert (facts[own_agent.pk].channel_id, facts[own_agent.pk].team_id, facts[own_agent.pk].agent_id) == (
        w.sms.pk,
        w.red.pk,
        w.bob.pk,
    )
    assert (facts[no_agent.pk].team_id, facts[no_agent.pk].agent_id) == (w.red.pk, w.ann.pk)
    assert (facts[widget.pk].channel_id, facts[widget.pk].team_id, facts[widget.pk].agent_id) == (
        w.mail.pk,
        None,
        None,
    )


def test_refresh_is_idempotent_and_equals_a_rebuild():
    w = world()
    conv = conversation(w, channel=w.sms, team=w.red)
    ids = [
        answer(w.ces, score, at(day, hour), conversation=conv).pk
        for day, hour, score in [(1, 0, 7), (1, 23, 2), (31, 23, 5)]
    ]
    refresh_answers(ids)
    first = stored_cells()
    refresh_answers(ids)
    refresh_answers(ids[:1])
    assert stored_cells() == first == expected_cells()
    assert rebuild_all() == 3
    assert stored_cells() == first


def test_late_answer_lands_in_its_own_past_cells():
    w = world()
    conv = conversation(w)
    refresh_answers([answer(w.nps, 9, at(10), conversation=conv).pk])
    late = answer(w.nps, 2, at(1, 5, month=1), conversation=conv)  # answered in January, stored in March
    refresh_answers([late.pk])
    assert AnswerCell.objects.filter(grain="m", period_start=at(1, 0, month=1)).get().s2 == 1
    assert AnswerCell.objects.filter(grain="m", period_start=at(1, 0)).get().s9 == 1
    assert stored_cells() == expected_cells()


def test_reassignment_moves_answers_through_the_assigned_event():
    w = world()
    conv = conversation(w, channel=w.sms, team=w.red, assignee=w.ann)
    response = answer(w.nps, 8, at(5), conversation=conv)
    refresh_answers([response.pk])
    conv.team, conv.assignee = w.blue, w.bob
    conv.save(update_fields=["team", "assignee"])
    events.deliver([events.ConversationAssigned(conv.pk, w.bob.pk, w.ann.pk, None)])
    assert answer_tasks.drain() == 1
    assert AnswerCell.objects.filter(team_id=w.red.pk).count() == 0
    assert _cell("m", period_start=at(1, 0), team_id=w.blue.pk, agent_id=w.bob.pk)[8] == 1
    assert stored_cells() == expected_cells()


def test_answered_event_marks_the_answer_and_the_drain_refreshes_it():
    w = world()
    response = answer(w.csat3, 3, at(6), channel=w.mail)
    events.deliver([events.SurveyAnswered(response.pk, w.csat3.pk, None, None, 3, False)])
    assert answer_dirty.pending() == 1
    answer_tasks.drain()
    assert answer_dirty.pending() == 0
    assert AnswerFact.objects.filter(pk=response.pk).exists()
    assert stored_cells() == expected_cells()


def test_merge_moves_answers_to_the_kept_customer():
    w = world()
    other = Customer.objects.create(name="Anna (other)")
    conv = conversation(w, customer=other)
    response = answer(w.nps, 10, at(7), conversation=conv, customer=other)
    refresh_answers([response.pk])
    with_merge = do_merge(survivor=w.customer, merged=other)
    assert with_merge is not None
    events.deliver([events.CustomersMerged(w.customer.pk, other.pk, None)])
    answer_tasks.drain()
    assert AnswerFact.objects.get(pk=response.pk).customer_id == w.customer.pk
    assert stored_cells() == expected_cells()


def test_erased_answers_and_comments_leave_the_cells():
    w = world()
    conv = conversation(w, channel=w.sms)
    kept = answer(w.nps, 9, at(8), conversation=conv, comment="my name is Anna")
    gone = answer(w.nps, 0, at(8), conversation=conv, comment="call me")
    refresh_answers([kept.pk, gone.pk])
    assert _cell("d", period_start=at(8, 0))[11] == 2
    SurveyResponse.objects.filter(pk=kept.pk).update(comment="")
    gone.delete()
    events.deliver([events.CustomerErased(w.customer.pk)])
    answer_tasks.drain()
    assert not AnswerFact.objects.filter(pk=gone.pk).exists()
    assert _cell("d", period_start=at(8, 0)) == (0,) * 9 + (1, 0, 0)
    assert stored_cells() == expected_cells()


def test_deleted_conversation_keeps_its_answers_as_unlinked():
    w = world()
    conv = conversation(w, channel=w.sms, team=w.red)
    response = answer(w.nps, 7, at(9), conversation=conv, channel=w.mail)
    refresh_answers([response.pk])
    conv_id = conv.pk
    conv.delete()
    events.deliver([events.ConversationAssigned(conv_id, None, None, None)])
    answer_tasks.drain()
    fact = AnswerFact.objects.get(pk=response.pk)
    assert (fact.conversation_id, fact.channel_id, fact.team_id) == (None, w.mail.pk, None)
    assert stored_cells() == expected_cells()


def test_sweep_finds_answers_no_event_announced():
    """The fast endpoint's lost task, a comment completed later: the sweep compares facts and rows."""
    w = world()
    now = timezone.now().replace(microsecond=0)
    answer(w.nps, 9, now - timedelta(days=1))  # announced by a task that was lost
    commented = answer(w.nps, 4, now - timedelta(days=2))
    refresh_answers([commented.pk])
    SurveyResponse.objects.filter(pk=commented.pk).update(comment="later")
    assert answer_tasks.sweep() == 2
    assert answer_tasks.sweep() == 0
    assert AnswerFact.objects.get(pk=commented.pk).has_comment
    assert stored_cells() == expected_cells()


def test_refresh_costs_a_fixed_number_of_statements():
    w = world()
    conv = conversation(w)
    few = [answer(w.nps, i % 11, at(1 + i % 28, i % 24), conversation=conv).pk for i in range(3)]
    many = [answer(w.nps, i % 11, at(1 + i % 28, i % 24), conversation=conv).pk for i in range(60)]
    with CaptureQueriesContext(connection) as small:
        refresh_answers(few)
    with CaptureQueriesContext(connection) as large:
        refresh_answers(many)
    assert len(small) == len(large) <= 14
    refresh_everything()
    assert stored_cells() == expected_cells()


def test_real_erasure_blanks_comments_in_the_store():
    """profiles' erasure blanks the person's comments and announces customer.erased after commit; the
    drain takes the comments out of the cells."""
    from profiles.privacy import do_erase_customer

    w = world()
    conv = conversation(w, channel=w.sms)
    response = answer(w.csat5, 2, at(12), conversation=conv, comment="I am Anna from Gdansk")
    refresh_answers([response.pk])
    assert _cell("d", period_start=at(12, 0))[11] == 1
    do_erase_customer(customer=w.customer, actor=w.manager)
    events.deliver([events.CustomerErased(w.customer.pk)])  # what on_commit would have done
    answer_tasks.drain()
    assert _cell("d", period_start=at(12, 0)) == (0, 0, 1) + (0,) * 9
    assert stored_cells() == expected_cells()
