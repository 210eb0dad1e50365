from __future__ import annotations

import functools

from django.shortcuts import render
from django.template import Engine, Template
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.decorators import requires
from tickets.models import ConversationStatus
from tickets.search import MIN_QUERY_LENGTH, clean_query, search_customers, search_messages


@require_GET
@requires(roles.WORK_INBOX)
def search(request):
    query = clean_query(request.GET.get("q", ""))
    status = request.GET.get("status")
    if status not in ConversationStatus.values:
        status = None
    before = request.GET.get("before") or None
    searched = len(query) >= MIN_QUERY_LENGTH
    page = search_messages(request.user, query, status=status, before=before) if searched else None
    # Customers only on the first page: "more messages" requests append message hits alone.
    customers = search_customers(request.user, query, limit=8) if searched and not before else []
    context = {
        "query": query,
        "status": status,
        "statuses": ConversationStatus.choices,
        "searched": searched,
        "too_short": bool(query) and not searched,
        "min_length": MIN_QUERY_LENGTH,
        "page": page,
        "customers": customers,
        "more": bool(before),
    }
    if request.htmx and not request.htmx.boosted:
        # The page's own template extends a parent holding only the block htmx swaps in, so the
        # fragments and the full page cannot drift apart.
        context["layout"] = _fragment_layout("hits" if before else "results")
    return render(request, "tickets/search.html", context)


@functools.cache
def _fragment_layout(block: str) -> Template:
    return Engine.get_default().from_string(f"{{% block {block} %}}{{% endblock %}}")
