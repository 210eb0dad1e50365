"""Which facts and cells a report reads: the dimension filters and the viewer's visibility as SQL.

Visibility is the rule of `tickets/visibility.py` expressed on the (channel, team, agent) dimensions
that facts and cells carry: the channels of the viewer's teams, the viewer's teams, the viewer as
assignee. Facts are kept current by the refresh, so this matches `visibility.conversations()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from accounts.models import Team
from analytics.cell_sql import FACT
from analytics.filters import DashboardFilters
from channels_app.models import Channel
from profiles.models import Segment
from profiles.segments import SegmentError, customers_in_segment
from tickets.models import Conversation
from tickets.visibility import Visibility

_LABELS = Conversation.labels.through._meta.db_table


@dataclass(frozen=True)
class Where:
    sql: str
    params: list[Any] = field(default_factory=list)


# One report reads several statements for the same viewer: their teams and channels are read once.
_VISIBLE: WeakKeyDictionary[Visibility, tuple[list[int], list[int], int] | None] = WeakKeyDictionary()


def _visible(visibility: Visibility) -> tuple[list[int], list[int], int] | None:
    """None when the viewer sees everything; else (channel ids, team ids, own id)."""
    if visibility in _VISIBLE:
        return _VISIBLE[visibility]
    result: tuple[list[int], list[int], int] | None = None
    user = visibility.user
    if not visibility.sees_all:
        teams = list(Team.objects.filter(members=user).values_list("id", flat=True)) if user.is_active else []
        channels = (
            list(Channel.objects.filter(teams__in=teams).values_list("id", flat=True).distinct())
            if teams
            else []
        )
        result = (channels, teams, user.pk if user.is_active else -1)
    _VISIBLE[visibility] = result
    return result


def scope(filters: DashboardFilters, visibility: Visibility, *, alias: str, agent: str, facts: bool) -> Where:
    """Conditions on rows `alias` (facts or replies: agent column `assignee_id`; cells: `agent_id`).
    `facts=True` adds labels and segment, which only the facts can answer."""
    parts: list[str] = []
    params: list[Any] = []
    for ids, column in (
        (filters.channel_ids, "channel_id"),
        (filters.team_ids, "team_id"),
        (filters.agent_ids, agent),
    ):
        if ids:
            parts.append(f"{alias}.{column} = ANY(%s)")
            params.append(list(ids))
    visible = _visible(visibility)
    if visible is not None:
        channels, teams, user_id = visible
        parts.append(f"({alias}.channel_id = ANY(%s) OR {alias}.team_id = ANY(%s) OR {alias}.{agent} = %s)")
        params += [channels, teams, user_id]
    if facts and filters.label_ids:
        parts.append(
            f"{alias}.conversation_id IN (SELECT conversation_id FROM {_LABELS}"  # noqa: S608
            " WHERE label_id = ANY(%s))"
        )
        params.append(list(filters.label_ids))
    if facts and filters.segment_id is not None:
        segment_sql = _segment_sql(filters.segment_id)
        if segment_sql is None:
            parts.append("FALSE")
        else:
            sql, segment_params = segment_sql
            parts.append(
                f"{alias}.conversation_id IN (SELECT conversation_id FROM {FACT}"  # noqa: S608
                f" WHERE customer_id IN ({sql}))"
            )
            params += segment_params
    return Where(" AND ".join(parts) or "TRUE", params)


def _segment_sql(segment_id: int) -> tuple[str, list[Any]] | None:
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        return None
    try:
        sql, params = customers_in_segment(segment).order_by().values("id").query.sql_with_params()
    except SegmentError:
        return None
    return sql, list(params)
