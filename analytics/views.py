"""The overview and operations dashboards: headline numbers, volumes, times, SLA and backlog.

Thin: parse the filters, ask the reading API, lay the answers out (headlines, charts, tables with their
drill-down links). The numbers themselves come from analytics/reporting.py and answer_reporting.py.
"""

from __future__ import annotations

from typing import Any, Literal

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.decorators import requires
from analytics import charts, reporting, targets
from analytics import views_headlines as hl
from analytics.views_answers import score_headlines
from analytics.views_common import Page, drill_url, duration, number, page_for, share, step_for
from analytics.views_render import render_dashboard
from core import stats


def _weekday_labels() -> list[str]:
    return [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]


def conversation_headlines(
    page: Page, now: reporting.Summary, before: reporting.Summary
) -> list[hl.Headline]:
    fr_now, fr_before = now.first_response.business, before.first_response.business
    res_now, res_before = now.resolution.business, before.resolution.business
    sla_now = (now.sla_with_policy - now.sla_breached, now.sla_with_policy)
    sla_before = (before.sla_with_policy - before.sla_breached, before.sla_with_policy)
    return [
        hl.count("created", _("New conversations"), now.created, before.created, drill_url(page, "created")),
        hl.count("resolved", _("Resolved"), now.resolved, before.resolved, drill_url(page, "resolved")),
        hl.count(
            "backlog",
            _("Backlog at the end"),
            now.backlog,
            before.backlog,
            drill_url(page, "backlog"),
            higher_is_better=False,
        ),
        hl.time(
            "first_response",
            _("First response, median"),
            fr_now,
            fr_before,
            drill_url(page, "first_response"),
        ),
        hl.time("resolution", _("Resolution, median"), res_now, res_before, drill_url(page, "resolution")),
        hl.proportion(
            "sla_attainment",
            _("SLA attainment"),
            sla_now,
            sla_before,
            drill_url(page, "sla_breached"),
            higher_is_better=True,
            drill_count=now.sla_breached,
        ),
    ]


def _target_values(summary: reporting.Summary, scores: dict[str, stats.Estimate]) -> dict:
    fr, res = summary.first_response.business, summary.resolution.business
    sla_n = summary.sla_with_policy
    values = {
        "first_response": (fr.median, stats.is_small(fr.n)),
        "resolution": (res.median, stats.is_small(res.n)),
        "sla_attainment": (summary.sla_attainment, stats.is_small(sla_n)),
        "reopen_rate": (summary.reopen_rate, stats.is_small(summary.resolved)),
    }
    for key, estimate in scores.items():
        values[key] = (estimate.value, estimate.small)
    return values


@require_GET
@requires(roles.VIEW_DASHBOARDS)
def overview(request):
    page = page_for(request)
    now = reporting.summary(page.filters, page.visibility)
    before = reporting.summary(page.filters.previous(), page.visibility)
    scores, score_values = score_headlines(page)
    context = {
        "headlines": conversation_headlines(page, now, before) + scores,
        "targets": targets.progress(_target_values(now, score_values)),
        "reopened": now.reopened,
        "reopen_rate": share(now.reopen_rate),
        "reopen_rate_href": drill_url(page, "resolved_reopened"),
        "reopened_href": drill_url(page, "reopened"),
    }
    return render_dashboard(request, page, "analytics/overview.html", context, title=_("Overview"))


# --- Operations ------------------------------------------------------------------------------------


def _series_rows(page: Page) -> list[dict]:
    points = reporting.series(page.filters, page.visibility, step=step_for(page.filters))
    rows = []
    for point in points:
        v = point.values
        cell: dict[str, Any] = {"start": point.start, "end": point.end}
        rows.append(
            {
                "label": date_format(point.start.astimezone(page.filters.zone).date(), "SHORT_DATE_FORMAT"),
                "created": v.created,
                "created_href": drill_url(page, "created", **cell),
                "resolved": v.resolved,
                "resolved_href": drill_url(page, "resolved", **cell),
                "backlog": v.backlog,
                "backlog_href": drill_url(page, "backlog", **cell),
                "first_response": v.first_response.business,
                "first_response_text": duration(v.first_response.business.median),
                "first_response_href": drill_url(page, "first_response", **cell),
            }
        )
    return rows


def _volume_chart(rows: list[dict]) -> str:
    def line(key: str, name: str, css: str) -> charts.Series:
        return charts.Series(
            name, [charts.Point(r["label"], r[key], href=r[f"{key}_href"]) for r in rows], css=css
        )

    return charts.line_chart(
        [line("created", _("New"), "chart-series-1"), line("resolved", _("Resolved"), "chart-series-2"),
         line("backlog", _("Backlog"), "chart-series-3")],
        title=_("Conversations over time"),
    )  # fmt: skip


