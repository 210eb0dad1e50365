"""The conversation reporting API: summary, series, breakdowns and the hour-of-week heat map, read from
the rollup cells (or the facts, for labels and segments) for a `DashboardFilters` and a viewer.

Every number comes with a drill-down (`analytics.drill.drill`). Definitions of each measure are in
the docstrings of `analytics.models.ConversationFact` and `ConversationCell`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.db import connection

from accounts.models import Team, User
from analytics import buckets
from analytics.cell_sql import CELL, FACT
from analytics.drill import MEASURES, DrillCell, drill
from analytics.filters import DashboardFilters
from analytics.periods import local_buckets
from analytics.report_query import Dim, Totals, backlog, customers, sums
from analytics.report_scope import scope
from channels_app.models import Channel
from tickets.visibility import Visibility

__all__ = [
    "MEASURES",
    "BreakdownRow",
    "DrillCell",
    "HeatMap",
    "SeriesPoint",
    "Summary",
    "TimeMeasure",
    "TimeStats",
    "breakdown",
    "drill",
    "hour_of_week",
    "series",
    "summary",
]


@dataclass(frozen=True)
class TimeStats:
    n: int
    median: float | None  # seconds, interpolated inside the histogram bucket (analytics.buckets)
    p90: float | None
    mean: float | None  # exact
    # Within target is judged as the SLA judges it, on business time; wall and business show the same.
    with_target: int = 0  # how many had an SLA target of this kind
    within_target: int = 0  # of those, how many met it

    @property
    def within_share(self) -> float | None:
        return self.within_target / self.with_target if self.with_target else None

    @classmethod
    def of(cls, n: int, total: float, hist: Sequence[int] | None, with_target: int, within: int) -> TimeStats:
        counts = list(hist or [0] * buckets.SIZE)
        return cls(
            n=n,
            median=buckets.quantile(counts, 0.5),
            p90=buckets.quantile(counts, 0.9),
            mean=total / n if n else None,
            with_target=with_target,
            within_target=within,
        )


@dataclass(frozen=True)
class TimeMeasure:
    wall: TimeStats
    business: TimeStats  # business hours of the conversation's SLA policy; wall time without one

    @property
    def with_target(self) -> int:
        return self.business.with_target

    @property
    def within_target(self) -> int:
        return self.business.within_target

    @property
    def within_share(self) -> float | None:
        return self.business.within_share

    @classmethod
    def of(cls, totals: Totals, prefix: str) -> TimeMeasure:
        n = int(totals[f"{prefix}_n"])
        with_target, within = int(totals[f"{prefix}_with"]), int(totals[f"{prefix}_within"])
        return cls(
            wall=TimeStats.of(
                n, float(totals[f"{prefix}_sum"]), totals[f"{prefix}_hist"], with_target, within
            ),
            business=TimeStats.of(
                n, float(totals[f"{prefix}_bsum"]), totals[f"{prefix}_bhist"], with_target, within
            ),
        )


@dataclass(frozen=True)
class Summary:
    created: int
    resolved: int
    reopened: int  # reopenings in the range (a conversation reopened twice counts twice)
    resolved_reopened: int  # conversations resolved in the range that had been reopened at least once
    backlog: int  # unresolved at the end of the range
    inbound_messages: int  # of the conversations created in the range
    outbound_messages: int
    customers: int  # distinct customers of the conversations created in the range
    first_response: TimeMeasure
    next_response: TimeMeasure
    resolution: TimeMeasure
    sla_breaches: dict[str, int]  # announced breaches per kind, of conversations created in range
    sla_with_policy: int
    sla_breached: int  # conversations (created in range, with a policy) with at least one breach

    @property
    def reopen_rate(self) -> float | None:
        """Share of the conversations resolved in the range that had been reopened (docs/metrics.md);
        never above 1, however often one conversation bounced."""
        return self.resolved_reopened / self.resolved if self.resolved else None

    @property
    def messages_per_conversation(self) -> float | None:
        return (self.inbound_messages + self.outbound_messages) / self.created if self.created else None

    @property
    def conversations_per_customer(self) -> float | None:
        return self.created / self.customers if self.customers else None

    @property
    def sla_attainment(self) -> float | None:
        return 1 - self.sla_breached / self.sla_with_policy if self.sla_with_policy else None


def _summary(totals: Totals | None, *, backlog_at_end: int, customer_count: int) -> Summary:
    t: Totals = totals or {}

    def n(name: str) -> int:
        return int(t.get(name) or 0)

    return Summary(
        created=n("created"),
        resolved=n("resolved"),
        reopened=n("reopened"),
        resolved_reopened=n("resolved_reopened"),
        backlog=backlog_at_end,
        inbound_messages=n("inbound_messages"),
        outbound_messages=n("outbound_messages"),
        customers=customer_count,
        first_response=TimeMeasure.of(_filled(t), "fr"),
        next_response=TimeMeasure.of(_filled(t), "nr"),
        resolution=TimeMeasure.of(_filled(t), "res"),
        sla_breaches={
            "first_response": n("breaches_first_response"),
            "next_response": n("breaches_next_response"),
            "resolution": n("breaches_resolution"),
        },
        sla_with_policy=n("sla_with_policy"),
        sla_breached=n("sla_breached"),
    )


def _filled(totals: Totals) -> Totals:
    return {key: totals.get(key) or (None if key.endswith("hist") else 0) for key in _TIME_KEYS}


_TIME_KEYS = [
    f"{p}_{m}" for p in ("fr", "nr", "res") for m in ("n", "sum", "bsum", "with", "within", "hist", "bhist")
]


def summary(filters: DashboardFilters, visibility: Visibility) -> Summary:
    """The headline numbers for the range (3-4 queries however many conversations)."""
    bucket = [(filters.start, filters.end)]
    totals = sums(filters, visibility, bucket).get((0, 0))
    return _summary(
        totals,
        backlog_at_end=backlog(filters, visibility, filters.end).get(0, 0),
        customer_count=customers(filters, visibility, bucket).get((0, 0), 0),
    )


@dataclass(frozen=True)
class SeriesPoint:
    start: datetime  # in the filter's time zone
    end: datetime
    values: Summary  # backlog at this bucket's end


def series(
    filters: DashboardFilters, visibility: Visibility, *, step: Literal["day", "week", "month"] = "day"
) -> list[SeriesPoint]:
    """One point per local day, ISO week or month of the range (clipped to it)."""
    periods = local_buckets(filters.start, filters.end, filters.zone, step)
    totals = sums(filters, visibility, periods)
    people = customers(filters, visibility, periods)
    running = backlog(filters, visibility, filters.start).get(0, 0)
    points = []
    for index, (lo, hi) in enumerate(periods):
        t = totals.get((index, 0))
        if t:
            running += int(t["created"]) - int(t["resolved"])
        points.append(
            SeriesPoint(lo, hi, _summary(t, backlog_at_end=running, customer_count=people.get((index, 0), 0)))
        )
    return points


@dataclass(frozen=True)
class BreakdownRow:
    key: int  # channel, team or user id; 0 = no team / unassigned
    label: str
    values: Summary


def _labels(by: str, keys: set[int]) -> dict[int, str]:
    if by == "channel":
        return {pk: name for pk, name in Channel.objects.filter(pk__in=keys).values_list("pk", "name")}
    if by == "team":
        return {pk: name for pk, name in Team.objects.filter(pk__in=keys).values_list("pk", "name")}
    return {u.pk: u.display_name for u in User.objects.filter(pk__in=keys)}


def breakdown(
    filters: DashboardFilters, visibility: Visibility, *, by: Literal["channel", "team", "agent"]
) -> list[BreakdownRow]:
    """One row per channel, team or agent (the conversation's current assignee) with any activity in
    the range or a backlog at its end; sorted by conversations created, most first."""
    dim: Dim = by
    bucket = [(filters.start, filters.end)]
    totals = {d: t for (_, d), t in sums(filters, visibility, bucket, dim=dim).items()}
    people = {d: n for (_, d), n in customers(filters, visibility, bucket, dim=dim).items()}
    backlogs = backlog(filters, visibility, filters.end, dim=dim)
    keys = set(totals) | {d for d, n in backlogs.items() if n}
    names = _labels(by, keys - {0})
    rows = [
        BreakdownRow(
            key=d,
            label=names.get(d, "") if d else "",
            values=_summary(
                totals.get(d), backlog_at_end=backlogs.get(d, 0), customer_count=people.get(d, 0)
            ),
        )
        for d in keys
    ]
    return sorted(rows, key=lambda row: (-row.values.created, row.label, row.key))


@dataclass(frozen=True)
class HeatMap:
    counts: tuple[tuple[int, ...], ...]  # 7 rows (ISO Monday..Sunday) x 24 hours, in filters.tz
    measure: str = "created"

    @property
    def max(self) -> int:
        return max((max(row) for row in self.counts), default=0)


def _local(column: str) -> str:
    return f"extract(isodow FROM {column} AT TIME ZONE %s), extract(hour FROM {column} AT TIME ZONE %s)"


def hour_of_week(filters: DashboardFilters, visibility: Visibility) -> HeatMap:
    """Conversations created in the range by local weekday and hour (hour cells, or facts)."""
    grid = [[0] * 24 for _ in range(7)]
    if filters.needs_facts:
        where = scope(filters, visibility, alias="x", agent="assignee_id", facts=True)
        sql = (
            f"SELECT {_local('x.created_at')}, count(*) FROM {FACT} x"  # noqa: S608
            f" WHERE x.created_at >= %s AND x.created_at < %s AND {where.sql} GROUP BY 1, 2"
        )
    else:
        where = scope(filters, visibility, alias="c", agent="agent_id", facts=False)
        sql = (
            f"SELECT {_local('c.period_start')}, SUM(c.created) FROM {CELL} c"  # noqa: S608
            " WHERE c.grain = 'h' AND c.period_start >= %s AND c.period_start < %s"
            f" AND {where.sql} GROUP BY 1, 2"
        )
    params: list[Any] = [filters.tz, filters.tz, filters.start, filters.end, *where.params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for weekday, hour, count in cursor.fetchall():
            grid[int(weekday) - 1][int(hour)] += int(count or 0)
    return HeatMap(tuple(tuple(row) for row in grid))
