"""The profile page's survey sections: the latest answers and the newest score of each survey kind,
both read through the viewer's visibility (answers given in a hidden conversation stay hidden)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from profiles import profile_sections
from profiles.profile_sections import LATEST_SCORES, SURVEYS
from surveys.models import SurveyKind, SurveyResponse
from tickets.visibility import Visibility

SURVEYS_ON_PAGE = 10


def survey_history(customer_id: int, viewer: Visibility) -> list[Any]:
    return list(
        viewer.linked(SurveyResponse.objects.filter(customer_id=customer_id))
        .select_related("survey")
        .order_by("-created_at", "-id")[:SURVEYS_ON_PAGE]
    )


def latest_scores(customer_id: int, viewer: Visibility) -> list[Any]:
    """In one query."""
    mine = viewer.linked(SurveyResponse.objects.filter(customer_id=customer_id))
    newest = Q()
    for kind in SurveyKind.values:
        newest |= Q(pk__in=mine.filter(survey__kind=kind).order_by("-created_at", "-id").values("pk")[:1])
    rows = {r.survey.kind: r for r in mine.filter(newest).select_related("survey")}
    return [rows[kind] for kind in SurveyKind.values if kind in rows]


def register() -> None:
    profile_sections.register(SURVEYS, survey_history)
    profile_sections.register(LATEST_SCORES, latest_scores)
