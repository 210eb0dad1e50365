"""Service-level deadlines: which policy applies, the due times each event sets, and their state.

The due fields on a conversation describe what is owed *now*: a resolved conversation owes nothing,
so resolving clears them (a met first response keeps its target, to compare with first_response_at).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypedDict, get_args

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from tickets.business_time import Schedule, add_business_minutes, business_minutes_between
from tickets.models import Conversation, ConversationStatus
from tickets.sla_models import BusinessHours, Holiday, SlaPolicy

Event = Literal["customer_message", "agent_reply", "resolved", "reopened", "priority_changed"]
Kind = Literal["first_response", "next_response", "resolution"]
EVENTS: frozenset[str] = frozenset(get_args(Event))
# Below this share of its target left, a deadline shows as at risk.
AT_RISK_SHARE = 0.2

KIND_LABELS = {
    "first_response": _("First response"),
    "next_response": _("Next response"),
    "resolution": _("Resolution"),
}
STATE_LABELS = {"breached": _("SLA breached"), "at_risk": _("SLA at risk"), "on_track": _("SLA on track")}

_FIELDS = (
    "sla_policy_id",
    "waiting_since",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
)


class SlaState(TypedDict):
    kind: Kind
    due_at: datetime
    breached: bool
    at_risk: bool


def _specificity(policy: SlaPolicy) -> tuple[int, int, int]:
    # Channel outranks priority; among equals the oldest policy wins, so the choice never flickers.
    return (policy.channel_id is not None, bool(policy.priority), -policy.pk)


def pick_policy(policies: Iterable[SlaPolicy], *, channel_id: int | None, priority: str) -> SlaPolicy | None:
    matching = [
        p
        for p in policies
        if p.is_active and p.channel_id in (None, channel_id) and p.priority in ("", priority)
    ]
    return max(matching, key=_specificity, default=None)


def _active_policies() -> list[SlaPolicy]:
    return list(SlaPolicy.objects.filter(is_active=True).select_related("business_hours"))


def policy_for(conversation: Conversation) -> SlaPolicy | None:
    """The most specific active policy: channel and priority, channel, priority, neither."""
    candidates = SlaPolicy.objects.filter(
        Q(channel_id=conversation.channel_id) | Q(channel__isnull=True),
        Q(priority=conversation.priority) | Q(priority=""),
        is_active=True,
    ).select_related("business_hours")
    return pick_policy(candidates, channel_id=conversation.channel_id, priority=conversation.priority)


@dataclass
class _Calendars:
    """Parsed schedules and holidays, read once per call however many conversations it covers."""

    holidays: dict[int, set[date]] = field(default_factory=dict)
    schedules: dict[int, Schedule] = field(default_factory=dict)

    @classmethod
    def load(cls, policies: Iterable[SlaPolicy]) -> _Calendars:
        calendars = cls()
        hours = {p.business_hours.pk: p.business_hours for p in policies if p.business_hours is not None}
        if hours:
            for hours_id, day in Holiday.objects.filter(business_hours_id__in=hours).values_list(
                "business_hours_id", "date"
            ):
                calendars.holidays.setdefault(hours_id, set()).add(day)
        for hours_id, row in hours.items():
            calendars.schedules[hours_id] = Schedule.of(row)
        return calendars

    def add(self, policy: SlaPolicy, start: datetime, minutes: int | None) -> datetime | None:
        if minutes is None:
            return None
        hours_id = policy.business_hours_id
        if hours_id is None:
            return add_business_minutes(start, minutes, None)
        return add_business_minutes(start, minutes, self.schedules[hours_id], self.holidays.get(hours_id, ()))


def _apply(conv: Conversation, event: str, at: datetime, policy: SlaPolicy | None, cal: _Calendars) -> None:
    def due(start: datetime, minutes: int | None) -> datetime | None:
        return cal.add(policy, start, minutes) if policy is not None else None

    first = policy.first_response_minutes if policy else None
    following = policy.next_response_minutes if policy else None
    resolution = policy.resolution_minutes if policy else None
    if event == "customer_message":
        # Auto-replies open conversations already resolved: nobody owes them an answer.
        if conv.status == ConversationStatus.RESOLVED:
            return
        # Only a new wait takes up a changed policy: the running deadlines were set by the old one.
        if conv.waiting_since is None or conv.sla_policy_id is None:
            conv.sla_policy = policy
        if conv.waiting_since is None:
            conv.waiting_since = at
        # A second message while still waiting must not push the deadline later.
        if conv.first_response_at is None:
            conv.first_response_due_at = conv.first_response_due_at or due(conv.waiting_since, first)
        else:
            conv.next_response_due_at = conv.next_response_due_at or due(conv.waiting_since, following)
        conv.resolution_due_at = conv.resolution_due_at or due(at, resolution)
    elif event == "agent_reply":
        conv.waiting_since = conv.next_response_due_at = None
    elif event == "resolved":
        conv.waiting_since = conv.next_response_due_at = conv.resolution_due_at = None
        if conv.first_response_at is None:
            conv.first_response_due_at = None
    elif event == "reopened":
        conv.sla_policy = policy
        conv.resolution_due_at = due(at, resolution)
    elif event == "priority_changed":
        # Deadlines restart from their own anchors under the new targets, not from the change.
        conv.sla_policy = policy
        if conv.first_response_at is None and conv.waiting_since is not None:
            conv.first_response_due_at = due(conv.waiting_since, first)
        if conv.first_response_at is not None and conv.waiting_since is not None:
            conv.next_response_due_at = due(conv.waiting_since, following)
        if conv.status != ConversationStatus.RESOLVED:
            conv.resolution_due_at = due(conv.created_at, resolution)


def do_apply_sla(*, conversations: Sequence[Conversation], event: Event, at: datetime) -> int:
    """Set waiting_since and the due times an event implies, for many conversations in one UPDATE.
    The objects are changed in place too; returns how many rows changed."""
    if event not in EVENTS:
        raise ValueError(f"unknown SLA event: {event}")
    if not conversations:
        return 0
    if any(conv.pk is None for conv in conversations):
        raise ValueError("save conversations before applying SLA events to them")
    needs_policy = event in ("customer_message", "reopened", "priority_changed")
    policies = _active_policies() if needs_policy else []
    calendars = _Calendars.load(policies)
    changed: dict[int, Conversation] = {}
    for conv in conversations:
        before = tuple(getattr(conv, name) for name in _FIELDS)
        policy = pick_policy(policies, channel_id=conv.channel_id, priority=conv.priority)
        _apply(conv, event, at, policy, calendars)
        if tuple(getattr(conv, name) for name in _FIELDS) != before:
            changed[conv.pk] = conv
    _update(list(changed.values()))
    return len(changed)


def _update(rows: list[Conversation]) -> None:
    """One statement for all: bulk_update would build a CASE per row and field."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Conversation._meta.db_table} AS c
               SET sla_policy_id = v.policy, waiting_since = v.waiting,
                   first_response_due_at = v.first_due, next_response_due_at = v.next_due,
                   resolution_due_at = v.resolution_due
              FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[],
                          %s::timestamptz[], %s::timestamptz[])
                   AS v(id, policy, waiting, first_due, next_due, resolution_due)
             WHERE c.id = v.id
            """,  # noqa: S608 (the table name comes from the model; every value is a parameter)
            [[c.pk for c in rows], *([getattr(c, name) for c in rows] for name in _FIELDS)],
        )


def _pending(conv: Conversation) -> list[tuple[Kind, datetime, int | None]]:
    """(kind, due, target minutes) of each deadline still open; the target is None without a policy."""
    policy = conv.sla_policy
    pending: list[tuple[Kind, datetime, int | None]] = []
    if conv.first_response_at is None and conv.first_response_due_at is not None:
        target = policy.first_response_minutes if policy else None
        pending.append(("first_response", conv.first_response_due_at, target))
    elif conv.waiting_since is not None and conv.next_response_due_at is not None:
        target = policy.next_response_minutes if policy else None
        pending.append(("next_response", conv.next_response_due_at, target))
    if conv.resolution_due_at is not None:
        target = policy.resolution_minutes if policy else None
        pending.append(("resolution", conv.resolution_due_at, target))
    return pending


def sla_state(conversation: Conversation, now: datetime) -> SlaState | None:
    """The nearest pending deadline, or None when nothing is due. For lists, load conversations with
    select_related("sla_policy__business_hours") and prefetch_related("sla_policy__business_hours__holidays")
    so this runs no queries."""
    if conversation.status == ConversationStatus.RESOLVED:
        return None
    pending = _pending(conversation)
    if not pending:
        return None
    kind, due_at, target = min(pending, key=lambda item: item[1])
    breached = now >= due_at
    at_risk = False
    policy = conversation.sla_policy
    if not breached and target and policy is not None:
        hours: BusinessHours | None = policy.business_hours
        holidays = {h.date for h in hours.holidays.all()} if hours is not None else set()
        left = business_minutes_between(now, due_at, hours, holidays)
        at_risk = left < AT_RISK_SHARE * target
    return {"kind": kind, "due_at": due_at, "breached": breached, "at_risk": at_risk}


def breach_counts(queryset: QuerySet[Conversation], now: datetime) -> dict[str, Any]:
    """Unresolved conversations past each deadline, counted in one query: {kind: n, "any": n}."""
    first = Q(first_response_at__isnull=True, first_response_due_at__lte=now)
    following = Q(first_response_at__isnull=False, waiting_since__isnull=False, next_response_due_at__lte=now)
    resolution = Q(resolution_due_at__lte=now)
    return queryset.exclude(status=ConversationStatus.RESOLVED).aggregate(
        first_response=Count("pk", filter=first, distinct=True),
        next_response=Count("pk", filter=following, distinct=True),
        resolution=Count("pk", filter=resolution, distinct=True),
        any=Count("pk", filter=first | following | resolution, distinct=True),
    )
