"""The answer reading API on a hand-computed workspace: every number, its drill-down, visibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics import answer_loop, answer_rates
from analytics import answer_reporting as ar
from analytics.answer_reporting import AnswerCellFilter
from surveys.invitation_models import FollowUp, InvitationStatus, Medium
from tests.analytics.answer_builders import answer, at, conversation, filters, refresh_everything, world
from tests.surveys import factories
from tickets.models import Label
from tickets.visibility import visibility_for

pytestmark = pytest.mark.django_db

MARCH = filters(at(1, 0), at(1, 0, month=4))


@pytest.fixture
def shop():
    """13 answers in March 2026 (see the module's numbers below), 2 in February."""
    w = world()
    red = conversation(w, channel=w.sms, team=w.red, assignee=w.ann)
    blue = conversation(w, channel=w.mail, team=w.blue, assignee=w.bob)
    pl = {"locale": "pl"}
    w.answers = {
        "nps10": answer(w.nps, 10, at(2, 9), conversation=red, **pl),
        "nps9": answer(w.nps, 9, at(3, 23), conversation=red, **pl),  # 00:xx on the 4th in Warsaw
        "nps8": answer(w.nps, 8, at(5), conversation=blue),
        "nps6": answer(w.nps, 6, at(5), conversation=blue),
        "nps0": answer(w.nps, 0, at(6), channel=w.mail, medium="widget", comment="terrible wait"),
        "csat5": answer(w.csat5, 5, at(7), conversation=red, comment="fast and kind", **pl),
        "csat4": answer(w.csat5, 4, at(7), conversation=blue, agent=w.ann),
        "csat3of5": answer(w.csat5, 3, at(8), conversation=blue, comment="ok"),
        "csat3of3": answer(w.csat3, 3, at(8), conversation=red, **pl),
        "csat2of3": answer(w.csat3, 2, at(9), medium="widget"),
        "ces7": answer(w.ces, 7, at(10), conversation=red, **pl),
        "ces5": answer(w.ces, 5, at(10), conversation=blue),
        "ces3": answer(w.ces, 3, at(11), conversation=blue, comment="too many steps"),
        # February: the previous period of March.
        "feb10": answer(w.nps, 10, at(10, month=2), conversation=blue),
        "feb0": answer(w.nps, 0, at(11, month=2), conversation=blue),
    }
    w.red_conv, w.blue_conv = red, blue
    refresh_everything()
    return w


def _manager(w):
    vis = visibility_for(w.manager)
    assert vis.sees_all
    return vis


def _ann(w):
    vis = visibility_for(w.ann)
    assert not vis.sees_all
    return vis


def test_scores_hand_computed(shop):
    scores = ar.answer_scores_for(MARCH, _manager(shop))
    assert (scores.responses, scores.comments, scores.detractors) == (13, 4, 3)
    # NPS: promoters 10, 9; passive 8; detractors 6, 0 -> (2 - 2) / 5.
    assert scores.nps.value == 0 and scores.nps.n == 5
    totals = scores.totals
    assert (totals.promoters, totals.passives, totals.nps_detractors) == (2, 1, 2)
    # CSAT: 5 and 4 of 1-5, 3 of 1-3 satisfied; 3 of 5 and 2 of 3 not: 3 / 5, each on its own scale.
    assert scores.csat_satisfied.value == pytest.approx(60.0)
    assert scores.csat_satisfied.n == 5
    assert (scores.csat_satisfied.low, scores.csat_satisfied.high) == (
        pytest.approx(23.07, abs=0.01),
        pytest.approx(88.24, abs=0.01),
    )
    assert scores.csat_mean.value == pytest.approx(4.0) and scores.csat_mean.n == 3  # 1-5 answers
    assert scores.summary.means["csat3"].value == pytest.approx(2.5)
    # CES: 7, 5 low effort; 3 not; mean 5, sample sd 2 -> t(2) interval 5 +- 4.303 * 2 / sqrt(3).
    assert scores.ces_mean.value == pytest.approx(5.0)
    assert scores.ces_mean.high == pytest.approx(5 + 4.302653 * 2 / 3**0.5, abs=1e-3)
    assert scores.ces_low_effort.value == pytest.approx(200 / 3)
    assert scores.distribution["csat3"] == (0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0)
    assert scores.distribution["nps"] == (1, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1)


def test_empty_and_one_answer(shop):
    empty = ar.answer_scores_for(filters(at(1, 0, year=2020), at(2, 0, year=2020)), _manager(shop))
    assert (empty.responses, empty.nps.value, empty.csat_satisfied.value, empty.ces_mean.value) == (
        0,
        None,
        None,
        None,
    )
    one = ar.answer_scores_for(filters(at(10, 0), at(10, 23)), _manager(shop))  # ces7 and ces5 only
    only = ar.answer_scores_for(filters(at(11, 0), at(12, 0)), _manager(shop))  # ces3
    assert one.responses == 2 and only.responses == 1
    assert only.ces_mean.value == 3 and only.ces_mean.low is None and only.ces_mean.small
    assert only.nps.value is None


def test_previous_period_and_significance(shop):
    result = ar.answer_summary(MARCH, _manager(shop))
    assert result.previous.responses == 2
    assert result.previous.nps.value == 0  # one promoter, one detractor
    assert result.changes.nps.difference == pytest.approx(0.0)
    assert not result.changes.nps.significant()


def test_agent_sees_only_their_conversations_and_unlinked_answers(shop):
    scores = ar.answer_scores_for(MARCH, _ann(shop))
    # Visible: the red conversation's 5 answers, and the two tied to no conversation.
    assert scores.responses == 7
    assert scores.nps.value == pytest.approx(100 / 3)  # 10, 9, 0
    assert scores.csat_satisfied.value == pytest.approx(200 / 3)  # 5 of 5, 3 of 3 yes; 2 of 3 no
    assert scores.ces_mean.value == 7
    drilled = ar.drill_answers(MARCH, _ann(shop), "responses")
    assert drilled.count() == 7
    assert shop.answers["nps8"].pk not in set(drilled.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("measure", "expected"),
    [
        ("responses", 13),
        ("answers", 13),
        ("comments", 4),
        ("nps", 5),
        ("promoters", 2),
        ("passives", 1),
        ("nps_detractors", 2),
        ("csat", 5),
        ("csat_satisfied", 3),
        ("ces", 3),
        ("ces_low_effort", 2),
        ("detractors", 3),
    ],
)
def test_drill_counts_equal_the_numbers(shop, measure, expected):
    scores = ar.answer_scores_for(MARCH, _manager(shop))
    totals = scores.totals
    shown = {
        "responses": scores.responses,
        "answers": scores.responses,
        "comments": scores.comments,
        "nps": scores.nps.n,
        "promoters": totals.promoters,
        "passives": totals.passives,
        "nps_detractors": totals.nps_detractors,
        "csat": scores.csat_satisfied.n,
        "csat_satisfied": totals.satisfied,
        "ces": scores.ces_mean.n,
        "ces_low_effort": totals.low_effort,
        "detractors": scores.detractors,
    }[measure]
    assert shown == expected
    assert ar.drill_answers(MARCH, _manager(shop), measure).count() == expected


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("team", {"red": 5, "blue": 6, None: 2}),
        ("agent", {"ann": 6, "bob": 5, None: 2}),
        ("channel", {"sms": 5, "mail": 7, None: 1}),
        ("medium", {"email": 11, "widget": 2}),
        ("language", {"pl": 5, "en": 8}),
        ("survey", {"nps": 5, "csat5": 3, "csat3": 2, "ces": 3}),
    ],
)
def test_breakdowns_and_their_drills(shop, by, expected):
    keys = {
        "team": {"red": shop.red.pk, "blue": shop.blue.pk},
        "agent": {"ann": shop.ann.pk, "bob": shop.bob.pk},
        "channel": {"sms": shop.sms.pk, "mail": shop.mail.pk},
        "survey": {"nps": shop.nps.pk, "csat5": shop.csat5.pk, "csat3": shop.csat3.pk, "ces": shop.ces.pk},
    }.get(by, {})
    rows = ar.answer_breakdown(MARCH, _manager(shop), by=by)
    found = {row.key: row.scores.responses for row in rows}
    assert found == {keys.get(name, name) if name is not None else None: n for name, n in expected.items()}
    field = {"team": "team_id", "agent": "agent_id", "channel": "channel_id", "survey": "survey_id"}.get(
        by, by
    )
    for row in rows:
        value = row.key if row.key is not None else 0
        cell = AnswerCellFilter(**{field: value})
        assert ar.drill_answers(MARCH, _manager(shop), "responses", cell).count() == row.scores.responses


