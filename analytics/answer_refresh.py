"""Recomputing answer facts and their rollup cells from raw rows, set-wise and idempotently.

`refresh_answers(response_ids)` is the only writer: it replaces the facts of those answers with what the
raw rows say now (a deleted answer loses its fact), then recomputes every hour cell its old or new fact
falls in, and the day and month cells above them. Cells are rebuilt (DELETE + INSERT … SELECT), never
incremented, so running it twice, late, or for ids that did not change gives the same store.

A cell is recomputed per (period, survey) slice: every dimension combination of that survey in that
hour is rebuilt together, so the refresh needs no memory of which team or agent an answer used to have.
Day cells are the sums of their hour cells and month cells the sums of their day cells: the grains agree
by construction, and a month is rebuilt from about thirty rows per dimension combination rather than from
its answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import connection, transaction

from analytics.answer_models import SCORE_COLUMNS

FACT = "analytics_answerfact"
CELL = "analytics_answercell"
DIMS = ("survey_id", "channel_id", "team_id", "agent_id", "medium", "language")
_DIM_LIST = ", ".join(DIMS)
_SCORE_LIST = ", ".join(SCORE_COLUMNS)

# The dimensions of an answer (see answer_models): the conversation's channel, else the answer's; the
# conversation's team; the answer's agent, else the conversation's assignee.
_FACTS_OF = f"""
    INSERT INTO {FACT} (response_id, created_at, {_DIM_LIST}, conversation_id, customer_id, score,
                        has_comment)
    SELECT r.id, r.created_at, r.survey_id, COALESCE(c.channel_id, r.channel_id), c.team_id,
           COALESCE(r.agent_id, c.assignee_id), r.medium, r.locale, r.conversation_id, r.customer_id,
           r.score, r.comment <> ''
      FROM surveys_surveyresponse r
      LEFT JOIN tickets_conversation c ON c.id = r.conversation_id
     WHERE {{where}}
    RETURNING date_trunc('hour', created_at, 'UTC'), survey_id
"""  # noqa: S608
_DROP_FACTS = f"""
    DELETE FROM {FACT} WHERE response_id = ANY(%s)
    RETURNING date_trunc('hour', created_at, 'UTC'), survey_id
"""  # noqa: S608

_SCORE_COUNTS = ", ".join(f"COUNT(*) FILTER (WHERE f.score = {i})" for i in range(len(SCORE_COLUMNS)))
_SCORE_SUMS = ", ".join(f"SUM({column})" for column in SCORE_COLUMNS)
_KEYS = "unnest(%s::timestamptz[], %s::int[]) AS k(period_start, survey_id)"

_DROP_CELLS = f"""
    DELETE FROM {CELL} AS cell USING {_KEYS}
     WHERE cell.grain = %s AND cell.period_start = k.period_start AND cell.survey_id = k.survey_id
"""  # noqa: S608
_HOUR_CELLS = f"""
    INSERT INTO {CELL} (grain, period_start, {_DIM_LIST}, {_SCORE_LIST}, comments)
    SELECT 'h', k.period_start, f.survey_id, f.channel_id, f.team_id, f.agent_id, f.medium, f.language,
           {_SCORE_COUNTS}, COUNT(*) FILTER (WHERE f.has_comment)
      FROM {_KEYS}
      JOIN {FACT} f ON f.survey_id = k.survey_id
                   AND f.created_at >= k.period_start AND f.created_at < k.period_start + interval '1 hour'
     GROUP BY k.period_start, f.survey_id, f.channel_id, f.team_id, f.agent_id, f.medium, f.language
"""  # noqa: S608
# Day cells from hour cells, month cells from day cells (%s: the grain written, its length, the grain
# read).
_SUMMED_CELLS = f"""
    INSERT INTO {CELL} (grain, period_start, {_DIM_LIST}, {_SCORE_LIST}, comments)
    SELECT %s, k.period_start, {", ".join(f"c.{dim}" for dim in DIMS)}, {_SCORE_SUMS}, SUM(comments)
      FROM {_KEYS}
      JOIN {CELL} c ON c.grain = %s AND c.survey_id = k.survey_id
                   AND c.period_start >= k.period_start AND c.period_start < k.period_start + %s::interval
     GROUP BY k.period_start, {", ".join(f"c.{dim}" for dim in DIMS)}
