"""One shared Redis client for the process (health checks, heartbeats, locks)."""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=1)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2, health_check_interval=30)


def get_redis() -> redis.Redis:
    """The Redis client (a configured server, or the embedded default's private one)."""
    return _client(settings.REDIS_URL)
