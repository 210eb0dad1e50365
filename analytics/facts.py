"""Facts from raw rows: `refresh_facts(ids)` recomputes the facts of any number of conversations.

A handful of statements however many ids: one read each of conversations, messages, resolutions,
breach notices, scores and calendars, one delete and one insert per fact table. The arithmetic
(business time, reopen moments) runs in Python over the rows at hand. Recomputing is idempotent, so a
duplicate event, a merge, an erasure, a reassignment or a late answer all converge on the same rows.
The definitions are in the docstrings of `ConversationFact` and `ReplyFact`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Model, Q

from analytics.models import ConversationFact, ReplyFact
from analytics.periods import floor_hour
from profiles.models import TimelineEntry, TimelineKind
from surveys.models import SurveyResponse
from tickets.business_time import Schedule, business_time_between
from tickets.models import Conversation, ConversationStatus, Direction, Message
from tickets.sla_models import Holiday, SlaBreachNotice, SlaPolicy

_CONVERSATION_FIELDS = (
    *("pk", "created_at", "channel_id", "team_id", "assignee_id"),
    *("customer_id", "status", "resolved_at", "sla_policy_id"),
)
# (UTC hour, channel, team, agent): the hour-grain cell a fact or reply counts in.
CellKey = tuple[datetime, int, int, int]


@dataclass
class _Calendar:
    schedule: Schedule | None
    holidays: set[date]
    first: int | None
    following: int | None
    resolution: int | None

    def seconds(self, a: datetime, b: datetime) -> float:
        return business_time_between(a, b, self.schedule, self.holidays).total_seconds()


_WALL = _Calendar(None, set(), None, None, None)


def _calendars(policy_ids: set[int]) -> dict[int, _Calendar]:
    policies = list(SlaPolicy.objects.filter(pk__in=policy_ids).select_related("business_hours"))
    holidays: dict[int, set[date]] = defaultdict(set)
    hours_ids = {p.business_hours_id for p in policies if p.business_hours_id}
    for hours_id, day in Holiday.objects.filter(business_hours_id__in=hours_ids).values_list(
        "business_hours_id", "date"
    ):
        holidays[hours_id].add(day)
    calendars = {}
    for policy in policies:
        schedule = None
        if policy.business_hours is not None:
            try:
                schedule = Schedule.of(policy.business_hours)
            except ValueError:
                schedule = None  # hours without working time: the SLA module refuses them; count wall time
        calendars[policy.pk] = _Calendar(
            schedule,
            holidays.get(policy.business_hours_id or 0, set()),
            policy.first_response_minutes,
            policy.next_response_minutes,
            policy.resolution_minutes,
        )
    return calendars


def _within(business: float, minutes: int | None) -> bool | None:
    return None if minutes is None else business <= minutes * 60


@dataclass
class _Raw:
    messages: dict[int, list[tuple[int, str, int | None, datetime, bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    resolutions: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    breaches: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))
    scores: dict[tuple[int, str], int] = field(default_factory=dict)


def _load(ids: list[int]) -> _Raw:
    raw = _Raw()
    automated = ExpressionWrapper(Q(metadata__has_key="automated"), output_field=BooleanField())
    for row in (
        Message.objects.filter(conversation_id__in=ids)
        .order_by("conversation_id", "created_at", "id")
        .annotate(is_automated=automated)
        .values_list("conversation_id", "id", "direction", "author_id", "created_at", "is_automated")
    ):
        raw.messages[row[0]].append(row[1:])
    for conversation_id, at in (
        TimelineEntry.objects.filter(conversation_id__in=ids, kind=TimelineKind.CONVERSATION_RESOLVED)
        .order_by("conversation_id", "occurred_at", "id")
        .values_list("conversation_id", "occurred_at")
    ):
        raw.resolutions[conversation_id].append(at)
    for conversation_id, target in SlaBreachNotice.objects.filter(conversation_id__in=ids).values_list(
        "conversation_id", "target"
    ):
        raw.breaches[conversation_id, target] += 1
    for conversation_id, kind, score in (
        SurveyResponse.objects.filter(conversation_id__in=ids)
        .order_by("conversation_id", "survey__kind", "-created_at", "-id")
        .distinct("conversation_id", "survey__kind")
        .values_list("conversation_id", "survey__kind", "score")
    ):
        raw.scores[conversation_id, kind] = score
    return raw


def _reopen_times(resolutions: list[datetime], status: str, times: list[datetime]) -> list[datetime]:
    undone = resolutions if status != ConversationStatus.RESOLVED else resolutions[:-1]
    moments = []
    for index, resolved in enumerate(undone):
        following = resolutions[index + 1] if index + 1 < len(resolutions) else None
        after = next((t for t in times if t > resolved and (following is None or t < following)), None)
        # Without a message the moment is unknown; the resolution itself keeps it fixed over time.
        moments.append(after or resolved)
    return moments


def _compute(conv: Conversation, raw: _Raw, cal: _Calendar) -> tuple[ConversationFact, list[ReplyFact]]:
    team, agent = conv.team_id or 0, conv.assignee_id or 0
    inbound = outbound = 0
    waiting: datetime | None = None
    replies: list[ReplyFact] = []
    for message_id, direction, author_id, at, automated in raw.messages.get(conv.pk, ()):
        if direction == Direction.INBOUND:
            inbound += 1
            if not automated and waiting is None:
                waiting = at
            continue
        outbound += 1
        if author_id is None or automated or waiting is None:
            continue
        business = cal.seconds(waiting, at)
        is_first = not replies
        replies.append(
            ReplyFact(
                message_id=message_id,
                conversation_id=conv.pk,
                agent_id=author_id,
                channel_id=conv.channel_id,
                team_id=team,
                assignee_id=agent,
                replied_at=at,
                waited_seconds=(at - waiting).total_seconds(),
                waited_business_seconds=business,
                is_first=is_first,
                within_target=_within(business, cal.first if is_first else cal.following),
            )
        )
        waiting = None
    fact = ConversationFact(
        conversation_id=conv.pk,
        created_at=conv.created_at,
        channel_id=conv.channel_id,
        team_id=team,
        assignee_id=agent,
        customer_id=conv.customer_id,
        status=conv.status,
        sla_policy_id=conv.sla_policy_id,
        inbound_messages=inbound,
        outbound_messages=outbound,
        breaches_first_response=raw.breaches.get((conv.pk, "first_response"), 0),
        breaches_next_response=raw.breaches.get((conv.pk, "next_response"), 0),
        breaches_resolution=raw.breaches.get((conv.pk, "resolution"), 0),
        csat_score=raw.scores.get((conv.pk, "csat")),
        nps_score=raw.scores.get((conv.pk, "nps")),
        ces_score=raw.scores.get((conv.pk, "ces")),
    )
    if replies:
        first = replies[0]
        fact.first_response_at = first.replied_at
        fact.first_response_seconds = first.waited_seconds
        fact.first_response_business_seconds = first.waited_business_seconds
        fact.first_response_within = first.within_target
    if conv.status == ConversationStatus.RESOLVED and conv.resolved_at is not None:
        resolved_at = max(conv.resolved_at, conv.created_at)
        fact.resolved_at = resolved_at
        fact.resolution_seconds = (resolved_at - conv.created_at).total_seconds()
        fact.resolution_business_seconds = cal.seconds(conv.created_at, resolved_at)
        fact.resolution_within = _within(fact.resolution_business_seconds, cal.resolution)
    times = [row[3] for row in raw.messages.get(conv.pk, ())]
    fact.reopen_times = _reopen_times(raw.resolutions.get(conv.pk, []), conv.status, times)
    fact.reopen_count = len(fact.reopen_times)
    return fact, replies


def cell_keys(fact: ConversationFact, replies: Iterable[ReplyFact]) -> set[CellKey]:
    """The hour cells a fact and its replies count in."""
    dims = (fact.channel_id, fact.team_id, fact.assignee_id)
    moments = [fact.created_at, *fact.reopen_times, *(r.replied_at for r in replies)]
    if fact.resolved_at is not None:
        moments.append(fact.resolved_at)
    return {(floor_hour(moment), *dims) for moment in moments}


def _stored_keys(ids: list[int]) -> set[CellKey]:
    facts = {f.conversation_id: f for f in ConversationFact.objects.filter(conversation_id__in=ids)}
    replies: dict[int, list[ReplyFact]] = defaultdict(list)
    for reply in ReplyFact.objects.filter(conversation_id__in=ids):
        replies[reply.conversation_id].append(reply)
    keys: set[CellKey] = set()
    for conversation_id, fact in facts.items():
        keys |= cell_keys(fact, replies.get(conversation_id, []))
    return keys


@transaction.atomic
def refresh_facts(conversation_ids: Iterable[int]) -> set[CellKey]:
    """Recompute the facts of these conversations (deleting those of conversations that are gone) and
    return every hour cell they counted in before or count in now: the cells to recompute."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return set()
    keys = _stored_keys(ids)
    conversations = list(Conversation.objects.filter(pk__in=ids).order_by("pk").only(*_CONVERSATION_FIELDS))
    raw = _load([c.pk for c in conversations])
    calendars = _calendars({c.sla_policy_id for c in conversations if c.sla_policy_id})
    facts: list[ConversationFact] = []
    replies: list[ReplyFact] = []
    for conv in conversations:
        fact, fact_replies = _compute(conv, raw, calendars.get(conv.sla_policy_id or 0, _WALL))
        facts.append(fact)
        replies += fact_replies
        keys |= cell_keys(fact, fact_replies)
    # By message too: a message moved to another conversation must not collide with its old fact.
    ReplyFact.objects.filter(
        Q(conversation_id__in=ids) | Q(message_id__in=[r.message_id for r in replies])
    ).delete()
    ConversationFact.objects.filter(conversation_id__in=ids).delete()
    _copy(ConversationFact, facts)
    _copy(ReplyFact, replies)
    return keys


def _copy(model: type[ConversationFact] | type[ReplyFact], rows: Sequence[Model]) -> None:
    """Write rows with COPY: `bulk_create` spent more time building its statement than PostgreSQL
    spent running it, which made rebuilding a million conversations take most of an hour."""
    if not rows:
        return
    fields = list(model._meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(f.attname) for f in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([getattr(row, f.attname) for f in fields])
