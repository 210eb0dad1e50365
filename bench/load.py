"""A small HTTP/1.1 load generator for the benchmarks: keep-alive connections over raw asyncio streams.

A general-purpose client (httpx) spends about a millisecond of CPU per request; on a two-core machine
shared with the server that is a third of the budget being measured. Requests here are prepared bytes
written to a socket and answers are read just far enough to know their status and length.

Two ways to drive a server:
- closed loop (`rate=None`): every connection sends its next request as soon as the last is answered,
  which measures the most the server accepts;
- open loop (`rate=N`): request i is due at start + i/N whatever the server does, and its latency is
  counted from when it was due, so a stalled server shows up as latency instead of being hidden by
  senders that politely wait (coordinated omission).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    reconnects: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def percentile(self, pct: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))] if ordered else 0.0


def http_post(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 ") or b"transfer-encoding: chunked" in head.lower():
            raise RuntimeError(f"unexpected answer: {head[:200]!r}")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
                length = -1 if length == 0 else length
        if length > 0:
            await self.reader.readexactly(length)
        if length < 0 or b"connection: close" in head.lower():
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def run(
    host: str,
    port: int,
    requests: list[bytes],
    *,
    concurrency: int,
    rate: float | None = None,
    on_sent: Callable[[int], None] | None = None,
) -> LoadResult:
    """Send every prepared request once; see the module docstring for the two modes."""
    result = LoadResult()
    next_index = 0
    started = time.perf_counter()

    async def worker() -> None:
        nonlocal next_index
        connection = _Connection(host, port)
        try:
            while next_index < len(requests):
                index = next_index
                next_index += 1
                due = started + index / rate if rate else time.perf_counter()
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                for attempt in range(3):
                    try:
                        status = await connection.exchange(requests[index])
                        break
                    except (ConnectionError, asyncio.IncompleteReadError):
                        # The server closed a keep-alive connection as we reused it: send again.
                        result.reconnects += 1
                        await connection.close()
                        if attempt == 2:
                            raise
                result.latencies_ms.append((time.perf_counter() - due) * 1000)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if on_sent is not None:
                    on_sent(index)
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result
