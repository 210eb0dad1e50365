"""One definition, every reader: the survey page, the survey list, the segment condition, the answer path
(its batch SQL and the follow-up sweep) and the old dashboard classify the same answers the same way,
and their numbers equal the ones computed by hand from the raw scores."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from analytics.selectors import score_summaries
from core import stats
from profiles.segments import customers_matching
from surveys import scoring
from surveys.answer_sql import MISSING_FOLLOW_UPS
from surveys.closed_loop import is_detractor
from surveys.models import Survey, SurveyKind, SurveyResponse
from tests.surveys.test_answer_endpoint import post_all

from . import factories as f

SURVEYS = [
    (SurveyKind.NPS, None, None),
    (SurveyKind.NPS, None, 8),
    (SurveyKind.CSAT, None, None),
    (SurveyKind.CSAT, 3, None),
    (SurveyKind.CSAT, 3, 2),
    (SurveyKind.CES, None, None),
]


def every_score(survey: Survey, *, repeat: int = 1) -> list[SurveyResponse]:
    """`repeat` answers of every score of the survey's scale, each from its own customer with an
    invitation (so the follow-up sweep considers them)."""
    low, high = survey.scale
    now = timezone.now()
    answers = []
    for score in range(low, high + 1):
        for n in range(repeat):
            person = f.customer(f"S{survey.pk}-{score}-{n}", phone="")
            invitation = f.invitation(survey, person)
            answers.append(
                SurveyResponse(
                    survey=survey, customer=person, invitation=invitation, score=score, created_at=now
                )
            )
    return SurveyResponse.objects.bulk_create(answers)


def by_hand(survey: Survey, scores: list[int]) -> stats.Estimate:
    """The headline straight from the definitions in docs/metrics.md."""
    n = len(scores)
    if survey.kind == SurveyKind.NPS:
        promoters = sum(s >= 9 for s in scores)
        detractors = sum(s <= 6 for s in scores)
        return stats.nps_interval(promoters, n - promoters - detractors, detractors)
    if survey.kind == SurveyKind.CSAT:
        top = 3 if survey.scale_max == 3 else 4
        return stats.wilson(sum(s >= top for s in scores), n).scaled(100)
    return stats.mean_interval(n, sum(scores), sum(s * s for s in scores), scale=(1, 7))


@pytest.mark.django_db
def test_the_survey_page_and_the_list_show_the_hand_computed_headline(manager_client):
    surveys = []
    for kind, scale_max, threshold in SURVEYS:
        survey = f.survey(
            kind, scale_max=scale_max, detractor_threshold=threshold, name=f"{kind}-{scale_max}-{threshold}"
        )
        every_score(survey, repeat=3)
        surveys.append(survey)
    listed = {s.pk: s for s in manager_client.get(reverse("survey_list")).context["surveys"]}
    for survey in surveys:
        scores = list(survey.responses.values_list("score", flat=True))
        expected = by_hand(survey, scores)
        page = manager_client.get(reverse("survey_detail", args=[survey.pk]))
        summary = page.context["summary"]
        assert summary.estimate == expected, survey.name
        assert listed[survey.pk].headline_estimate == expected, survey.name
        assert summary.headline == listed[survey.pk].headline
        # The page's three counts: the top band, the follow-up detractors, neither.
        assert summary.promoters == sum(scoring.is_good(survey.kind, survey.scale_max, s) for s in scores)
        assert summary.detractors == sum(scoring.is_detractor(survey, s) for s in scores)
        assert summary.passives == sum(
            not scoring.is_good(survey.kind, survey.scale_max, s) and not scoring.is_detractor(survey, s)
            for s in scores
        )
        html = page.content.decode()
        assert f"n = {len(scores)}" in html and 'data-testid="small-sample"' in html  # 33 answers or fewer


@pytest.mark.django_db
def test_hand_numbers_for_a_1_to_3_csat_survey(manager_client):
    survey = f.survey(SurveyKind.CSAT, scale_max=3)
    every_score(survey, repeat=4)  # 4 of 12 answered 3, the only satisfied answer on this scale
    summary = manager_client.get(reverse("survey_detail", args=[survey.pk])).context["summary"]
    assert summary.headline_kind == "csat" and summary.headline == 33
    assert summary.estimate.low == pytest.approx(13.8120, abs=1e-3)  # Wilson, 4 of 12
    assert summary.estimate.high == pytest.approx(60.9378, abs=1e-3)
    assert (summary.promoters, summary.passives, summary.detractors) == (4, 4, 4)
    # The old dashboard counted 4+ as satisfied on every scale, so 0% here; it now reads the definition.
    assert score_summaries()["csat"].value == pytest.approx(33.3, abs=0.05)


@pytest.mark.django_db
def test_the_segment_condition_uses_the_nps_groups():
    nps = f.survey(SurveyKind.NPS)
    csat = f.survey(SurveyKind.CSAT)
    now = timezone.now()
    latest = {}
    for score in range(11):
        person = f.customer(f"N{score}", phone="")
        # An older answer in another group, and a CSAT answer, must not decide the group.
        SurveyResponse.objects.create(
            survey=nps, customer=person, score=10 - score, created_at=now - timedelta(days=9)
        )
        SurveyResponse.objects.create(
            survey=csat, customer=person, score=1, created_at=now + timedelta(days=1)
        )
        SurveyResponse.objects.create(survey=nps, customer=person, score=score, created_at=now)
        latest[person.pk] = score
    never = f.customer("Never asked", phone="")
    for group in scoring.NPS_GROUPS:
        matched = set(customers_matching([{"type": "nps", "group": group}]).values_list("pk", flat=True))
        assert matched == {pk for pk, score in latest.items() if scoring.nps_group(score) == group}
    assert set(customers_matching([{"type": "nps", "group": "none"}]).values_list("pk", flat=True)) == {
        never.pk
    }


@pytest.mark.django_db
def test_the_segment_labels_state_the_nps_groups():
    from profiles.views_segments import OP_LABELS

    for group, (low, high) in scoring.NPS_GROUPS.items():
        assert f"({low}–{high})" in str(OP_LABELS[group])


@pytest.mark.django_db
def test_the_follow_up_sweep_and_the_python_rule_pick_the_same_detractors():
    answers = []
    for kind, scale_max, threshold in SURVEYS:
        answers += every_score(f.survey(kind, scale_max=scale_max, detractor_threshold=threshold))
    with connection.cursor() as cursor:
        cursor.execute(MISSING_FOLLOW_UPS, [timezone.now() - timedelta(hours=1)])
        swept = {row[0] for row in cursor.fetchall()}
    stored = SurveyResponse.objects.filter(pk__in=[a.pk for a in answers]).select_related("survey")
    python = {a.pk for a in stored if is_detractor(a)}
    assert swept == python
    q = set(SurveyResponse.objects.filter(scoring.detractor_q()).values_list("pk", flat=True))
    assert q == python
    # And the page's count of detractors per survey is that same set.
    for survey in Survey.objects.all():
        assert scoring.score_totals(survey.responses.all()).detractors == len(
            [a for a in answers if a.survey_id == survey.pk and a.pk in python]
        )


@pytest.fixture
def queued(monkeypatch):
    from surveys import answer_asgi, answer_writer

    batches: list[list[int]] = []
    monkeypatch.setattr(answer_writer, "_open_follow_ups_later", batches.append)
    monkeypatch.setattr(answer_writer, "_announce_later", lambda ids: None)
    answer_asgi._failures.clear()
    return batches


@pytest.mark.django_db(transaction=True)
def test_the_answer_endpoint_flags_the_detractors_the_definitions_name(queued):
    sent = []
    for kind, scale_max, threshold in SURVEYS:
        survey = f.survey(kind, scale_max=scale_max, detractor_threshold=threshold)
        low, high = survey.scale
        for score in range(low, high + 1):
            person = f.customer(f"A{survey.pk}-{score}", phone="")
            sent.append((f.invitation(survey, person), score))
    responses = post_all(*({"token": inv.token, "score": score} for inv, score in sent))
    assert all(r["status"] == 200 for r in responses)
    flagged = {pk for batch in queued for pk in batch}
    stored = SurveyResponse.objects.select_related("survey")
    assert flagged == {r.pk for r in stored if scoring.is_detractor(r.survey, r.score)}
    assert flagged == set(stored.filter(scoring.detractor_q()).values_list("pk", flat=True))
