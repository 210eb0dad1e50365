"""Writing rows as a CSV or XLSX download that streams with flat memory, whatever the number of rows.

Rows are plain Python values (str, int, float, aware datetime, None). Both formats neutralise text
against formula injection (core.spreadsheets): XlsxWriter would otherwise turn a string starting with
"=" into a live formula, and Excel runs CSV cells the same way. Datetimes are written in the viewer's
time zone: as text in CSV, as real dates in XLSX.

XLSX is a zip, complete only when the last row is in: rows go through XlsxWriter's ``constant_memory``
mode (one row in memory at a time) into a temporary file, which is then streamed in chunks.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import xlsxwriter
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse

from core.spreadsheets import as_async, csv_lines, in_chunks, neutralise

Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")
CSV_LINES_PER_CHUNK = 500
FILE_CHUNK = 64 * 1024
XLSX_MAX_ROWS = 1_048_576  # Excel's limit per sheet, header included; more rows continue on a new sheet
XLSX_MAX_CELL = 32_767
_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_WORKBOOK_OPTIONS = {
    "constant_memory": True,
    # Never interpret text: a neutralised cell must stay the text it is.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


def _local(value: datetime, zone: ZoneInfo) -> datetime:
    return value.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _csv_cell(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return _local(value, zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.10g}"
    return value


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, zone: ZoneInfo) -> Iterator[str]:
    lines = csv_lines(headers, ([_csv_cell(v, zone) for v in row] for row in rows))
    return in_chunks(lines, CSV_LINES_PER_CHUNK)


def xlsx_chunks(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, zone: ZoneInfo, sheet: str = ""
) -> Iterator[bytes]:
    """The workbook's bytes in chunks; nothing is yielded until every row has been written."""
    with tempfile.TemporaryFile() as file:
        workbook = xlsxwriter.Workbook(file, _WORKBOOK_OPTIONS)
        bold = workbook.add_format({"bold": True})
        when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        title = _sheet_name(sheet)
        worksheet, row_number, sheets = None, XLSX_MAX_ROWS, 0
        for row in rows:
            if row_number >= XLSX_MAX_ROWS:
                sheets += 1
                worksheet = workbook.add_worksheet(title if sheets == 1 else f"{title[:26]} ({sheets})")
                worksheet.freeze_panes(1, 0)
                for col, header in enumerate(headers):
                    worksheet.write_string(0, col, neutralise(header), bold)
                row_number = 1
            assert worksheet is not None
            for col, value in enumerate(row):
                _write(worksheet, row_number, col, value, zone, when)
            row_number += 1
        if worksheet is None:  # no rows: still a workbook with its header
            worksheet = workbook.add_worksheet(title)
            for col, header in enumerate(headers):
                worksheet.write_string(0, col, neutralise(header), bold)
        workbook.close()
        file.seek(0)
        while chunk := file.read(FILE_CHUNK):
            yield chunk


def _write(worksheet: Any, row: int, col: int, value: Any, zone: ZoneInfo, when: Any) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        worksheet.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        worksheet.write_number(row, col, value)
    elif isinstance(value, datetime):
        worksheet.write_datetime(row, col, _local(value, zone), when)
    else:
        worksheet.write_string(row, col, neutralise(value)[:XLSX_MAX_CELL])


def _sheet_name(name: str) -> str:
    # Excel refuses these characters and names longer than 31.
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in name).strip()
    return cleaned[:31] or "Export"


def download(
    request: HttpRequest,
    *,
    fmt: Format,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    zone: ZoneInfo,
    filename: str,
    sheet: str = "",
) -> StreamingHttpResponse:
    """A streamed attachment; under ASGI each chunk is pulled through a thread as it is sent."""
    chunks: Iterator[Any]
    if fmt == "xlsx":
        chunks = xlsx_chunks(headers, rows, zone=zone, sheet=sheet)
    else:
        chunks = csv_chunks(headers, rows, zone=zone)
    content = as_async(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type=_CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