def test_series_by_local_day_reads_rollups_and_facts_alike(shop):
    warsaw = filters(
        datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC), tz="Europe/Warsaw"
    )
    points = ar.answer_series(warsaw, _manager(shop), step="day")
    assert len(points) == 31
    by_day = {p.start.day: p.scores.responses for p in points if p.scores.responses}
    # nps9 was given at 23:00 UTC on the 3rd: the 4th in Warsaw.
    assert by_day == {2: 1, 4: 1, 5: 2, 6: 1, 7: 2, 8: 2, 9: 1, 10: 2, 11: 1}
    assert ar.answer_series(warsaw, _ann(shop), step="day")[3].scores.responses == 1  # facts path
    weeks = ar.answer_series(MARCH, _manager(shop), step="week")
    assert sum(p.scores.responses for p in weeks) == 13
    cell = AnswerCellFilter(start=points[3].start, end=points[3].end)
    assert ar.drill_answers(warsaw, _manager(shop), "responses", cell).get().pk == shop.answers["nps9"].pk


def test_facts_path_gives_the_rollups_numbers(shop):
    rollup = ar.answer_scores_for(MARCH, _manager(shop))
    half_hour = MARCH.replace(start=MARCH.start + timedelta(minutes=30))  # not whole hours: facts
    facts = ar.answer_scores_for(half_hour, _manager(shop))
    assert facts.totals == rollup.totals and facts.comments == rollup.comments
    label = Label.objects.create(name="refund")
    shop.blue_conv.labels.add(label)
    labelled = ar.answer_scores_for(MARCH.replace(label_ids=(label.pk,)), _manager(shop))
    assert labelled.responses == 6
    assert ar.drill_answers(MARCH.replace(label_ids=(label.pk,)), _manager(shop), "responses").count() == 6


