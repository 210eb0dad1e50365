"""Any table a dashboard shows, as CSV or XLSX: the view hands its tables over, this answers the download.

A dashboard view builds its tables as ``ExportTable`` (the same headers and rows it renders) and starts
with ``response = table_download(request, filters, tables)``: when the request asks for a file
(``?export=csv&table=agents`` on the view's own URL, filters included) that is the answer, otherwise
it is None and the page renders. The buttons are ``analytics/exports_buttons.html``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, StreamingHttpResponse

from accounts import roles
from analytics.exports_format import FORMATS, Format, download
from analytics.filters import DashboardFilters

EXPORT_PARAM = "export"
TABLE_PARAM = "table"


@dataclass(frozen=True)
class ExportTable:
    key: str  # ASCII, unique on its page; names the file
    title: str  # shown and used as the sheet name
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]


def requested_format(request: HttpRequest) -> Format | None:
    value = request.GET.get(EXPORT_PARAM, "")
    return next((fmt for fmt in FORMATS if fmt == value), None)


def file_name(what: str, filters: DashboardFilters) -> str:
    """``what_2026-11-01_2026-11-30``: the range as the inclusive local days the viewer chose."""
    zone = filters.zone
    first = filters.start.astimezone(zone).date()
    last = (filters.end - timedelta(microseconds=1)).astimezone(zone).date()
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in what) or "export"
    return f"{safe}_{first:%Y-%m-%d}_{last:%Y-%m-%d}"


def table_download(
    request: HttpRequest, filters: DashboardFilters, tables: Iterable[ExportTable]
) -> StreamingHttpResponse | None:
    fmt = requested_format(request)
    if fmt is None:
        return None
    if not request.user.has_perm(roles.EXPORT_DATA):
        raise PermissionDenied
    key = request.GET.get(TABLE_PARAM, "")
    table = next((t for t in tables if t.key == key), None)
    if table is None:
        raise Http404
    return download(
        request,
        fmt=fmt,
        headers=[str(h) for h in table.headers],
        rows=table.rows,
        zone=filters.zone,
        filename=file_name(table.key, filters),
        sheet=str(table.title),
    )
