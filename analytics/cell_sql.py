"""The one SQL definition of what a cell sums, shared by the rollup writer and the fact-path reads.

Facts become *events*, each at its own moment: a creation (with the conversation's messages and SLA
figures), a resolution (with its time), each reopening, each reply (first or next response). Rollup
cells group events by hour and dimensions; reads that cannot use cells (labels, segments, time zones
off the whole hour) group the same events by their buckets, so both paths give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from analytics.buckets import EDGES_SQL, SIZE
from analytics.models import ConversationCell, ConversationFact, ReplyFact

FACT = ConversationFact._meta.db_table
REPLY = ReplyFact._meta.db_table
CELL = ConversationCell._meta.db_table

COUNTS = (
    "created", "resolved", "reopened", "resolved_reopened", "inbound_messages", "outbound_messages",
    "sla_with_policy", "sla_breached",
    "breaches_first_response", "breaches_next_response", "breaches_resolution",
    "fr_n", "fr_sum", "fr_bsum", "fr_with", "fr_within",
    "nr_n", "nr_sum", "nr_bsum", "nr_with", "nr_within",
    "res_n", "res_sum", "res_bsum", "res_with", "res_within",
)  # fmt: skip
HISTS = ("fr_hist", "fr_bhist", "nr_hist", "nr_bhist", "res_hist", "res_bhist")
MEASURES = COUNTS + HISTS


def _bucket(value: str) -> str:
    return f"GREATEST(1, width_bucket({value}, {EDGES_SQL}))"


def _within(flag: str) -> str:
    return f"coalesce({flag}, false)::int"


def _reply_measures(prefix: str, first: bool) -> dict[str, str]:
    cond = "x.is_first" if first else "NOT x.is_first"
    return {
        f"{prefix}_n": f"({cond})::int",
        f"{prefix}_sum": f"CASE WHEN {cond} THEN x.waited_seconds ELSE 0 END",
        f"{prefix}_bsum": f"CASE WHEN {cond} THEN x.waited_business_seconds ELSE 0 END",
        f"{prefix}_with": f"({cond} AND x.within_target IS NOT NULL)::int",
        f"{prefix}_within": f"({cond} AND coalesce(x.within_target, false))::int",
        f"{prefix}_hist": f"CASE WHEN {cond} THEN {_bucket('x.waited_seconds')} END",
        f"{prefix}_bhist": f"CASE WHEN {cond} THEN {_bucket('x.waited_business_seconds')} END",
    }


# (table, extra FROM, moment, condition, measures) per kind of event; x is the fact or reply row.
SOURCES: tuple[tuple[str, str, str, str, dict[str, str]], ...] = (
    (
        FACT,
        "",
        "x.created_at",
        "TRUE",
        {
            "created": "1",
            "inbound_messages": "x.inbound_messages",
            "outbound_messages": "x.outbound_messages",
            "sla_with_policy": "(x.sla_policy_id IS NOT NULL)::int",
            "sla_breached": "(x.breaches_first_response + x.breaches_next_response"
            " + x.breaches_resolution > 0)::int",
            "breaches_first_response": "x.breaches_first_response",
            "breaches_next_response": "x.breaches_next_response",
            "breaches_resolution": "x.breaches_resolution",
        },
    ),
    (
        FACT,
        "",
        "x.resolved_at",
        "x.resolved_at IS NOT NULL",
        {
            "resolved": "1",
            "resolved_reopened": "(x.reopen_count > 0)::int",
            "res_n": "1",
            "res_sum": "x.resolution_seconds",
            "res_bsum": "x.resolution_business_seconds",
            "res_with": "(x.resolution_within IS NOT NULL)::int",
            "res_within": _within("x.resolution_within"),
            "res_hist": _bucket("x.resolution_seconds"),
            "res_bhist": _bucket("x.resolution_business_seconds"),
        },
    ),
    (
        FACT,
        "CROSS JOIN LATERAL unnest(x.reopen_times) AS ro(moment)",
        "ro.moment",
        "x.reopen_count > 0",
        {"reopened": "1"},
    ),
    (
        REPLY,
        "",
        "x.replied_at",
        "TRUE",
        {**_reply_measures("fr", True), **_reply_measures("nr", False)},
    ),
)


def hist_count(alias: str, name: str) -> str:
    """A histogram of the bucket numbers in column `name` of grouped rows (NULL when there are none):
    one native count per bucket, far cheaper than any element-wise array aggregate."""
    counts = ", ".join(f"count(*) FILTER (WHERE {alias}.{name} = {i})" for i in range(1, SIZE + 1))
    return f"CASE WHEN count({alias}.{name}) > 0 THEN ARRAY[{counts}]::int[] END"


def hist_sum(alias: str, name: str) -> str:
    """The element-wise sum of the histograms in column `name` of grouped rows (NULL when all are)."""
    sums = ", ".join(f"coalesce(SUM({alias}.{name}[{i}]), 0)" for i in range(1, SIZE + 1))
    return f"CASE WHEN count({alias}.{name}) > 0 THEN ARRAY[{sums}]::int[] END"


def _select(group: Sequence[tuple[str, str]], moment: str = "") -> str:
    return ", ".join(f"{expr.replace('{moment}', moment)} AS {name}" for expr, name in group)


def events_sql(
    *, frame: str, group: Sequence[tuple[str, str]], match: Callable[[str], str], where: str = "TRUE"
) -> str:
    """Events of the facts, grouped: `frame` is a FROM item joined to each source by `match(moment)`
    (which may also compare x.channel_id, x.team_id, x.assignee_id), `group` the select list of the
    grouping columns (expressions over the frame, x, and `moment`), `where` a further condition on x.
    Returns a SELECT of the grouping columns followed by every measure, aggregated."""
    parts = []
    for table, extra, moment, condition, measures in SOURCES:
        columns = ", ".join(
            f"{measures.get(name, 'NULL::int' if name in HISTS else '0')} AS {name}" for name in MEASURES
        )
        parts.append(
            # Every fragment is built here from constants; values always travel as parameters.
            f"SELECT {_select(group, moment)}, {columns} FROM {frame} CROSS JOIN {table} x {extra}"  # noqa: S608
            f" WHERE {match(moment)} AND {condition} AND ({where})"
        )
    sums = ", ".join(f"SUM(e.{name}) AS {name}" for name in COUNTS)
    hists = ", ".join(f"{hist_count('e', name)} AS {name}" for name in HISTS)
    union = " UNION ALL ".join(parts)
    names = ", ".join(f"e.{name}" for _, name in group)
    return f"SELECT {names}, {sums}, {hists} FROM ({union}) AS e GROUP BY {names}"  # noqa: S608


def cells_sql(*, frame: str, group: Sequence[tuple[str, str]], match: str, where: str = "TRUE") -> str:
    """The same measures summed over stored cells `c` joined to `frame` by `match`."""
    sums = ", ".join(f"SUM(c.{name}) AS {name}" for name in COUNTS)
    hists = ", ".join(f"{hist_sum('c', name)} AS {name}" for name in HISTS)
    positions = ", ".join(str(i + 1) for i in range(len(group)))
    return (
        f"SELECT {_select(group)}, {sums}, {hists} FROM {frame} JOIN {CELL} c ON {match}"  # noqa: S608
        f" WHERE {where} GROUP BY {positions}"
    )
