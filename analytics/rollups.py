"""Rollup cells: recomputed for the cells a refresh touched, never incremented.

Hour cells are recomputed from the facts (DELETE + INSERT … SELECT for the whole set of cells), day
cells from their hours and month cells from their days, so each level always equals the sum of the
one below and therefore the recomputation from the facts.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from analytics.cell_sql import CELL, HISTS, MEASURES, events_sql, hist_sum
from analytics.facts import CellKey
from analytics.periods import floor_day, floor_month

_COLUMNS = ", ".join(MEASURES)
_KEYS = "unnest(%s::timestamptz[], %s::bigint[], %s::bigint[], %s::bigint[]) AS k(p, c, t, a)"


def _arrays(keys: list[CellKey]) -> list[list]:
    return [[key[i] for key in keys] for i in range(4)]


def _delete(cursor, grain: str, keys: list[CellKey]) -> None:
    cursor.execute(
        f"DELETE FROM {CELL} AS c USING {_KEYS} WHERE c.grain = %s AND c.period_start = k.p"  # noqa: S608
        " AND c.channel_id = k.c AND c.team_id = k.t AND c.agent_id = k.a",
        [*_arrays(keys), grain],
    )


def _hours(cursor, keys: list[CellKey]) -> None:
    _delete(cursor, "h", keys)

    def match(moment: str) -> str:
        return (
            "x.channel_id = k.c AND x.team_id = k.t AND x.assignee_id = k.a"
            f" AND {moment} >= k.p AND {moment} < k.p + interval '1 hour'"
        )

    select = events_sql(
        frame="k", group=[("k.p", "p"), ("k.c", "c"), ("k.t", "t"), ("k.a", "a")], match=match
    )
    cursor.execute(
        f"WITH k AS MATERIALIZED (SELECT * FROM {_KEYS}) "  # noqa: S608
        f"INSERT INTO {CELL} (grain, period_start, channel_id, team_id, agent_id, {_COLUMNS}) "
        f"SELECT 'h', s.* FROM ({select}) AS s",
        _arrays(keys),
    )


def _from_finer(cursor, grain: str, finer: str, span: str, keys: list[CellKey]) -> None:
    _delete(cursor, grain, keys)
    sums = ", ".join(hist_sum("c", name) if name in HISTS else f"SUM(c.{name})" for name in MEASURES)
    cursor.execute(
        f"INSERT INTO {CELL} (grain, period_start, channel_id, team_id, agent_id, {_COLUMNS}) "  # noqa: S608
        f"SELECT %s, k.p, k.c, k.t, k.a, {sums} FROM {_KEYS} JOIN {CELL} c ON c.grain = %s"
        " AND c.channel_id = k.c AND c.team_id = k.t AND c.agent_id = k.a"
        f" AND c.period_start >= k.p AND c.period_start < k.p + interval '{span}'"
        " GROUP BY k.p, k.c, k.t, k.a",
        [grain, *_arrays(keys), finer],
    )


@transaction.atomic
def refresh_cells(hour_keys: Iterable[CellKey]) -> int:
    """Recompute these hour cells and the day and month cells containing them; returns how many hour
    cells were recomputed. Run after `refresh_facts`, in the same transaction or after it."""
    hours = sorted(set(hour_keys))
    if not hours:
        return 0
    days = sorted({(floor_day(p), c, t, a) for p, c, t, a in hours})
    months = sorted({(floor_month(p), c, t, a) for p, c, t, a in days})
    with connection.cursor() as cursor:
        # UTC, so "+ interval '1 day'" and "'1 month'" are UTC days and months whatever the session had.
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")
        _hours(cursor, hours)
        _from_finer(cursor, "d", "h", "1 day", days)
        _from_finer(cursor, "m", "d", "1 month", months)
    return len(hours)


@transaction.atomic
def rebuild_all_cells() -> int:
    """Every cell anew from all facts in three statements (hours, then days, then months): for the
    rebuild, where recomputing cell sets chunk by chunk would visit each busy cell many times."""
    day_sums = ", ".join(hist_sum("c", name) if name in HISTS else f"SUM(c.{name})" for name in MEASURES)
    hours = events_sql(
        frame="(SELECT 1) AS k",
        group=[
            ("date_trunc('hour', {moment})", "p"),
            ("x.channel_id", "c"),
            ("x.team_id", "t"),
            ("x.assignee_id", "a"),
        ],
        match=lambda moment: "TRUE",
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")
        cursor.execute(f"TRUNCATE {CELL}")
        cursor.execute(
            f"INSERT INTO {CELL} (grain, period_start, channel_id, team_id, agent_id, {_COLUMNS}) "  # noqa: S608
            f"SELECT 'h', s.* FROM ({hours}) AS s"
        )
        for grain, finer, unit in (("d", "h", "day"), ("m", "d", "month")):
            cursor.execute(
                f"INSERT INTO {CELL} (grain, period_start, channel_id, team_id, agent_id, {_COLUMNS}) "  # noqa: S608
                f"SELECT %s, date_trunc(%s, c.period_start), c.channel_id, c.team_id, c.agent_id, {day_sums}"
                f" FROM {CELL} c WHERE c.grain = %s GROUP BY 2, 3, 4, 5",
                [grain, unit, finer],
            )
        cursor.execute(f"SELECT count(*) FROM {CELL} WHERE grain = 'h'")  # noqa: S608
        return cursor.fetchone()[0]
