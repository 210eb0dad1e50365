"""CSV files for spreadsheets: customer exports and import reports.

Every cell is neutralised against formula injection: spreadsheet programs run a cell that starts with
= + - @ (or a tab or carriage return ahead of one) as a formula, and customer data comes from
strangers. Such cells get a leading single quote. Files start with a UTF-8 BOM so Excel reads them as
UTF-8 rather than the machine's code page.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.db.models import Prefetch, QuerySet

from profiles.models import AttributeDefinition, Customer, Identity, IdentityKind

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 1000
PROFILE_COLUMNS = ("id", "name", "company", "locale", "timezone", "location", "created_at", "last_seen_at")


def neutralise(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Line:
    """csv.writer needs a file; this one hands back each formatted line instead of storing it."""

    def write(self, line: str) -> str:
        return line


def csv_lines(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield BOM + writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def in_chunks(lines: Iterable[str], size: int = 0) -> Iterator[str]:
    size = size or CHUNK
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= size:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


async def as_async(chunks: Iterator[str]) -> AsyncIterator[str]:
    """Under ASGI a plain iterator would be read to the end into memory before the first byte goes
    out; pulling one chunk at a time through a thread keeps a large export streaming."""
    pull = sync_to_async(lambda: next(chunks, None), thread_sensitive=True)
    while (chunk := await pull()) is not None:
        yield chunk


def customer_table(customers: QuerySet[Customer]) -> tuple[list[str], Iterator[list[Any]]]:
    """The export's header and rows: profile fields, one column per identity kind (several values
    joined with "; "), one per custom attribute. Pages by id rather than holding a cursor open, so a
    slow download never pins a database connection between chunks."""
    keys = list(AttributeDefinition.objects.order_by("key").values_list("key", flat=True))
    kinds = list(IdentityKind.values)
    header = [*PROFILE_COLUMNS, *kinds, *keys]
    identities = Prefetch("identities", queryset=Identity.objects.order_by("kind", "value"))

    def rows() -> Iterator[list[Any]]:
        last = 0
        while True:
            page = list(customers.filter(pk__gt=last).order_by("pk").prefetch_related(identities)[:CHUNK])
            for customer in page:
                values: dict[str, list[str]] = {}
                for identity in customer.identities.all():
                    values.setdefault(identity.kind, []).append(identity.value)
                yield [
                    *(getattr(customer, name) for name in PROFILE_COLUMNS),
                    *("; ".join(values.get(kind, [])) for kind in kinds),
                    *(customer.attributes.get(key) for key in keys),
                ]
            if len(page) < CHUNK:
                return
            last = page[-1].pk

    return header, rows()
