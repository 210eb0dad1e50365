"""The survey dashboards: scores with intervals, distribution, trend, breakdowns, verbatim comments, and
the closed loop. Numbers come from analytics/answer_reporting.py; this module lays them out."""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.decorators import requires
from analytics import answer_loop, answer_rates, charts
from analytics import answer_reporting as ar
from analytics import views_headlines as hl
from analytics.answer_scores import Scores
from analytics.views_common import NONE_TEXT, Page, drill_url, duration, number, page_for, step_for
from analytics.views_render import render_dashboard
from core import stats
from profiles.models import Segment
from surveys import scoring

BREAKDOWNS = ("channel", "medium", "team", "agent", "segment", "survey", "language")
COMMENTS_SHOWN = 30
SEGMENTS_SHOWN = 20
DASH = "\N{EN DASH}"


def score_headlines(page: Page) -> tuple[list[hl.Headline], dict[str, stats.Estimate]]:
    """NPS, CSAT and CES for the overview, and their values for the targets (CSAT in percent)."""
    summary = ar.answer_summary(page.filters, page.visibility)
    now, before, change = summary.current, summary.previous, summary.changes
    headlines = [
        hl.estimate(
            "nps", _("NPS"), now.nps, before.nps, change.nps, drill_url(page, "nps", answers=True),
            drill_count=now.nps.n,
        ),
        hl.estimate(
            "csat", _("CSAT, share satisfied"), now.csat_satisfied, before.csat_satisfied,
            change.csat_satisfied, drill_url(page, "csat", answers=True), unit=" %",
            drill_count=now.csat_satisfied.n,
        ),
        hl.estimate(
            "ces", _("CES, mean of 7"), now.ces_mean, before.ces_mean, change.ces_mean,
            drill_url(page, "ces", answers=True), digits=2, drill_count=now.ces_mean.n,
        ),
    ]  # fmt: skip
    return headlines, {"nps": now.nps, "csat": now.csat_satisfied, "ces": now.ces_mean}


def _estimate_text(estimate: stats.Estimate, digits: int = 0, unit: str = "") -> str:
    if estimate.value is None:
        return "—"
    text = f"{number(estimate.value, digits)}{unit}"
    if estimate.low is not None and estimate.high is not None:
        text += f" ({number(estimate.low, digits)}{DASH}{number(estimate.high, digits)})"
    return text


def score_row(page: Page, key, label: str, scores: Scores, **cell) -> dict:
    """One line of a breakdown table: each score with its interval, each linked to its answers."""
    return {
        "key": key,
        "label": label or _("(none)"),
        "responses": scores.responses,
        "responses_href": drill_url(page, "responses", answers=True, **cell),
        "nps": _estimate_text(scores.nps),
        "nps_n": scores.nps.n,
        "nps_small": scores.nps.small,
        "nps_href": drill_url(page, "nps", answers=True, **cell),
        "csat": _estimate_text(scores.csat_satisfied, unit=" %"),
        "csat_n": scores.csat_satisfied.n,
        "csat_small": scores.csat_satisfied.small,
        "csat_href": drill_url(page, "csat", answers=True, **cell),
        "ces": _estimate_text(scores.ces_mean, 2),
        "ces_n": scores.ces_mean.n,
        "ces_small": scores.ces_mean.small,
        "ces_href": drill_url(page, "ces", answers=True, **cell),
        "scores": scores,
    }


_CELL_KEYS = {"channel": "channel", "medium": "medium", "team": "team", "agent": "agent", "survey": "survey",
              "language": "language", "segment": "segment"}  # fmt: skip


def breakdown(page: Page, by: str) -> list[dict]:
    if by == "segment":
        ids = Segment.objects.order_by("name").values_list("id", flat=True)[:SEGMENTS_SHOWN]
        rows = ar.answer_breakdown_by_segment(page.filters, page.visibility, segment_ids=list(ids))
    else:
        rows = ar.answer_breakdown(page.filters, page.visibility, by=by)  # type: ignore[arg-type]
    out = []
    for row in rows:
        # Answers without a channel, team or agent are drilled with 0, without a medium or language with
        # NONE_TEXT: "none" is a cell of its own, not "any".
        key = row.key if row.key not in (None, "") else (0 if by in ("team", "agent", "channel") else None)
        if key is None and by in ("medium", "language"):
            key = NONE_TEXT
        cell = {} if key is None else {_CELL_KEYS[by]: key}
        out.append(score_row(page, key, row.label, row.scores, **cell))
    return out


def distribution(page: Page, scores: Scores) -> list[dict]:
    blocks = []
    scales = {scale.key: scale for scale in scoring.SCALE_TABLE}
    for key, counts in scores.distribution.items():
        scale = scales[key]
        bars = [
            charts.Bar(
                str(value),
                counts[value],
                number(counts[value]),
                drill_url(page, "responses", answers=True, score=value, scale=scale.key),
            )
            for value in range(scale.low, scale.high + 1)
        ]
        titles = {
            "nps": _("NPS answers, 0 to 10"),
            "csat5": _("CSAT answers, 1 to 5"),
            "csat3": _("CSAT answers, 1 to 3"),
            "ces": _("CES answers, 1 to 7"),
        }
        title = titles.get(scale.key, scale.key)
        blocks.append(
            {"title": title, "key": scale.key, "bars": bars, "chart": charts.bar_chart(bars, title=title)}
        )
    return blocks


