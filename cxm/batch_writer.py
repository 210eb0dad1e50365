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
    return {key: value for key, value in kwargs.items() if value is not None}


class BatchFailed(Exception):
    """The batch could not be written; the caller must not acknowledge its item."""


class BatchWriter(Generic[Item, Result]):
    max_batch = 500
    what = "items"  # for the log

    def __init__(self) -> None:
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._connection: psycopg.AsyncConnection | None = None

    async def store(self, item: Item) -> Result:
        """The item's result once its batch is committed. Raises BatchFailed (or a subclass's)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        return await future

    def failure(self, exc: Exception) -> Exception:
        return BatchFailed(str(exc))

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            items = [item for item, _ in batch]
            try:
                results = await self._write(await self._cursor_connection(), items)
            except Exception as exc:
                logger.exception("could not store a batch of %s %s", len(batch), self.what)
                await self._reset()
                for _, future in batch:
                    if not future.done():
                        future.set_exception(self.failure(exc))
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
            self._written(items, results)

    async def _cursor_connection(self) -> psycopg.AsyncConnection:
        if self._connection is None or self._connection.closed:
            self._connection = await psycopg.AsyncConnection.connect(**connection_kwargs(), autocommit=True)
        return self._connection

    async def _write(self, connection: psycopg.AsyncConnection, items: list[Item]) -> list[Result]:
        raise NotImplementedError

    def _written(self, items: list[Item], results: list[Result]) -> None:
        """After a batch is committed and its requests answered."""

    async def close(self) -> None:
        """Wait for queued items, then let the connection go (at shutdown, and between tests)."""
        if self._flusher is not None:
            await self._flusher
        await self._reset()

    async def _reset(self) -> None:
        connection, self._connection = self._connection, None
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
