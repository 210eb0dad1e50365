"""A per-connection sliding-window limit for websocket messages (a socket is served by one process)."""

from __future__ import annotations

import time
from collections import deque


class SlidingWindow:
    def __init__(self, limit: int, window_s: float):
        self.limit = limit
        self.window_s = window_s
        self._at: deque[float] = deque()

    def allow(self, now: float | None = None) -> bool:
        """Count one message; False (and not counted) once `limit` fell within the last `window_s`."""
        now = time.monotonic() if now is None else now
        while self._at and now - self._at[0] > self.window_s:
            self._at.popleft()
        if len(self._at) >= self.limit:
            return False
        self._at.append(now)
        return True

    def full(self, now: float | None = None) -> bool:
        """Whether the next message would be refused, without counting one."""
        now = time.monotonic() if now is None else now
        while self._at and now - self._at[0] > self.window_s:
            self._at.popleft()
        return len(self._at) >= self.limit