def test_filters_on_dimensions(shop):
    vis = _manager(shop)
    assert ar.answer_scores_for(MARCH.replace(team_ids=(0,)), vis).responses == 2
    assert ar.answer_scores_for(MARCH.replace(agent_ids=(shop.ann.pk,)), vis).responses == 6
    assert ar.answer_scores_for(MARCH.replace(survey_ids=(shop.csat3.pk,)), vis).csat_satisfied.value == 50
    assert ar.answer_scores_for(MARCH.replace(language="pl"), vis).responses == 5


def test_comments_with_filters(shop):
    vis = _manager(shop)
    assert ar.comments(MARCH, vis).count() == 4
    assert list(ar.comments(MARCH, vis, group="detractor").values_list("comment", flat=True)) == [
        "too many steps",
        "terrible wait",
    ]
    assert ar.comments(MARCH, vis, group="satisfied").get().comment == "fast and kind"
    assert ar.comments(MARCH, vis, text="WAIT").get().pk == shop.answers["nps0"].pk
    assert ar.comments(MARCH, _ann(shop)).count() == 2  # "ok" and "too many steps" are on blue


def test_segment_breakdown_reads_raw_rows(shop):
    from profiles.models import Customer, Segment

    Customer.objects.filter(pk=shop.customer.pk).update(company="Acme")
    segment = Segment.objects.create(
        name="Acme", definition=[{"type": "attribute", "field": "company", "op": "is_set"}]
    )
    rows = ar.answer_breakdown_by_segment(MARCH, _manager(shop), segment_ids=[segment.pk])
    # Every answer tied to a conversation has the shop's customer; the two widget answers have none.
    assert [(row.label, row.scores.responses) for row in rows] == [("Acme", 11)]


