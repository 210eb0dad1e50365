"""Messages this thread has just stored, kept for the subscribers of the same commit.

The recorder of a run already holds each message with its conversation and channel; reading them back
after the commit cost the worker about a fifth of its time at a million messages. Only objects that are
final when the commit's events are published belong here. Anything not found is read from the database,
so a miss costs a query, never a wrong announcement.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from tickets.models import Message

# A transaction that rolls back never announces its messages; the cap keeps such leftovers bounded.
_LIMIT = 10_000
_local = threading.local()


def _rows() -> dict[int, Message]:
    rows = getattr(_local, "rows", None)
    if rows is None:
        rows = _local.rows = {}
    return rows


def remember(messages: Iterable[Message]) -> None:
    rows = _rows()
    if len(rows) > _LIMIT:
        rows.clear()
    rows.update((message.pk, message) for message in messages)


def take(ids: Iterable[int]) -> dict[int, Message]:
    """The remembered messages among `ids` (forgotten once taken), plus the others read in one query."""
    rows = _rows()
    found = {pk: rows.pop(pk) for pk in ids if pk in rows}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        found.update(Message.objects.select_related("conversation__channel", "channel").in_bulk(missing))
    return found
