"""Web chat limits shared by every socket and process: per visitor and per client address, in Redis.

The per-socket window in the consumer stops one noisy tab; it does nothing against a script that opens
many sockets, each with a new anonymous visitor. These counters do: messages per minute per visitor and
per address, and visitors starting to chat per address per hour (each new visitor opens a conversation).
Fixed windows (INCR with an expiry) are enough here: the aim is a ceiling, not a smooth rate.
"""

from __future__ import annotations

import hashlib
import logging
import time

import redis

from channels_app.webchat import limits
from core.redis import get_redis

logger = logging.getLogger(__name__)
PREFIX = "webchat:limit"
_now = time.time  # the clock the windows are cut from


def _key(*parts: object) -> str:
    # Addresses and visitor ids are hashed so a key never carries them in the clear.
    return ":".join([PREFIX, *(hashlib.sha256(str(p).encode()).hexdigest()[:24] for p in parts)])


def _count(client: redis.Redis, key: str, window_s: int) -> int:
    window = int(_now() // window_s)
    pipe = client.pipeline()
    pipe.incr(f"{key}:{window}")
    pipe.expire(f"{key}:{window}", window_s + 1)
    return int(pipe.execute()[0])


def check_message(*, channel_id: int, visitor_id: str, address: str) -> str | None:
    """Count one message; the error code to send instead of storing it, or None when it may be stored."""
    try:
        client = get_redis()
        if _count(client, _key("visitor", channel_id, visitor_id), 60) > limits.VISITOR_MESSAGES_PER_MINUTE:
            return "rate_limited"
        if _count(client, _key("address", channel_id, address), 60) > limits.ADDRESS_MESSAGES_PER_MINUTE:
            return "rate_limited"
        # A visitor counts as new at its first message in the hour (that message opens a conversation).
        active = _key("active", channel_id, visitor_id)
        if client.set(active, b"1", nx=True, ex=3600):
            started = _count(client, _key("new", channel_id, address), 3600)
            if started > limits.ADDRESS_NEW_VISITORS_PER_HOUR:
                client.delete(active)  # still new next time, so still refused
                return "too_many_chats"
    except redis.RedisError:
        # The limits protect the inbox from floods; a Redis outage must not also silence every chat.
        logger.warning("web chat limits unavailable", exc_info=True)
    return None


def reset() -> None:
    """Forget every count (tests; an operator lifting a block)."""
    client = get_redis()
    keys = list(client.scan_iter(f"{PREFIX}:*", count=1000))
    if keys:
        client.delete(*keys)
