"""Which conversations' facts are stale: a Redis set the event handlers add to and the refresh drains.

Marking is one SADD per commit, cheap enough for the inbound pipeline. Draining is at-least-once: the
refresher moves the set aside (RENAME) and removes ids only after their facts and cells committed, so a
worker that dies mid-way leaves them for the next run.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

from core.redis import get_redis

DIRTY = "cxm:analytics:dirty"
PROCESSING = "cxm:analytics:dirty:processing"
LOCK = "cxm:analytics:refresh-lock"


def mark_dirty(conversation_ids: Iterable[int | None]) -> int:
    ids = {int(i) for i in conversation_ids if i is not None}
    if not ids:
        return 0
    return int(get_redis().sadd(DIRTY, *ids))


def take_batch(size: int) -> list[int]:
    """Up to `size` ids to refresh (not removed until `done`)."""
    client = get_redis()
    if not client.exists(PROCESSING):
        try:
            client.renamenx(DIRTY, PROCESSING)
        except redis.ResponseError:
            return []  # nothing dirty
    return sorted(int(i) for i in client.srandmember(PROCESSING, size) or [])


def done(conversation_ids: Iterable[int]) -> None:
    ids = list(conversation_ids)
    if ids:
        get_redis().srem(PROCESSING, *ids)


def pending_count() -> int:
    client = get_redis()
    return int(client.scard(DIRTY)) + int(client.scard(PROCESSING))
