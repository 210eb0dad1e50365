"""Cells and CSV lines for spreadsheets, shared by every export (customers, import reports, dashboards).

Every cell is neutralised against formula injection: spreadsheet programs run a cell that starts with
= + - @ (or a tab or carriage return ahead of one) as a formula, and exported data comes from
strangers. Such cells get a leading single quote. CSV files start with a UTF-8 BOM so Excel reads them
as UTF-8 rather than the machine's code page.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from asgiref.sync import sync_to_async

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 1000

ChunkT = TypeVar("ChunkT")


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


def in_chunks(lines: Iterable[str], size: int = CHUNK) -> Iterator[str]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= size:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


async def as_async(chunks: Iterator[ChunkT]) -> AsyncIterator[ChunkT]:
    """Under ASGI a plain iterator would be read to the end into memory before the first byte goes
    out; pulling one chunk at a time through a thread keeps a large export streaming."""
    pull = sync_to_async(lambda: next(chunks, None), thread_sensitive=True)
    while (chunk := await pull()) is not None:
        yield chunk
