"""How a dashboard page answers: the whole page, or for htmx only the filtered part it swaps in.

Filters are a GET form that htmx submits on every change, pushing the new URL; the response is the
`#dashboard` region alone (filter bar and numbers), so the shell, the socket and the focus stay. A
history restore (back button after the cache is gone) and any non-htmx request get the full page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from analytics.views_common import Page, filter_choices


def export_links(page: Page) -> list[dict[str, str]]:
    """Row-level downloads of what the page counts, with the same filters (analytics/exports_views.py)."""
    links = []
    for name, what in (("export_conversations", _("Conversations")), ("export_answers", _("Answers"))):
        try:
            base = reverse(name)
        except NoReverseMatch:  # exports not installed: no buttons
            continue
        for fmt in ("csv", "xlsx"):
            query = f"{page.query}&export={fmt}" if page.query else f"export={fmt}"
            links.append(
                {"key": f"{name}-{fmt}", "label": f"{what} {fmt.upper()}", "href": f"{base}?{query}"}
            )
    return links


def render_dashboard(
    request: HttpRequest, page: Page, body_template: str, context: dict[str, Any], *, title: str
) -> HttpResponse:
    filters = page.filters
    now = timezone.now()
    context = {
        **context,
        "page": page,
        "filters": filters,
        "choices": filter_choices(filters),
        "body_template": body_template,
        "title": title,
        "local_from": filters.start.astimezone(filters.zone).date(),
        "local_to": (filters.end.astimezone(filters.zone) - timedelta(seconds=1)).date(),
        # Today's numbers update on their own only while the range reaches the present.
        "live": filters.start <= now < filters.end,
        "current_tab": request.resolver_match.url_name if request.resolver_match else "",
        "export_links": export_links(page),
        "segment_selected": () if filters.segment_id is None else (filters.segment_id,),
        "language_selected": (filters.language,) if filters.language else (),
    }
    htmx = getattr(request, "htmx", None)
    partial = htmx is not None and bool(htmx) and not htmx.history_restore_request
    template = "analytics/_dashboard.html" if partial else "analytics/page.html"
    if partial and htmx is not None and htmx.target == "dashboard-numbers":
        template = "analytics/_numbers.html"  # the live refresh: the numbers alone
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
