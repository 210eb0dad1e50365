"""Running a report: sums of the cell measures per bucket (and dimension), from cells or from facts.

Cells when the filters allow (whole UTC hours, no label or segment), facts otherwise; both sum the same
events (`analytics/cell_sql.py`), so the numbers agree. Each call is one statement, plus one for the
distinct customers, which no cell can sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from django.db import connection

from analytics.cell_sql import CELL, COUNTS, FACT, HISTS, SOURCES, cells_sql, events_sql
from analytics.filters import DashboardFilters
from analytics.periods import EPOCH, decompose
from analytics.report_scope import scope
from tickets.visibility import Visibility

Dim = Literal["channel", "team", "agent"] | None
_CELL_DIM = {"channel": "c.channel_id", "team": "c.team_id", "agent": "c.agent_id"}
_FACT_DIM = {"channel": "x.channel_id", "team": "x.team_id", "agent": "x.assignee_id"}
Key = tuple[int, int]  # (bucket index, dimension value or 0)
Totals = dict[str, Any]


def _rows(sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _keyed(rows: list[dict[str, Any]]) -> dict[Key, Totals]:
    result = {}
    for row in rows:
        key = (int(row.pop("i")), int(row.pop("dim")))
        result[key] = {name: (row[name] or 0) if name in COUNTS else row[name] for name in (*COUNTS, *HISTS)}
    return result


def sums(
    filters: DashboardFilters,
    visibility: Visibility,
    buckets: Sequence[tuple[datetime, datetime]],
    *,
    dim: Dim = None,
) -> dict[Key, Totals]:
    """Totals per (bucket index, dimension value) for [from, to) buckets. Missing keys had no events."""
    if filters.needs_facts:
        return _from_facts(filters, visibility, buckets, dim)
    frame_rows: list[tuple[int, str, datetime, datetime]] = []
    for index, (lo, hi) in enumerate(buckets):
        frame_rows += [(index, grain[0], a, b) for grain, a, b in decompose(lo, hi)]
    where = scope(filters, visibility, alias="c", agent="agent_id", facts=False)
    dim_expr = _CELL_DIM[dim] if dim else "0"
    sql = cells_sql(
        frame="unnest(%s::int[], %s::text[], %s::timestamptz[], %s::timestamptz[]) AS b(i, g, lo, hi)",
        group=[("b.i", "i"), (dim_expr, "dim")],
        match="c.grain = b.g AND c.period_start >= b.lo AND c.period_start < b.hi",
        where=where.sql,
    )
    params = [[r[i] for r in frame_rows] for i in range(4)]
    return _keyed(_rows(sql, [*params, *where.params]))


def _from_facts(
    filters: DashboardFilters, visibility: Visibility, buckets: Sequence[tuple[datetime, datetime]], dim: Dim
) -> dict[Key, Totals]:
    where = scope(filters, visibility, alias="x", agent="assignee_id", facts=True)
    dim_expr = _FACT_DIM[dim] if dim else "0"
    select = events_sql(
        frame="b",
        group=[("b.i", "i"), (dim_expr, "dim")],
        match=lambda moment: f"{moment} >= b.lo AND {moment} < b.hi",
        where=where.sql,
    )
    frame = [list(range(len(buckets))), [b[0] for b in buckets], [b[1] for b in buckets]]
    sql = (
        "WITH b AS MATERIALIZED (SELECT * FROM unnest(%s::int[], %s::timestamptz[], %s::timestamptz[])"  # noqa: S608
        f" AS b(i, lo, hi)) {select}"
    )
    return _keyed(_rows(sql, [*frame, *(where.params * len(SOURCES))]))


def customers(
    filters: DashboardFilters,
    visibility: Visibility,
    buckets: Sequence[tuple[datetime, datetime]],
    *,
    dim: Dim = None,
) -> dict[Key, int]:
    """Distinct customers of the conversations created in each bucket."""
    where = scope(filters, visibility, alias="x", agent="assignee_id", facts=filters.needs_facts)
    dim_expr = _FACT_DIM[dim] if dim else "0"
    sql = (
        f"SELECT b.i, {dim_expr} AS dim, count(DISTINCT x.customer_id) AS n"  # noqa: S608
        " FROM unnest(%s::int[], %s::timestamptz[], %s::timestamptz[]) AS b(i, lo, hi)"
        f" JOIN {FACT} x ON x.created_at >= b.lo AND x.created_at < b.hi WHERE {where.sql} GROUP BY 1, 2"
    )
    frame: list[Any] = [list(range(len(buckets))), [b[0] for b in buckets], [b[1] for b in buckets]]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*frame, *where.params])
        return {(int(i), int(d)): int(n) for i, d, n in cursor.fetchall()}


def backlog(
    filters: DashboardFilters, visibility: Visibility, at: datetime, *, dim: Dim = None
) -> dict[int, int]:
    """Conversations created before `at` and not resolved before it (by their latest resolution), per
    dimension value. From cells: every creation minus every resolution before `at`."""
    if filters.needs_facts:
        where = scope(filters, visibility, alias="x", agent="assignee_id", facts=True)
        dim_expr = _FACT_DIM[dim] if dim else "0"
        sql = (
            f"SELECT {dim_expr} AS dim, count(*) FROM {FACT} x WHERE x.created_at < %s"  # noqa: S608
            f" AND (x.resolved_at IS NULL OR x.resolved_at >= %s) AND {where.sql} GROUP BY 1"
        )
        params = [at, at, *where.params]
    else:
        where = scope(filters, visibility, alias="c", agent="agent_id", facts=False)
        dim_expr = _CELL_DIM[dim] if dim else "0"
        runs = decompose(EPOCH, at)
        sql = (
            f"SELECT {dim_expr} AS dim, SUM(c.created - c.resolved) FROM"  # noqa: S608
            " unnest(%s::text[], %s::timestamptz[], %s::timestamptz[]) AS b(g, lo, hi)"
            f" JOIN {CELL} c ON c.grain = b.g AND c.period_start >= b.lo AND c.period_start < b.hi"
            f" WHERE {where.sql} GROUP BY 1"
        )
        params = [[r[0][0] for r in runs], [r[1] for r in runs], [r[2] for r in runs], *where.params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {int(d): int(n or 0) for d, n in cursor.fetchall()}