def trend(page: Page) -> tuple[list[dict], str]:
    rows = []
    for point in ar.answer_series(page.filters, page.visibility, step=step_for(page.filters)):
        cell = {"start": point.start, "end": point.end}
        row = score_row(
            page, None, date_format(point.start.date(), "SHORT_DATE_FORMAT"), point.scores, **cell
        )
        rows.append(row)
    nps = [
        charts.Point(
            r["label"], r["scores"].nps.value, r["scores"].nps.low, r["scores"].nps.high, r["nps"],
            r["nps_href"], small=r["nps_small"],
        )
        for r in rows
    ]  # fmt: skip
    csat = [
        charts.Point(
            r["label"], r["scores"].csat_satisfied.value, r["scores"].csat_satisfied.low,
            r["scores"].csat_satisfied.high, r["csat"], r["csat_href"], small=r["csat_small"],
        )
        for r in rows
    ]  # fmt: skip
    chart = charts.line_chart(
        [
            charts.Series(_("NPS"), nps, "chart-series-1"),
            charts.Series(_("CSAT, share satisfied"), csat, "chart-series-2"),
        ],
        title=_("Scores over time, with 95 percent intervals"),
        y_min=-100,
        y_max=100,
    )
    return rows, chart


def _rate_row(page: Page, rate: answer_rates.Rate, kind: str, **cell) -> dict:
    def href(measure: str) -> str:
        return drill_url(page, measure, invitations=True, **cell)

    return {
        "kind": kind,
        "label": rate.label or (str(rate.key) if rate.key not in (None, "") else _("(none)")),
        "rate": rate,
        "text": _estimate_text(rate.rate, unit=" %"),
        "small": rate.rate.small,
        "sent_href": href("sent"),
        "answered_href": href("answered"),
    }


def rate_rows(page: Page) -> list[dict]:
    """Response rates: overall, then per survey, channel and medium, each linked to its invitations."""
    rates = answer_rates.response_rates(page.filters, page.visibility)
    rows = [_rate_row(page, rates.total, _("All"))]
    rows += [_rate_row(page, r, _("Survey"), survey=r.key) for r in rates.by_survey if r.key is not None]
    rows += [_rate_row(page, r, _("Channel"), channel=r.key) for r in rates.by_channel if r.key is not None]
    rows += [
        _rate_row(page, r, _("Medium"), medium=r.key) for r in rates.by_medium if r.key not in (None, "")
    ]
    return rows


@require_GET
@requires(roles.VIEW_DASHBOARDS)
def surveys(request):
    page = page_for(request)
    by = request.GET.get("by") if request.GET.get("by") in BREAKDOWNS else "channel"
    group = request.GET.get("group", "")
    group = group if group in ar.GROUPS else ""
    text = request.GET.get("q", "")[:200]
    summary = ar.answer_summary(page.filters, page.visibility)
    now = summary.current
    headlines, _values = score_headlines(page)
    headlines += [
        hl.count(
            "responses", _("Answers"), now.responses, summary.previous.responses,
            drill_url(page, "responses", answers=True),
        ),
        hl.count(
            "comments", _("With a comment"), now.comments, summary.previous.comments,
            drill_url(page, "comments", answers=True),
        ),
    ]  # fmt: skip
    trend_rows, trend_chart = trend(page)
    rows = breakdown(page, by)
    bars = [charts.Bar(r["label"], r["responses"], number(r["responses"]), r["responses_href"]) for r in rows]
    comments = ar.comments(page.filters, page.visibility, group=group, text=text)
    context = {
        "headlines": headlines,
        "distribution": distribution(page, now),
        "trend_rows": trend_rows,
        "trend_chart": trend_chart,
        "by": by,
        "breakdowns": BREAKDOWNS,
        "breakdown_rows": rows,
        "breakdown_chart": charts.bar_chart(bars, title=_("Answers"), width=charts.WIDE),
        "comments": comments[:COMMENTS_SHOWN],
        "comment_count": comments.count(),
        "comment_group": group,
        "comment_groups": ar.GROUPS,
        "comment_text": text,
        "comments_href": drill_url(page, "comments", answers=True),
        "rates": rate_rows(page),
    }
    return render_dashboard(request, page, "analytics/surveys.html", context, title=_("Surveys"))


def _loop_row(page: Page, loop: answer_loop.Loop, **cell) -> dict:
    def href(measure: str) -> str:
        return drill_url(page, measure, follow_ups=True, **cell)

    return {
        "key": loop.key,
        "label": loop.label or _("(none)"),
        "loop": loop,
        "opened_href": href("opened"),
        "open_href": href("open"),
        "closed_href": href("closed"),
        "share": _estimate_text(loop.share_closed, unit=" %"),
        "small": loop.share_closed.small,
        "median": duration(loop.median_seconds_to_close),
    }


@require_GET
@requires(roles.VIEW_DASHBOARDS)
def closed_loop(request):
    page = page_for(request)
    loop = answer_loop.closed_loop(page.filters, page.visibility)
    detractor_comments = ar.comments(page.filters, page.visibility, group="detractor")
    context = {
        "detractors": loop.detractors,
        "detractors_href": drill_url(page, "detractors", answers=True),
        "total": _loop_row(page, loop.total),
        "by_owner": [_loop_row(page, row, owner=row.key or 0) for row in loop.by_owner],
        "by_team": [_loop_row(page, row, team=row.key or 0) for row in loop.by_team],
        "detractor_comments": detractor_comments[:COMMENTS_SHOWN],
    }
    return render_dashboard(request, page, "analytics/loop.html", context, title=_("Closed loop"))
