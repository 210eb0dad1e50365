"""Storing webhook deliveries from many concurrent requests with one INSERT per batch.

Each request waits for its own row to be committed (synchronously: a delivery is acknowledged only
once it is durable), but requests that arrive while a commit is under way are written together by the
next one. Under load that turns a thousand one-row commits a second into a few dozen multi-row ones,
which is what lets one process acknowledge webhooks at the rate the ingest target asks for.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from django.db import connections

from channels_app.inbound_models import InboundEvent, InboundStatus
from channels_app.webhook_checks import Delivery

logger = logging.getLogger(__name__)
MAX_BATCH = 500


class StoreFailed(Exception):
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


def _connection_kwargs() -> dict[str, Any]:
    settings = connections["default"].settings_dict
    kwargs = {
        "dbname": settings["NAME"],
        "user": settings.get("USER") or None,
        "password": settings.get("PASSWORD") or None,
        "host": settings.get("HOST") or None,
        "port": settings.get("PORT") or None,
    }
    return {key: value for key, value in kwargs.items() if value is not None}


class InboundWriter:
    """One per event loop: one connection, one batch in flight, everything else queued behind it."""

    def __init__(self) -> None:
        self._pending: list[tuple[Delivery, asyncio.Future[int | None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._connection: psycopg.AsyncConnection | None = None
        # Queuing the drain task talks to Redis and Celery synchronously: it runs beside the loop,
        # at most once per batch, and a call already waiting to run covers every batch before it.
        self._enqueuer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbound-enqueue")
        self._enqueue_waiting = False

    async def store(self, delivery: Delivery) -> int | None:
        """The new event's id, or None for a redelivery already stored. Raises StoreFailed."""
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._pending.append((delivery, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                ids = await self._insert([delivery for delivery, _ in batch])
            except Exception as exc:
                logger.exception("could not store a batch of %s webhook deliveries", len(batch))
                await self._reset()
                for _, future in batch:
                    if not future.done():
                        future.set_exception(StoreFailed(str(exc)))
                continue
            for (_, future), event_id in zip(batch, ids, strict=True):
                if not future.done():
                    future.set_result(event_id)
            if any(event_id is not None for event_id in ids):
                self._schedule_enqueue(max(i for i in ids if i is not None))

    async def _insert(self, deliveries: list[Delivery]) -> list[int | None]:
        if self._connection is None or self._connection.closed:
            self._connection = await psycopg.AsyncConnection.connect(**_connection_kwargs(), autocommit=True)
        async with self._connection.cursor() as cursor:
            await cursor.execute(
                _INSERT,
                [
                    [d.channel.pk for d in deliveries],
                    [d.provider for d in deliveries],
                    [d.dedup_key for d in deliveries],
                    [d.content_type for d in deliveries],
                    [json.dumps(d.headers) for d in deliveries],
                    [d.body for d in deliveries],
                ],
            )
            stored = {(channel_id, key): event_id for event_id, channel_id, key in await cursor.fetchall()}
        # A redelivery inside the same batch gets None, like one that arrives later.
        return [stored.pop((d.channel.pk, d.dedup_key), None) for d in deliveries]

    async def close(self) -> None:
        """Wait for queued deliveries, then let the connection go (at shutdown, and between tests)."""
        if self._flusher is not None:
            await self._flusher
        await self._reset()
        self._enqueuer.shutdown(wait=True)

    async def _reset(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:
                logger.debug("closing a broken connection failed", exc_info=True)

    def _schedule_enqueue(self, event_id: int) -> None:
        if self._enqueue_waiting:
            return
        self._enqueue_waiting = True
        self._enqueuer.submit(self._enqueue, event_id)

    def _enqueue(self, event_id: int) -> None:
        from channels_app.tasks import enqueue_inbound

        self._enqueue_waiting = False  # from here on, a new commit needs a new call
        enqueue_inbound(event_id)


_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, InboundWriter] = weakref.WeakKeyDictionary()


def writer() -> InboundWriter:
    loop = asyncio.get_running_loop()
    if loop not in _writers:
        _writers[loop] = InboundWriter()
    return _writers[loop]


async def close_writer() -> None:
    current = _writers.pop(asyncio.get_running_loop(), None)
    if current is not None:
        await current.close()
