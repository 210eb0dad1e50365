"""Which answers need their facts refreshed: domain-event handlers mark, a worker task drains.

A handler only records ids in Redis (one command per commit and event type) and queues nothing: the
refresh task runs on beat every few seconds and can be called on demand. What is marked is what the
event names (answers, conversations, customers); the task turns conversations and customers into their
answers, as the raw rows and the facts know them, just before refreshing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from core import events
from core.redis import get_redis

logger = logging.getLogger(__name__)

KEYS = {
    "responses": "analytics:answers:dirty:responses",
    "conversations": "analytics:answers:dirty:conversations",
    "customers": "analytics:answers:dirty:customers",
}


def mark(kind: str, ids: Iterable[int | None]) -> None:
    values = sorted({int(i) for i in ids if i is not None})
    if values:
        get_redis().sadd(KEYS[kind], *values)


def pop(kind: str, count: int) -> list[int]:
    popped: list[bytes] = get_redis().spop(KEYS[kind], count) or []  # type: ignore[assignment]
    return [int(value) for value in popped]


def pending() -> int:
    client = get_redis()
    return sum(int(client.scard(key)) for key in KEYS.values())


def on_answered(batch: Sequence[events.SurveyAnswered]) -> None:
    mark("responses", (event.response_id for event in batch))


def on_assigned(batch: Sequence[events.ConversationAssigned]) -> None:
    # An answer without an agent of its own takes the conversation's assignee.
    mark("conversations", (event.conversation_id for event in batch))


def on_merged(batch: Sequence[events.CustomersMerged]) -> None:
    mark("customers", [*(event.kept_id for event in batch), *(event.merged_id for event in batch)])


def on_erased(batch: Sequence[events.CustomerErased]) -> None:
    mark("customers", (event.customer_id for event in batch))


def register() -> None:
    # The worker learns the refresh tasks from here: Celery's autodiscovery only imports `tasks.py`.
    from analytics import answer_tasks  # noqa: F401

    events.subscribe_batch(events.SurveyAnswered, on_answered)
    events.subscribe_batch(events.ConversationAssigned, on_assigned)
    events.subscribe_batch(events.CustomersMerged, on_merged)
    events.subscribe_batch(events.CustomerErased, on_erased)
