"""Storing webhook deliveries from many concurrent requests with one INSERT per batch.

A delivery is acknowledged only once its row is committed; batching (core.batch_writer) is what lets
one process acknowledge webhooks at the rate the ingest target asks for. After each commit a drain
task is queued for the new events.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import psycopg

from channels_app.inbound_models import InboundEvent, InboundStatus
from channels_app.webhook_checks import Delivery
from core.batch_writer import BatchFailed, BatchWriter, PerLoop


class StoreFailed(BatchFailed):
    """The delivery could not be stored; the caller must not acknowledge it."""


_INSERT = f"""
    INSERT INTO {InboundEvent._meta.db_table}
        (channel_id, provider, dedup_key, content_type, headers, body, status, attempts, error, received_at)
    SELECT channel_id, provider, dedup_key, content_type, headers::jsonb, body,
           '{InboundStatus.PENDING}', 0, '', statement_timestamp()
      FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bytea[])
           WITH ORDINALITY AS d(channel_id, provider, dedup_key, content_type, headers, body, n)
     ORDER BY n
    ON CONFLICT (channel_id, dedup_key) DO NOTHING
    RETURNING id, channel_id, dedup_key
"""  # noqa: S608 (table name and status come from the model, every value is a parameter)


class InboundWriter(BatchWriter[Delivery, "int | None"]):
    """The new event's id for each delivery, or None for a redelivery already stored."""

    what = "webhook deliveries"

    def __init__(self) -> None:
        super().__init__()
        # Queuing the drain task talks to Redis and Celery synchronously: it runs beside the loop,
        # at most once per batch, and a call already waiting to run covers every batch before it.
        self._enqueuer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbound-enqueue")
        self._enqueue_waiting = False

    def failure(self, exc: Exception) -> Exception:
        return StoreFailed(str(exc))

    async def _write(self, connection: psycopg.AsyncConnection, items: list[Delivery]) -> list[int | None]:
        async with connection.cursor() as cursor:
            await cursor.execute(
                _INSERT,
                [
                    [d.channel.pk for d in items],
                    [d.provider for d in items],
                    [d.dedup_key for d in items],
                    [d.content_type for d in items],
                    [json.dumps(d.headers) for d in items],
                    [d.body for d in items],
                ],
            )
            stored = {(channel_id, key): event_id for event_id, channel_id, key in await cursor.fetchall()}
        # A redelivery inside the same batch gets None, like one that arrives later.
        return [stored.pop((d.channel.pk, d.dedup_key), None) for d in items]

    def _written(self, items: list[Delivery], results: list[int | None]) -> None:
        ids = [event_id for event_id in results if event_id is not None]
        if ids:
            self._schedule_enqueue(max(ids))

    async def close(self) -> None:
        await super().close()
        self._enqueuer.shutdown(wait=True)

    def _schedule_enqueue(self, event_id: int) -> None:
        if self._enqueue_waiting:
            return
        self._enqueue_waiting = True
        self._enqueuer.submit(self._enqueue, event_id)

    def _enqueue(self, event_id: int) -> None:
        from channels_app.tasks import enqueue_inbound

        self._enqueue_waiting = False  # from here on, a new commit needs a new call
        enqueue_inbound(event_id)


_writers = PerLoop(InboundWriter)
writer = _writers.get
close_writer = _writers.close
