"""Announcing SLA breaches as they happen: a deadline that passed while the conversation still waited
becomes one `SlaBreached` event, exactly once, however many workers run the announcer."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core import events as domain_events
from tickets.models import Conversation, ConversationStatus, SlaBreachNotice

# Deadlines that passed longer ago than this are not announced: after an outage (or on the first run
# of an upgraded install) a flood of day-old breaches would only be noise for the rules that react.
WINDOW = timedelta(hours=6)
# (target, deadline field, when that deadline still counts): the same rules as tickets.sla._pending.
TARGETS: tuple[tuple[str, str, Q], ...] = (
    ("first_response", "first_response_due_at", Q(first_response_at__isnull=True)),
    (
        "next_response",
        "next_response_due_at",
        Q(first_response_at__isnull=False, waiting_since__isnull=False),
    ),
    ("resolution", "resolution_due_at", Q()),
)


def do_announce_sla_breaches(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Record and announce up to `limit` new breaches per target; returns how many were announced."""
    now = now or timezone.now()
    candidates: list[tuple[int, str, datetime]] = []
    for target, field, still_counts in TARGETS:
        rows = (
            Conversation.objects.exclude(status=ConversationStatus.RESOLVED)
            .filter(still_counts, **{f"{field}__lte": now, f"{field}__gt": now - WINDOW})
            .exclude(sla_breach_notices__target=target, sla_breach_notices__due_at=F(field))
            .order_by(field)
            .values_list("pk", field)[:limit]
        )
        candidates += [(pk, target, due) for pk, due in rows]
    if not candidates:
        return 0
    with transaction.atomic():
        announced = _insert_new(candidates, now)
        domain_events.publish_many(
            domain_events.SlaBreached(conversation_id=pk, target=target, due_at=due)
            for pk, target, due in announced
        )
    return len(announced)


def _insert_new(
    candidates: list[tuple[int, str, datetime]], now: datetime
) -> list[tuple[int, str, datetime]]:
    """The unique key decides who announces: a row another worker inserted first is skipped."""
    table = SlaBreachNotice._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (conversation_id, target, due_at, announced_at)
            SELECT id, target, due, %s
              FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[]) AS v(id, target, due)
            ON CONFLICT (conversation_id, target, due_at) DO NOTHING
            RETURNING conversation_id, target, due_at
            """,  # noqa: S608 (the table name comes from the model; every value is a parameter)
            [now, [c[0] for c in candidates], [c[1] for c in candidates], [c[2] for c in candidates]],
        )
        return [(row[0], row[1], row[2]) for row in cursor.fetchall()]