def test_response_rates(shop):
    w = shop
    sent = [
        factories.invitation(w.nps, w.customer, medium=Medium.EMAIL, channel=w.mail, sent_at=at(3)),
        factories.invitation(w.nps, w.customer, medium=Medium.EMAIL, channel=w.mail, sent_at=at(4)),
        factories.invitation(w.nps, w.customer, medium=Medium.EMAIL, channel=w.mail, sent_at=at(5)),
        factories.invitation(w.csat5, w.customer, medium=Medium.SMS, channel=w.sms, sent_at=at(6)),
    ]
    factories.invitation(w.nps, w.customer, status=InvitationStatus.THROTTLED, sent_at=None)
    factories.invitation(w.nps, w.customer, sent_at=at(3, month=2))
    for invitation in (sent[0], sent[3]):
        invitation.status, invitation.answered_at = InvitationStatus.ANSWERED, at(20)
        invitation.save()
    rates = answer_rates.response_rates(MARCH, _manager(w))
    assert (rates.total.sent, rates.total.answered, rates.total.rate.value) == (4, 2, 50.0)
    assert {(r.key, r.sent, r.answered) for r in rates.by_medium} == {("email", 3, 1), ("sms", 1, 1)}
    assert {(r.key, r.sent, r.answered) for r in rates.by_survey} == {(w.nps.pk, 3, 1), (w.csat5.pk, 1, 1)}
    assert answer_rates.drill_invitations(MARCH, _manager(w), "answered", medium="email").count() == 1
    assert answer_rates.drill_invitations(MARCH, _manager(w), "sent").count() == 4


def _follow_up(response, conv, opened, closed=None):
    follow_up = FollowUp.objects.create(response=response, conversation=conv)
    FollowUp.objects.filter(pk=follow_up.pk).update(opened_at=opened, closed_at=closed)
    return follow_up


def test_closed_loop(shop):
    w = shop
    blue_loop = conversation(w, channel=w.mail, team=w.blue, assignee=w.bob)
    red_loop = conversation(w, channel=w.mail, team=w.red, assignee=w.ann)
    blue_loop_2 = conversation(w, channel=w.mail, team=w.blue, assignee=w.bob)
    _follow_up(w.answers["nps6"], blue_loop, at(10, 12), at(10, 14))
    _follow_up(w.answers["nps0"], red_loop, at(11))
    _follow_up(w.answers["ces3"], blue_loop_2, at(12, 0), at(12, 6))
    refresh_everything()
    loop = answer_loop.closed_loop(MARCH, _manager(w))
    assert loop.detractors == 3
    total = loop.total
    assert (total.opened, total.closed, total.open) == (3, 2, 1)
    assert total.share_closed.value == pytest.approx(200 / 3)
    assert total.median_seconds_to_close == pytest.approx(4 * 3600)  # 2 h and 6 h
    owners = {row.key: (row.opened, row.closed, row.median_seconds_to_close) for row in loop.by_owner}
    assert owners == {w.bob.pk: (2, 2, pytest.approx(4 * 3600)), w.ann.pk: (1, 0, None)}
    assert {row.key: row.opened for row in loop.by_team} == {w.blue.pk: 2, w.red.pk: 1}
    assert answer_loop.drill_follow_ups(MARCH, _manager(w), "closed", owner_id=w.bob.pk).count() == 2
    assert answer_loop.drill_follow_ups(MARCH, _manager(w), "open").count() == 1
    mine = answer_loop.closed_loop(MARCH, _ann(w))
    assert (mine.detractors, mine.total.opened, mine.total.closed) == (1, 1, 0)


def test_reading_api_query_counts_are_bounded(shop, django_assert_max_num_queries):
    for vis in (_manager(shop), _ann(shop)):
        with django_assert_max_num_queries(2):
            ar.answer_scores_for(MARCH, vis)
        with django_assert_max_num_queries(3):
            ar.answer_summary(MARCH, vis)
        with django_assert_max_num_queries(2):
            ar.answer_series(MARCH, vis, step="day")
        with django_assert_max_num_queries(3):
            ar.answer_breakdown(MARCH, vis, by="agent")
        with django_assert_max_num_queries(3):
            answer_rates.response_rates(MARCH, vis)
        with django_assert_max_num_queries(7):
            answer_loop.closed_loop(MARCH, vis)
