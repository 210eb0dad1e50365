"""Journey: scores and times by touchpoint (channel, label, survey) and by customer segment, and which
touchpoint is the weakest link.

Channels come from the breakdowns of both reading APIs. Labels and segments are not dimensions of the
rollups, so each is the reading API asked again with that one label or segment as a filter (it reads the
facts then); the number of them shown is capped so the page's cost stays bounded.
"""

from __future__ import annotations

from dataclasses import replace

from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.decorators import requires
from analytics import answer_reporting as ar
from analytics import reporting
from analytics.answer_scores import Scores
from analytics.views_answers import score_row
from analytics.views_common import Page, drill_url, duration, page_for
from analytics.views_render import render_dashboard
from profiles.models import Segment
from tickets.models import Label

SHOWN_PER_KIND = 8


def narrowed(page: Page, **changes) -> Page:
    filters = page.filters.replace(**changes)
    return replace(page, filters=filters, query=filters.to_query())


def _row(
    page: Page, kind: str, label: str, summary: reporting.Summary | None, scores: Scores | None, **cell
) -> dict:
    row = score_row(page, None, label, scores, **cell) if scores is not None else {"label": label}
    row["kind"] = kind
    row["scores"] = scores
    if summary is not None:
        fr = summary.first_response.business
        row.update(
            {
                "created": summary.created,
                "created_href": drill_url(page, "created", **cell),
                "first_response": duration(fr.median),
                "first_response_n": fr.n,
                "first_response_seconds": fr.median,
                "first_response_href": drill_url(page, "first_response", **cell),
                "resolution": duration(summary.resolution.business.median),
                "resolution_n": summary.resolution.business.n,
                "resolution_href": drill_url(page, "resolution", **cell),
            }
        )
    return row


def touchpoints(page: Page) -> list[dict]:
    rows = []
    scores = {r.key: r.scores for r in ar.answer_breakdown(page.filters, page.visibility, by="channel")}
    for b in reporting.breakdown(page.filters, page.visibility, by="channel"):
        rows.append(_row(page, _("Channel"), b.label, b.values, scores.get(b.key), channel=b.key))
    for label in Label.objects.order_by("name")[:SHOWN_PER_KIND]:
        sub = narrowed(page, label_ids=(label.pk,))
        rows.append(
            _row(
                sub, _("Label"), label.name, reporting.summary(sub.filters, sub.visibility),
                ar.answer_scores_for(sub.filters, sub.visibility),
            )
        )  # fmt: skip
    for r in ar.answer_breakdown(page.filters, page.visibility, by="survey")[:SHOWN_PER_KIND]:
        rows.append(_row(page, _("Survey"), r.label, None, r.scores, survey=r.key))
    return rows


def segments(page: Page) -> list[dict]:
    rows = []
    for segment in Segment.objects.order_by("name")[:SHOWN_PER_KIND]:
        sub = narrowed(page, segment_id=segment.pk)
        rows.append(
            _row(
                sub, _("Segment"), segment.name, reporting.summary(sub.filters, sub.visibility),
                ar.answer_scores_for(sub.filters, sub.visibility),
            )
        )  # fmt: skip
    return rows


def weakest(rows: list[dict]) -> list[dict]:
    """The weakest touchpoint per measure, among those whose sample is not small: a low number from a
    handful of answers is not a finding."""
    found = []
    measures = (
        ("csat", _("CSAT, share satisfied"), lambda s: s.csat_satisfied),
        ("nps", _("NPS"), lambda s: s.nps),
    )
    for key, name, pick in measures:
        candidates = [r for r in rows if r["scores"] is not None and not pick(r["scores"]).small]
        candidates = [r for r in candidates if pick(r["scores"]).value is not None]
        if candidates:
            worst = min(candidates, key=lambda r: pick(r["scores"]).value)
            found.append({"measure": name, "row": worst, "text": worst[key]})
    timed = [
        r for r in rows if r.get("first_response_seconds") is not None and r.get("first_response_n", 0) >= 30
    ]
    if timed:
        worst = max(timed, key=lambda r: r["first_response_seconds"])
        found.append({"measure": _("First response, median"), "row": worst, "text": worst["first_response"]})
    return found


@require_GET
@requires(roles.VIEW_DASHBOARDS)
def journey(request):
    page = page_for(request)
    points = touchpoints(page)
    segs = segments(page)
    context = {"touchpoints": points, "segments": segs, "weakest": weakest(points + segs)}
    return render_dashboard(request, page, "analytics/journey.html", context, title=_("Journey"))
