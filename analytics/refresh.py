"""The refresh: dirty conversations → facts → the cells they touch, one transaction per chunk."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from analytics import dirty
from analytics.facts import refresh_facts
from analytics.rollups import refresh_cells
from core.redis import get_redis

CHUNK = 500
# Longer than one chunk may take; a refresher that died releases the lock when it expires.
LOCK_SECONDS = 300
# pg_advisory_xact_lock key: "cxm reporting cells".
CELLS_LOCK = 0x63786D7263


def lock_cells() -> None:
    """Serialize writers of facts and cells (the task, the rebuild) until the transaction ends: two
    recomputing one cell at once would both insert it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CELLS_LOCK])


def do_refresh(conversation_ids: Iterable[int]) -> int:
    """Recompute facts and cells for these conversations now (tests, the rebuild, the task)."""
    ids = sorted(set(conversation_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with transaction.atomic():
            lock_cells()
            refresh_cells(refresh_facts(chunk))
    return len(ids)


def do_refresh_dirty(*, max_chunks: int = 100) -> int:
    """Drain the dirty set in chunks; one refresher at a time. Returns how many ids were refreshed."""
    client = get_redis()
    if not client.set(dirty.LOCK, "1", nx=True, ex=LOCK_SECONDS):
        return 0
    refreshed = 0
    try:
        for _ in range(max_chunks):
            batch = dirty.take_batch(CHUNK)
            if not batch:
                break
            do_refresh(batch)
            dirty.done(batch)
            refreshed += len(batch)
    finally:
        client.delete(dirty.LOCK)
    return refreshed
