"""surveys/scoring.py: the rules by hand, the Python and SQL forms of each rule agreeing for every score
of every scale in the database, and the one-query aggregate with its summaries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone
from scipy import stats as sp

from surveys import scoring
from surveys.models import Survey, SurveyKind, SurveyResponse

from . import factories as f

# Every scale, with and without a threshold of its own.
SURVEYS = [
    (SurveyKind.NPS, None, None),
    (SurveyKind.NPS, None, 8),
    (SurveyKind.CSAT, None, None),
    (SurveyKind.CSAT, 5, 3),
    (SurveyKind.CSAT, 3, None),
    (SurveyKind.CSAT, 3, 2),
    (SurveyKind.CES, None, None),
    (SurveyKind.CES, None, 4),
]


def test_nps_groups_by_hand():
    assert [scoring.nps_group(s) for s in range(11)] == ["detractor"] * 7 + ["passive"] * 2 + ["promoter"] * 2
    with pytest.raises(ValueError):
        scoring.nps_group(11)


def test_csat_satisfied_is_the_top_two_of_five_and_the_top_one_of_three():
    assert [s for s in range(1, 6) if scoring.is_satisfied(SurveyKind.CSAT, None, s)] == [4, 5]
    assert [s for s in range(1, 6) if scoring.is_satisfied(SurveyKind.CSAT, 5, s)] == [4, 5]
    assert [s for s in range(1, 4) if scoring.is_satisfied(SurveyKind.CSAT, 3, s)] == [3]
    assert not scoring.is_satisfied(SurveyKind.NPS, None, 10)


def test_ces_low_effort_is_five_to_seven():
    assert [s for s in range(1, 8) if scoring.is_low_effort(s)] == [5, 6, 7]


def test_scales_and_follow_up_thresholds():
    assert scoring.scale_of(SurveyKind.NPS).high == 10 and scoring.scale_of(SurveyKind.CES).high == 7
    assert scoring.scale_of(SurveyKind.CSAT, 3).high == 3 and scoring.scale_of(SurveyKind.CSAT, 7).high == 5
    assert [Survey(kind=k, scale_max=m).detractor_at_or_below for k, m in
            [("nps", None), ("csat", None), ("csat", 3), ("ces", None)]] == [6, 2, 1, 3]  # fmt: skip
    survey = Survey(kind="nps", detractor_threshold=8)
    assert scoring.is_detractor(survey, 8) and not scoring.is_detractor(survey, 9)
    assert Survey(kind="csat", scale_max=3).scale == (1, 3)


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.django_db
def test_the_sql_fragments_agree_with_python_for_every_scale():
    for kind, scale_max, threshold in SURVEYS:
        survey = f.survey(kind, scale_max=scale_max, detractor_threshold=threshold)
        [(low, high, at, good_from)] = rows(
            f"SELECT {scoring.scale_low_sql()}, {scoring.scale_high_sql()}, "  # noqa: S608
            f"{scoring.detractor_at_or_below_sql()}, {scoring.good_from_sql()} "
            "FROM surveys_survey s WHERE s.id = %s",
            [survey.pk],
        )
        assert (low, high) == survey.scale
        assert at == survey.detractor_at_or_below
        for score in range(0, 11):
            [(detractor, good, group)] = rows(
                f"SELECT {scoring.is_detractor_sql('v.score')}, {scoring.is_good_sql('v.score')}, "  # noqa: S608
                f"{scoring.nps_group_sql('v.score')} FROM surveys_survey s, (SELECT %s::int AS score) v "
                "WHERE s.id = %s",
                [score, survey.pk],
            )
            assert detractor == scoring.is_detractor(survey, score), (survey.kind, score)
            assert good == scoring.is_good(kind, scale_max, score) == (score >= good_from)
            assert group == scoring.nps_group(score)


RULES = {
    "promoter_q": lambda s, score: s.kind == "nps" and scoring.nps_group(score) == "promoter",
    "passive_q": lambda s, score: s.kind == "nps" and scoring.nps_group(score) == "passive",
    "nps_detractor_q": lambda s, score: s.kind == "nps" and scoring.nps_group(score) == "detractor",
    "satisfied_q": lambda s, score: scoring.is_satisfied(s.kind, s.scale_max, score),
    "low_effort_q": lambda s, score: s.kind == "ces" and scoring.is_low_effort(score),
    "good_q": lambda s, score: scoring.is_good(s.kind, s.scale_max, score),
    "detractor_q": lambda s, score: scoring.is_detractor(s, score),
    "neutral_q": lambda s, score: (
        not scoring.is_good(s.kind, s.scale_max, score) and not scoring.is_detractor(s, score)
    ),
}


def every_score_of_every_scale() -> list[SurveyResponse]:
    """One answer per score 0-10 (the column's whole range, so out-of-scale imports are covered too)
    for each survey configuration."""
    now = timezone.now()
    answers = []
    for kind, scale_max, threshold in SURVEYS:
        survey = f.survey(kind, scale_max=scale_max, detractor_threshold=threshold)
        answers += [SurveyResponse(survey=survey, score=score, created_at=now) for score in range(11)]
    return SurveyResponse.objects.bulk_create(answers)


@pytest.mark.django_db
@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_q_rule_agrees_with_python_for_every_score_of_every_scale(rule):
    answers = every_score_of_every_scale()
    expected = {a.pk for a in answers if RULES[rule](a.survey, a.score)}
    on_answers = set(SurveyResponse.objects.filter(getattr(scoring, rule)()).values_list("pk", flat=True))
    assert on_answers == expected
    # The same rule from the survey side (prefix to the answers, survey fields unprefixed).
    by_survey = (
        Survey.objects.filter(getattr(scoring, rule)("responses__", survey_path=""))
        .values_list("responses__pk", flat=True)
        .distinct()
    )
    assert set(by_survey) == expected
    assert expected  # every rule matches something here


@pytest.mark.django_db
def test_the_nps_group_case_agrees_with_python():
    answers = every_score_of_every_scale()
    groups = dict(SurveyResponse.objects.annotate(g=scoring.nps_group_case()).values_list("pk", "g"))
    assert groups == {a.pk: scoring.nps_group(a.score) if a.survey.kind == "nps" else None for a in answers}


def answer_all(survey: Survey, scores: list[int]) -> None:
    now = timezone.now()
    SurveyResponse.objects.bulk_create(SurveyResponse(survey=survey, score=s, created_at=now) for s in scores)


@pytest.mark.django_db
def test_aggregates_in_one_query_and_summaries_by_hand(django_assert_num_queries):
    answer_all(f.survey(SurveyKind.NPS), [10, 10, 9, 9, 9, 8, 7, 6, 3, 0])  # 5 P, 2 passive, 3 D
    answer_all(f.survey(SurveyKind.CSAT), [5, 4, 3, 2, 1])  # satisfied: 5, 4
    answer_all(f.survey(SurveyKind.CSAT, scale_max=3), [3, 3, 2, 1])  # satisfied: 3, 3
    answer_all(f.survey(SurveyKind.CES), [7, 5, 4, 2])  # low effort: 7, 5
    with django_assert_num_queries(1):
        totals = scoring.score_totals(SurveyResponse.objects.all())
    assert (totals.promoters, totals.passives, totals.nps_detractors) == (5, 2, 3)
    assert (totals.satisfied, totals.low_effort) == (4, 2)
    assert totals.moments["csat5"] == scoring.Moments(5, 15, 55)
    assert totals.moments["csat3"] == scoring.Moments(4, 9, 23)
    assert totals.moments["ces"] == scoring.Moments(4, 18, 94)
    # Follow-up detractors: NPS <= 6 (3), CSAT 1-5 <= 2 (2), CSAT 1-3 <= 1 (1), CES <= 3 (1).
    assert totals.detractors == 7
    assert totals.good == 5 + 4 + 2
    assert totals.n() == 23

    scores = scoring.summarize(totals)
    assert scores.nps.value == pytest.approx(20.0) and scores.nps.n == 10
    # Mixed CSAT scales: 4 of 9 satisfied, each answer on its own scale (4+ alone would say 2 of 9).
    assert scores.csat_satisfied.value == pytest.approx(400 / 9) and scores.csat_satisfied.n == 9
    ci = sp.binomtest(4, 9).proportion_ci(method="wilson")
    assert scores.csat_satisfied.low == pytest.approx(ci.low * 100, abs=1e-3)
    assert scores.csat_satisfied.high == pytest.approx(ci.high * 100, abs=1e-3)
    assert scores.means["csat5"].value == 3.0 and scores.means["csat3"].value == 2.25
    assert scores.ces_mean.value == 4.5 and scores.ces_low_effort.value == 50.0
    assert scores.headline("csat", 3) is scores.csat_satisfied and scores.headline("ces") is scores.ces_mean


@pytest.mark.django_db
def test_summaries_of_no_answers_and_of_one_answer():
    empty = scoring.summarize(scoring.score_totals(SurveyResponse.objects.none()))
    assert empty.nps.value is None and empty.csat_satisfied.value is None and empty.ces_mean.value is None
    answer_all(f.survey(SurveyKind.CES), [6])
    one = scoring.summarize(scoring.score_totals(SurveyResponse.objects.all()))
    assert (one.ces_mean.value, one.ces_mean.low, one.ces_mean.n, one.ces_mean.small) == (6.0, None, 1, True)
    assert one.ces_low_effort.value == 100.0 and one.ces_low_effort.low is not None
    assert one.nps.value is None


@pytest.mark.django_db
def test_the_aggregates_per_survey_equal_the_aggregate_of_each_survey():
    nps, csat3 = f.survey(SurveyKind.NPS), f.survey(SurveyKind.CSAT, scale_max=3)
    answer_all(nps, [10, 9, 2, 7])
    answer_all(csat3, [3, 2, 3])
    annotated = {
        s.pk: scoring.totals_from(s) for s in Survey.objects.annotate(**scoring.aggregates("responses__", ""))
    }
    for survey in (nps, csat3):
        assert annotated[survey.pk] == scoring.score_totals(SurveyResponse.objects.filter(survey=survey))
