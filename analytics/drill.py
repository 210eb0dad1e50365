"""Drill-down: the conversations behind any reported number, through the visibility layer.

`drill(filters, visibility, measure, cell).count()` equals the number reported for the measure, except
where the number counts events rather than conversations: `next_response` (replies), `reopened`
(reopenings) and the `sla_breach_*` kinds (breaches; a conversation can breach its next response more
than once). Those drill to the distinct conversations behind the events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from analytics.filters import DashboardFilters
from analytics.models import ConversationFact, ReplyFact
from profiles.models import Segment
from profiles.segments import SegmentError, customers_in_segment
from tickets.models import Conversation
from tickets.visibility import Visibility

MEASURES = (
    "created",
    "customers",
    "resolved",
    "reopened",
    "resolved_reopened",
    "backlog",
    "first_response",
    "first_response_within",
    "next_response",
    "next_response_within",
    "resolution",
    "resolution_within",
    "sla_with_policy",
    "sla_breached",
    "sla_breach_first_response",
    "sla_breach_next_response",
    "sla_breach_resolution",
)
_BREACHES = F("breaches_first_response") + F("breaches_next_response") + F("breaches_resolution")


@dataclass(frozen=True)
class DrillCell:
    """Narrows a drill to one bar, row or heat-map cell; None means any."""

    start: datetime | None = None
    end: datetime | None = None
    channel_id: int | None = None
    team_id: int | None = None  # 0 = no team
    agent_id: int | None = None  # 0 = unassigned
    weekday: int | None = None  # ISO 1..7 in the filter's time zone (heat map)
    hour: int | None = None


def _dimensions(filters: DashboardFilters, cell: DrillCell) -> Q:
    q = Q()
    if filters.channel_ids:
        q &= Q(channel_id__in=filters.channel_ids)
    if filters.team_ids:
        q &= Q(team_id__in=filters.team_ids)
    if filters.agent_ids:
        q &= Q(assignee_id__in=filters.agent_ids)
    for value, name in (
        (cell.channel_id, "channel_id"),
        (cell.team_id, "team_id"),
        (cell.agent_id, "assignee_id"),
    ):
        if value is not None:
            q &= Q(**{name: value})
    if filters.label_ids:
        q &= Q(
            conversation_id__in=Conversation.labels.through.objects.filter(
                label_id__in=filters.label_ids
            ).values("conversation_id")
        )
    if filters.segment_id is not None:
        segment = Segment.objects.filter(pk=filters.segment_id).first()
        try:
            people = customers_in_segment(segment).values("id") if segment else None
        except SegmentError:
            people = None
        q &= Q(customer_id__in=people) if people is not None else Q(pk__in=[])
    return q


def _measure(facts: QuerySet[ConversationFact], measure: str, lo: datetime, hi: datetime) -> QuerySet:
    created = Q(created_at__gte=lo, created_at__lt=hi)
    resolved = Q(resolved_at__gte=lo, resolved_at__lt=hi)
    first = Q(first_response_at__gte=lo, first_response_at__lt=hi)
    if measure in ("created", "customers"):
        return facts.filter(created)
    if measure in ("resolved", "resolution"):
        return facts.filter(resolved)
    if measure == "resolved_reopened":
        return facts.filter(resolved, reopen_count__gt=0)
    if measure == "resolution_within":
        return facts.filter(resolved, resolution_within=True)
    if measure == "first_response":
        return facts.filter(first)
    if measure == "first_response_within":
        return facts.filter(first, first_response_within=True)
    if measure in ("next_response", "next_response_within"):
        replies = ReplyFact.objects.filter(is_first=False, replied_at__gte=lo, replied_at__lt=hi)
        if measure.endswith("within"):
            replies = replies.filter(within_target=True)
        return facts.filter(conversation_id__in=replies.values("conversation_id"))
    if measure == "reopened":
        reopened = RawSQL(
            "EXISTS (SELECT 1 FROM unnest(reopen_times) AS t WHERE t >= %s AND t < %s)",
            [lo, hi],
            output_field=BooleanField(),
        )
        return facts.filter(reopen_count__gt=0).alias(hit=reopened).filter(hit=True)
    if measure == "backlog":
        return facts.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=hi), created_at__lt=hi)
    if measure == "sla_with_policy":
        return facts.filter(created, sla_policy_id__isnull=False)
    if measure == "sla_breached":
        return facts.alias(breaches=_BREACHES).filter(created, breaches__gt=0)
    if measure.startswith("sla_breach_"):
        return facts.filter(created, **{f"breaches_{measure.removeprefix('sla_breach_')}__gt": 0})
    raise ValueError(f"unknown measure: {measure}")


def drill(
    filters: DashboardFilters, visibility: Visibility, measure: str, cell: DrillCell | None = None
) -> QuerySet[Conversation]:
    """The conversations behind `measure` for these filters (narrowed to `cell`), newest first."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure: {measure}")
    cell = cell or DrillCell()
    lo = max(filters.start, cell.start) if cell.start else filters.start
    hi = min(filters.end, cell.end) if cell.end else filters.end
    facts = _measure(ConversationFact.objects.filter(_dimensions(filters, cell)), measure, lo, hi)
    if cell.weekday is not None or cell.hour is not None:
        zone = filters.zone
        facts = facts.annotate(
            local_weekday=ExtractIsoWeekDay("created_at", tzinfo=zone),
            local_hour=ExtractHour("created_at", tzinfo=zone),
        )
        if cell.weekday is not None:
            facts = facts.filter(local_weekday=cell.weekday)
        if cell.hour is not None:
            facts = facts.filter(local_hour=cell.hour)
    return (
        visibility.conversations()
        .filter(pk__in=facts.values("conversation_id"))
        .order_by("-created_at", "-pk")
    )
