"""Active channels by id, remembered in process memory for a few seconds.

Every webhook needs its channel (kind, secrets, settings) before it can check a signature. Reading
and decrypting the row costs more than storing the delivery itself, and it is the same row for
thousands of deliveries a second. A change made in this process is seen at once (the services call
`forget`); other processes see it within `WEBHOOK_CHANNEL_CACHE_SECONDS`.
"""

from __future__ import annotations

import time

from django.conf import settings

from channels_app.models import Channel

# Unknown ids are not remembered, so requests for made-up channels cannot fill this up.
_entries: dict[int, tuple[float, Channel]] = {}


def cached_channel(channel_id: int) -> Channel | None:
    """The remembered channel if it is fresh enough; never touches the database (safe in async code)."""
    entry = _entries.get(channel_id)
    if entry is not None and time.monotonic() - entry[0] < settings.WEBHOOK_CHANNEL_CACHE_SECONDS:
        return entry[1]
    return None


def active_channel(channel_id: int) -> Channel | None:
    cached = cached_channel(channel_id)
    if cached is not None:
        return cached
    now = time.monotonic()
    channel = Channel.objects.filter(pk=channel_id, is_active=True).first()
    if channel is None:
        _entries.pop(channel_id, None)
    else:
        _entries[channel_id] = (now, channel)
    return channel


def forget(channel_id: int | None = None) -> None:
    """Drop one channel (or all) so the next delivery reads it afresh."""
    if channel_id is None:
        _entries.clear()
    else:
        _entries.pop(channel_id, None)