def _time_chart(rows: list[dict]) -> str:
    points = [
        charts.Point(
            r["label"],
            None if r["first_response"].median is None else r["first_response"].median / 60,
            display=r["first_response_text"],
            href=r["first_response_href"],
            small=stats.is_small(r["first_response"].n),
        )
        for r in rows
    ]
    return charts.line_chart(
        [charts.Series(_("First response, median (min)"), points)], title=_("First response")
    )


def breakdown_rows(page: Page, by: Literal["channel", "team", "agent"]) -> list[dict]:
    rows = []
    for row in reporting.breakdown(page.filters, page.visibility, by=by):
        v = row.values
        cell: dict[str, Any] = {by: row.key}
        rows.append(
            {
                "key": row.key,
                "label": row.label,
                "values": v,
                "created_href": drill_url(page, "created", **cell),
                "resolved_href": drill_url(page, "resolved", **cell),
                "backlog_href": drill_url(page, "backlog", **cell),
                "first_response": duration(v.first_response.business.median),
                "first_response_n": v.first_response.business.n,
                "first_response_href": drill_url(page, "first_response", **cell),
                "resolution": duration(v.resolution.business.median),
                "resolution_n": v.resolution.business.n,
                "resolution_href": drill_url(page, "resolution", **cell),
                "sla_breached_href": drill_url(page, "sla_breached", **cell),
                "reopened_href": drill_url(page, "resolved_reopened", **cell),
                "reopen_rate": share(v.reopen_rate),
                "sla": share(v.sla_attainment),
                "small": stats.is_small(v.first_response.business.n),
            }
        )
    return rows


def heat_rows(page: Page) -> tuple[str, list[dict]]:
    heat = reporting.hour_of_week(page.filters, page.visibility)
    labels = _weekday_labels()
    grid, table = [], []
    for day, counts in enumerate(heat.counts):
        cells = []
        for hour, count in enumerate(counts):
            href = drill_url(page, "created", weekday=day + 1, hour=hour)
            cells.append(charts.HeatCell(count, number(count), href))
        grid.append(cells)
        table.append({"day": labels[day], "cells": cells})
    hours = [f"{h:02d}" for h in range(24)]
    svg = charts.heat_map(
        grid, title=_("New conversations by hour of week"), row_labels=labels, column_labels=hours
    )
    return svg, table


@require_GET
@requires(roles.VIEW_DASHBOARDS)
def operations(request):
    page = page_for(request)
    summary = reporting.summary(page.filters, page.visibility)
    series = _series_rows(page)
    channels = breakdown_rows(page, "channel")
    heat_svg, heat_table = heat_rows(page)
    bars = [
        charts.Bar(r["label"], r["values"].created, number(r["values"].created), r["created_href"])
        for r in channels
    ]
    times = [
        (_("First response"), summary.first_response, "first_response"),
        (_("Next response"), summary.next_response, "next_response"),
        (_("Resolution"), summary.resolution, "resolution"),
    ]
    context = {
        "summary": summary,
        "series": series,
        "volume_chart": _volume_chart(series),
        "time_chart": _time_chart(series),
        "channels": channels,
        "channel_chart": charts.bar_chart(bars, title=_("New conversations by channel")),
        "heat_svg": heat_svg,
        "heat_table": heat_table,
        "hours": range(24),
        "times": [
            {
                "label": label,
                "wall": measure.wall,
                "business": measure.business,
                "wall_text": (duration(measure.wall.median), duration(measure.wall.p90)),
                "business_text": (duration(measure.business.median), duration(measure.business.p90)),
                "within": share(measure.business.within_share),
                "href": drill_url(page, key),
                "within_href": drill_url(page, f"{key}_within"),
                # Next responses are counted per reply; their drill lists the conversations.
                "per_conversation": key != "next_response",
            }
            for label, measure, key in times
        ],
        # (label, breaches, list, whether the list has one row per breach): a first response can breach
        # once per conversation; next responses and re-opened resolutions can breach again.
        "breaches": [
            (
                label,
                summary.sla_breaches.get(kind, 0),
                drill_url(page, f"sla_breach_{kind}"),
                kind == "first_response",
            )
            for label, kind in (
                (_("First response"), "first_response"),
                (_("Next response"), "next_response"),
                (_("Resolution"), "resolution"),
            )
        ],
        "sla_attainment": share(summary.sla_attainment),
        "sla_breached_href": drill_url(page, "sla_breached"),
        "backlog_href": drill_url(page, "backlog"),
        "created_href": drill_url(page, "created"),
        "resolved_href": drill_url(page, "resolved"),
    }
    return render_dashboard(request, page, "analytics/operations.html", context, title=_("Operations"))
