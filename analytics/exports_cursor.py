"""Reading a large queryset for an export: one query, read through a server-side cursor in pages.

The querysets behind dashboard numbers are drills (``pk IN (subquery over the facts)``), so paging them
by keyset would run that subquery again for every page. One query through a server-side cursor
(Django's ``iterator``) runs it once; rows arrive ``PAGE`` at a time, and Python holds one page at a
time whatever the size of the export. Outside a transaction Django declares the cursor WITH HOLD, so
PostgreSQL keeps the result on its side until the download ends or is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any

from django.db.models import QuerySet

PAGE = 2000


def rows(
    qs: QuerySet[Any],
    *,
    fields: Sequence[str],
    build: Callable[[list[tuple[Any, ...]]], Iterator[Sequence[Any]]],
    order: Sequence[str] = ("created_at", "pk"),
    size: int = 0,
) -> Iterator[Sequence[Any]]:
    """Export rows: ``values_list(*fields)`` pages, each handed to ``build``, which may read what the
    page needs in one more query (labels, facts) and yields the page's rows."""
    size = size or PAGE
    values = qs.order_by(*order).values_list(*fields).iterator(chunk_size=size)
    while page := list(islice(values, size)):
        yield from build(page)
