"""Writing the items of many concurrent requests together, one batch in flight per event loop.

Each request waits for its own item's result (nothing is acknowledged before it is durable), but
items that arrive while a batch is being written go together into the next one. Under load that turns
a thousand one-row commits a second into a few dozen multi-row ones. Subclasses say how a batch is
written (`_write`, on the writer's own autocommit connection) and may react afterwards (`_written`).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import psycopg
from django.db import connections

logger = logging.getLogger(__name__)
Item = TypeVar("Item")
Result = TypeVar("Result")


def connection_kwargs() -> dict[str, Any]:
    settings = connections["default"].settings_dict
    kwargs = {
        "dbname": settings["NAME"],
        "user": settings.get("USER") or None,
        "password": settings.get("PASSWORD") or None,
        "host": settings.get("HOST") or None,
        "port": settings.get("PORT") or None,
    }
    kwargs["options"] = settings.get("OPTIONS", {}).get("options")
    return {key: value for key, value in kwargs.items() if value is not None}


class BatchFailed(Exception):
    """The batch could not be written; the caller must not acknowledge its item."""


class BatchWriter(Generic[Item, Result]):
    max_batch = 500
    what = "items"  # for the log
    # Batches written at the same time, each on its own connection. With one, a request waits for
    # the batch in flight and then its own; with two, the next batch starts while one commits.
    lanes = 1

    def __init__(self) -> None:
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flushers: list[asyncio.Task[None]] = []
        self._idle: list[psycopg.AsyncConnection] = []

    async def store(self, item: Item) -> Result:
        """The item's result once its batch is committed. Raises BatchFailed (or a subclass's)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._flushers = [task for task in self._flushers if not task.done()]
        if len(self._flushers) < self.lanes:
            self._flushers.append(asyncio.get_running_loop().create_task(self._flush()))
        return await future

    def failure(self, exc: Exception) -> Exception:
        return BatchFailed(str(exc))

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            items = [item for item, _ in batch]
            connection = None
            try:
                connection = await self._take_connection()
                results = await self._write(connection, items)
            except Exception as exc:
                logger.exception("could not store a batch of %s %s", len(batch), self.what)
                await self._close(connection)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(self.failure(exc))
                continue
            self._idle.append(connection)
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
            self._written(items, results)

    async def _take_connection(self) -> psycopg.AsyncConnection:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return await psycopg.AsyncConnection.connect(**connection_kwargs(), autocommit=True)

    async def _write(self, connection: psycopg.AsyncConnection, items: list[Item]) -> list[Result]:
        raise NotImplementedError

    def _written(self, items: list[Item], results: list[Result]) -> None:
        """After a batch is committed and its requests answered."""

    async def close(self) -> None:
        """Wait for queued items, then let the connections go (at shutdown, and between tests)."""
        while self._flushers:
            await self._flushers.pop()
        while self._idle:
            await self._close(self._idle.pop())

    async def _close(self, connection: psycopg.AsyncConnection | None) -> None:
        if connection is not None:
            try:
                await connection.close()
            except Exception:
                logger.debug("closing a broken connection failed", exc_info=True)


W = TypeVar("W", bound=BatchWriter)


class PerLoop(Generic[W]):
    """One writer per event loop: a connection belongs to the loop that opened it."""

    def __init__(self, factory: Callable[[], W]) -> None:
        self._factory = factory
        self._writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, W] = weakref.WeakKeyDictionary()

    def get(self) -> W:
        loop = asyncio.get_running_loop()
        if loop not in self._writers:
            self._writers[loop] = self._factory()
        return self._writers[loop]

    async def close(self) -> None:
        current = self._writers.pop(asyncio.get_running_loop(), None)
        if current is not None:
            await current.close()
