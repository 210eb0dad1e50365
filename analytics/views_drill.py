"""Drill-down lists: the conversations or answers behind any number of a dashboard.

A link from a number carries the page's filters, the measure and the cell (bar, row, heat-map cell) it
narrows to; the list is the reading API's drill queryset for exactly those, read through the viewer's
visibility, so its count is the number the link was on. The inbox cannot filter by date range or
measure, hence a list of its own here; each row opens the conversation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.decorators import requires
from analytics import answer_loop, answer_rates, answer_reporting, reporting
from analytics.views_common import CELL_PARAMS, NONE_TEXT, page_for

PAGE_SIZE = 50
ANSWER_CELL_PARAMS = (
    "cell_survey",
    "cell_segment",
    "cell_score",
    "cell_medium",
    "cell_language",
    "cell_scale",
)


def _int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 <= number < 2**31 else None


def _text(value: str | None) -> str | None:
    """A medium or language cell: NONE_TEXT stands for "none recorded", nothing for "any"."""
    if not value:
        return None
    return "" if value == NONE_TEXT else value[:16]


def _moment(value: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def cell_values(params: QueryDict) -> dict[str, Any]:
    """The cell a drill link narrows to, as keyword arguments of the reading API's cell; bad values are
    dropped like any other malformed filter."""
    values = {
        "start": _moment(params.get("cell_start")),
        "end": _moment(params.get("cell_end")),
        "channel_id": _int(params.get("cell_channel")),
        "team_id": _int(params.get("cell_team")),
        "agent_id": _int(params.get("cell_agent")),
        "weekday": _int(params.get("cell_weekday")),
        "hour": _int(params.get("cell_hour")),
    }
    return {k: v for k, v in values.items() if v is not None}


def _back_query(params: QueryDict) -> str:
    kept = params.copy()
    for key in (*CELL_PARAMS, *ANSWER_CELL_PARAMS, "cell_owner", "measure", "page"):
        kept.pop(key, None)
    return kept.urlencode()


def _drill_page(request: HttpRequest, page: Any, qs: Any, *, kind: str, measure: str, label: str):
    """One page of a drill-down list: the rows behind a number, with the way back to the dashboard."""
    paginator = Paginator(qs, PAGE_SIZE)
    return render(
        request,
        "analytics/drill.html",
        {
            "kind": kind,
            "measure": measure,
            "measure_label": label,
            "rows": paginator.get_page(request.GET.get("page")),
            "count": paginator.count,
            "filters": page.filters,
            "back_query": _back_query(request.GET),
            "page_query": _page_query(request.GET),
        },
    )


@require_GET
@requires(roles.WORK_INBOX)
def conversations(request: HttpRequest):
    page = page_for(request)
    measure = request.GET.get("measure", "")
    if measure not in reporting.MEASURES:
        raise Http404
    cell = cell_values(request.GET)
    qs = reporting.drill(
        page.filters, page.visibility, measure, reporting.DrillCell(**cell) if cell else None
    )
    qs = qs.select_related("customer", "channel", "team", "assignee").order_by("-created_at", "-id")
    return _drill_page(
        request, page, qs, kind="conversations", measure=measure, label=reporting_measure_label(measure)
    )


def answer_cell_values(params: QueryDict) -> dict[str, Any]:
    values = cell_values(params)
    values.update(
        {
            "survey_id": _int(params.get("cell_survey")),
            "segment_id": _int(params.get("cell_segment")),
            "score": _int(params.get("cell_score")),
            "medium": _text(params.get("cell_medium")),
            "language": _text(params.get("cell_language")),
            "scale": params.get("cell_scale") or None,
        }
    )
    return {k: v for k, v in values.items() if v is not None}


@require_GET
@requires(roles.WORK_INBOX)
def answers(request: HttpRequest):
    page = page_for(request)
    measure = request.GET.get("measure", "")
    if measure not in answer_reporting.MEASURES:
        raise Http404
    cell = answer_cell_values(request.GET)
    qs = answer_reporting.drill_answers(
        page.filters, page.visibility, measure, answer_reporting.AnswerCellFilter(**cell) if cell else None
    )
    qs = qs.select_related("survey", "customer")
    return _drill_page(
        request, page, qs, kind="answers", measure=measure, label=answer_measure_label(measure)
    )


@require_GET
@requires(roles.VIEW_DASHBOARDS)
def follow_ups(request: HttpRequest):
    page = page_for(request)
    measure = request.GET.get("measure", "")
    if measure not in ("opened", "open", "closed"):
        raise Http404
    qs = answer_loop.drill_follow_ups(
        page.filters,
        page.visibility,
        measure,  # type: ignore[arg-type]
        owner_id=_int(request.GET.get("cell_owner")),
        team_id=_int(request.GET.get("cell_team")),
    ).select_related("response__survey", "conversation__customer", "conversation__assignee", "closed_by")
    labels = {
        "opened": _("Follow-ups opened"),
        "open": _("Follow-ups still open"),
        "closed": _("Follow-ups closed"),
    }
    return _drill_page(request, page, qs, kind="follow_ups", measure=measure, label=labels[measure])


@require_GET
@requires(roles.VIEW_DASHBOARDS)
def invitations(request: HttpRequest):
    page = page_for(request)
    measure = request.GET.get("measure", "")
    if measure not in ("sent", "answered"):
        raise Http404
    qs = answer_rates.drill_invitations(
        page.filters,
        page.visibility,
        measure,  # type: ignore[arg-type]
        survey_id=_int(request.GET.get("cell_survey")),
        channel_id=_int(request.GET.get("cell_channel")),
        medium=request.GET.get("cell_medium") or None,
    ).select_related("survey", "customer", "channel")
    labels = {"sent": _("Invitations sent"), "answered": _("Invitations answered")}
    return _drill_page(request, page, qs, kind="invitations", measure=measure, label=labels[measure])


def _page_query(params: QueryDict) -> str:
    kept = params.copy()
    kept.pop("page", None)
    return kept.urlencode()


def reporting_measure_label(measure: str) -> str:
    labels = {
        "created": _("New conversations"),
        "resolved": _("Resolved conversations"),
        "reopened": _("Reopened conversations"),
        "resolved_reopened": _("Resolved conversations that had been reopened"),
        "backlog": _("Unresolved at the end of the period"),
        "first_response": _("Conversations with a first response"),
        "first_response_within": _("First responses within target"),
        "next_response": _("Conversations with a next response"),
        "next_response_within": _("Next responses within target"),
        "resolution": _("Resolutions"),
        "resolution_within": _("Resolutions within target"),
        "sla_breached": _("Conversations that breached an SLA"),
        "sla_breach_first_response": _("First response SLA breached"),
        "sla_breach_next_response": _("Next response SLA breached"),
        "sla_breach_resolution": _("Resolution SLA breached"),
        "customers": _("Conversations of these customers"),
    }
    return labels.get(measure, measure)


def answer_measure_label(measure: str) -> str:
    labels = {
        "responses": _("Answers"),
        "comments": _("Answers with a comment"),
        "nps": _("NPS answers"),
        "promoters": _("Promoters"),
        "passives": _("Passives"),
        "nps_detractors": _("NPS detractors"),
        "csat": _("CSAT answers"),
        "csat_satisfied": _("Satisfied answers"),
        "ces": _("CES answers"),
        "ces_low_effort": _("Low-effort answers"),
        "detractors": _("Detractors (each survey's follow-up threshold)"),
    }
    return labels.get(measure, measure)