"""  # noqa: S608

Key = tuple[datetime, int]


def _truncated(keys: Iterable[Key], unit: str) -> set[Key]:
    out: set[Key] = set()
    for start, survey_id in keys:
        start = start.astimezone(UTC)
        if unit == "day":
            start = start.replace(hour=0, minute=0, second=0, microsecond=0)
        else:
            start = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        out.add((start, survey_id))
    return out


def _arrays(keys: set[Key]) -> list[list]:
    ordered = sorted(keys)
    return [[start for start, _survey in ordered], [survey for _start, survey in ordered]]


def recompute_cells(hour_keys: set[Key]) -> None:
    """Rebuild the hour cells of these (hour, survey) slices, then the day and month cells above."""
    if not hour_keys:
        return
    day_keys = _truncated(hour_keys, "day")
    month_keys = _truncated(hour_keys, "month")
    with connection.cursor() as cursor:
        hours = _arrays(hour_keys)
        cursor.execute(_DROP_CELLS, [*hours, "h"])
        cursor.execute(_HOUR_CELLS, hours)
        days = _arrays(day_keys)
        cursor.execute(_DROP_CELLS, [*days, "d"])
        cursor.execute(_SUMMED_CELLS, ["d", *days, "h", "1 day"])
        months = _arrays(month_keys)
        cursor.execute(_DROP_CELLS, [*months, "m"])
        cursor.execute(_SUMMED_CELLS, ["m", *months, "d", "1 month"])


@transaction.atomic
def refresh_answers(response_ids: Iterable[int]) -> int:
    """Make the facts of these answers, and every cell they were or are in, equal the raw rows.

    Returns how many of the answers still exist. A few statements whatever the number of ids.
    """
    ids = sorted(set(response_ids))
    if not ids:
        return 0
    with connection.cursor() as cursor:
        # Serialises refreshes: two workers rebuilding the same slice would each delete, then both
        # insert, doubling the cells.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('analytics.answer_refresh'))")
        cursor.execute(_DROP_FACTS, [ids])
        keys: set[Key] = set(cursor.fetchall())
        cursor.execute(_FACTS_OF.format(where="r.id = ANY(%s)"), [ids])
        fresh = cursor.fetchall()
        keys.update(fresh)
    recompute_cells(keys)
    return len(fresh)


def answers_of(
    *,
    response_ids: Iterable[int] = (),
    conversation_ids: Iterable[int] = (),
    customer_ids: Iterable[int] = (),
) -> set[int]:
    """The answers a change may have touched: by id, by conversation, by customer, as the raw rows say
    now and as the facts remember (a conversation deleted since, a customer merged away)."""
    ids = {int(i) for i in response_ids}
    conversations = sorted({int(i) for i in conversation_ids})
    customers = sorted({int(i) for i in customer_ids})
    if not conversations and not customers:
        return ids
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT id FROM surveys_surveyresponse WHERE conversation_id = ANY(%s) OR customer_id = ANY(%s)
            UNION
            SELECT response_id FROM {FACT} WHERE conversation_id = ANY(%s) OR customer_id = ANY(%s)
            """,  # noqa: S608
            [conversations, customers, conversations, customers],
        )
        ids.update(row[0] for row in cursor.fetchall())
    return ids


def stale_answer_ids(since: datetime, limit: int = 50_000) -> list[int]:
    """Answers since `since` whose fact is missing or differs from the raw row, and facts whose answer
    is gone: the safety net for announcements that never came (the fast answer endpoint's lost tasks, a
    comment added later, a team changed without an event)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT r.id
              FROM surveys_surveyresponse r
              LEFT JOIN tickets_conversation c ON c.id = r.conversation_id
              LEFT JOIN {FACT} f ON f.response_id = r.id
             WHERE r.created_at >= %s
               AND (f.response_id IS NULL
                    OR f.created_at <> r.created_at OR f.survey_id <> r.survey_id OR f.score <> r.score
                    OR f.has_comment <> (r.comment <> '')
                    OR f.medium <> r.medium OR f.language <> r.locale
                    OR f.channel_id IS DISTINCT FROM COALESCE(c.channel_id, r.channel_id)
                    OR f.team_id IS DISTINCT FROM c.team_id
                    OR f.agent_id IS DISTINCT FROM COALESCE(r.agent_id, c.assignee_id)
                    OR f.conversation_id IS DISTINCT FROM r.conversation_id
                    OR f.customer_id IS DISTINCT FROM r.customer_id)
            UNION
            SELECT f.response_id
              FROM {FACT} f
             WHERE f.created_at >= %s
               AND NOT EXISTS (SELECT 1 FROM surveys_surveyresponse r WHERE r.id = f.response_id)
             LIMIT %s
            """,  # noqa: S608
            [since, since, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def rebuild_all() -> int:
    """Every fact and cell from scratch (after an upgrade, for the demo seed and the benchmark): one
    statement for the facts and one per grain for the cells, in one transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('analytics.answer_refresh'))")
        cursor.execute(f"TRUNCATE {FACT}, {CELL}")
        cursor.execute(_FACTS_OF.format(where="TRUE").replace("RETURNING", "-- "))
        count = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO {CELL} (grain, period_start, {_DIM_LIST}, {_SCORE_LIST}, comments)
            SELECT 'h', date_trunc('hour', f.created_at, 'UTC') AS hour, {_DIM_LIST}, {_SCORE_COUNTS},
                   COUNT(*) FILTER (WHERE f.has_comment)
              FROM {FACT} f
             GROUP BY hour, {_DIM_LIST}
            """  # noqa: S608
        )
        for grain, unit, below in (("d", "day", "h"), ("m", "month", "d")):
            cursor.execute(
                f"""
                INSERT INTO {CELL} (grain, period_start, {_DIM_LIST}, {_SCORE_LIST}, comments)
                SELECT %s, date_trunc(%s, period_start, 'UTC') AS period, {_DIM_LIST}, {_SCORE_SUMS},
                       SUM(comments)
                  FROM {CELL}
                 WHERE grain = %s
                 GROUP BY period, {_DIM_LIST}
                """,  # noqa: S608
                [grain, unit, below],
            )
    return count
