"""Reads for the survey pages; each page costs a fixed number of queries however much data there is.

Every read goes through the viewer's `Visibility` (tickets.visibility). An answer or invitation given in
a conversation is shown, and counted, only to those who may open that conversation: its comment and the
customer's name are part of the conversation's history. Answers and invitations tied to no conversation
(website widget, public link, API, segment triggers) belong to no team, so anyone who may view surveys
sees them. Managers and admins see every conversation, so their figures are the global ones; an agent's
figures are those of the answers the agent may see, so no count tells of a comment kept from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict, cast

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from core.stats import Estimate
from surveys import scoring
from surveys.invitation_models import FollowUp, FollowUpOutcome, Invitation, InvitationStatus, Trigger
from surveys.models import Survey, SurveyResponse
from tickets.visibility import Visibility

if TYPE_CHECKING:
    # Stubs only: django-stubs-ext is a development dependency.
    from django_stubs_ext import WithAnnotations

RECENT_ANSWERS = 20
SEND_LOG = 50


def _invitation_count(viewer: Visibility, **filters) -> Coalesce:
    counted = (
        viewer.linked(Invitation.objects.filter(survey_id=OuterRef("pk"), **filters))
        .order_by()
        .values("survey_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def headline(survey: Survey, scores: scoring.Scores) -> tuple[str, float | None, Estimate]:
    """The number a manager reads first (NPS for NPS, % satisfied for CSAT, the mean for CES), rounded
    for display, with the estimate behind it (interval, sample size, small-sample flag)."""
    estimate = scores.headline(survey.kind, survey.scale_max)
    if estimate.value is None:
        return "", None, estimate
    kind = scoring.HEADLINE_KINDS[survey.kind]
    return kind, round(estimate.value, 1 if kind == "average" else None), estimate


def _loop_q(viewer: Visibility, prefix: str = "") -> Q:
    """Follow-ups the viewer may see: the loop is work in its follow-up conversation, which quotes the
    answer, so whoever may open that conversation sees the loop; without one, the answer's rule holds."""
    if viewer.sees_all:
        return Q()  # an empty Q would vanish from the OR below and leave only its other side
    return viewer.only_linked_q(f"{prefix}conversation") | (
        Q(**{f"{prefix}conversation__isnull": True}) & viewer.linked_q(f"{prefix}response__conversation")
    )


class SurveyStats(TypedDict):
    """What surveys_with_stats() adds to each survey: the counts from SQL, then the headline."""

    response_count: int
    open_loops: int
    invitation_count: int
    scores: scoring.Scores
    headline_kind: str
    headline: float | None
    headline_estimate: Estimate


def surveys_with_stats(*, viewer: Visibility) -> list[WithAnnotations[Survey, SurveyStats]]:
    mine = viewer.linked_q("responses__conversation")
    # The cast: the scores are not in the query; the loop below builds them from its aggregates.
    surveys = cast(
        "list[WithAnnotations[Survey, SurveyStats]]",
        list(
            Survey.objects.select_related("owner").annotate(
                response_count=Count("responses", filter=mine),
                # Counts, sums and squares per scale, by the rules of surveys.scoring.
                **scoring.aggregates("responses__", survey_path="", where=mine),
                open_loops=Count(
                    "responses__follow_up",
                    filter=Q(responses__follow_up__closed_at__isnull=True)
                    & _loop_q(viewer, "responses__follow_up__"),
                ),
                invitation_count=_invitation_count(viewer),
            )
        ),
    )
    for survey in surveys:
        survey.scores = scoring.summarize(scoring.totals_from(survey))
        survey.headline_kind, survey.headline, survey.headline_estimate = headline(survey, survey.scores)
    return surveys


def survey_for_page(pk: int) -> Survey:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Survey.objects.select_related("owner", "followup_team"), pk=pk)


@dataclass
class ScoreSummary:
    count: int = 0
    complete: int = 0
    average: float | None = None
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    headline_kind: str = ""
    headline: float | None = None
    # The headline and the mean with their intervals, sample size and small-sample flag.
    estimate: Estimate | None = None
    mean: Estimate | None = None
    # (score, count, percent of answers), every score of the scale, for the bar chart.
    distribution: list[tuple[int, int, int]] = field(default_factory=list)
    invitations: dict[str, int] = field(default_factory=dict)


def score_summary(survey: Survey, *, viewer: Visibility) -> ScoreSummary:
    low, high = survey.scale
    responses = viewer.linked(SurveyResponse.objects.filter(survey=survey))
    totals = responses.order_by().aggregate(
        count=Count("pk"), complete=Count("pk", filter=Q(is_complete=True)), **scoring.aggregates()
    )
    scores = scoring.summarize(scoring.totals_from(totals))
    by_score = dict(responses.order_by().values_list("score").annotate(n=Count("pk")))
    count = totals["count"]
    mean = scores.means[scoring.scale_of(survey.kind, survey.scale_max).key]
    # "Promoters" are the top band of the survey's kind (promoters, satisfied, low effort), "detractors"
    # those that open a follow-up (the survey's threshold), "passives" neither.
    summary = ScoreSummary(
        count=count,
        complete=totals["complete"],
        average=mean.value,
        promoters=scores.totals.good,
        detractors=scores.totals.detractors,
        passives=scores.totals.neutral,
        mean=mean,
    )
    summary.headline_kind, summary.headline, summary.estimate = headline(survey, scores)
    summary.distribution = [
        (score, by_score.get(score, 0), round(by_score.get(score, 0) * 100 / count) if count else 0)
        for score in range(low, high + 1)
    ]
    statuses = dict(
        viewer.linked(Invitation.objects.filter(survey=survey))
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    summary.invitations = {status: statuses.get(status, 0) for status in InvitationStatus.values}
    return summary


def recent_answers(
    survey: Survey, *, viewer: Visibility, limit: int = RECENT_ANSWERS
) -> list[SurveyResponse]:
    return list(
        viewer.linked(SurveyResponse.objects.filter(survey=survey))
        .select_related("customer", "channel", "agent", "conversation", "follow_up")
        .order_by("-created_at", "-id")[:limit]
    )


def send_log(
    survey: Survey, *, viewer: Visibility, status: str = "", limit: int = SEND_LOG
) -> list[Invitation]:
    invitations = viewer.linked(Invitation.objects.filter(survey=survey))
    if status in InvitationStatus.values:
        invitations = invitations.filter(status=status)
    return list(
        invitations.select_related("customer", "channel", "agent", "conversation", "rule").order_by(
            "-created_at", "-id"
        )[:limit]
    )


def open_loops(survey: Survey, *, viewer: Visibility) -> list[FollowUp]:
    """Detractor follow-ups nobody has closed yet, oldest first: those are the ones that hurt."""
    return list(
        FollowUp.objects.filter(_loop_q(viewer), response__survey=survey, closed_at__isnull=True)
        .select_related("response__customer", "conversation__assignee", "conversation__team")
        .order_by("opened_at", "id")
    )


def survey_triggers(survey: Survey) -> QuerySet[Trigger]:
    return survey.triggers.select_related("segment").prefetch_related("channels").order_by("pk")


def follow_up_for_conversation(conversation_id: int) -> FollowUp | None:
    """The survey follow-up this conversation is about, if it is one (for the conversation page)."""
    follow_up = (
        FollowUp.objects.filter(conversation_id=conversation_id)
        .select_related("response__survey", "response__channel", "closed_by")
        .first()
    )
    if follow_up is not None:
        follow_up.outcome_choices = FollowUpOutcome.choices  # type: ignore[attr-defined]
    return follow_up
