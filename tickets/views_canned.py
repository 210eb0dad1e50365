"""Canned responses for one conversation: a searchable htmx list with each text filled in."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.decorators import requires
from accounts.models import User
from tickets.canned import canned_for, render_canned
from tickets.selectors import visible_conversations

LIMIT = 20


@requires(roles.WORK_INBOX)
@require_GET
def canned_list(request: HttpRequest, pk: int) -> HttpResponse:
    user = cast(User, request.user)
    conversation = get_object_or_404(visible_conversations(user).select_related("customer"), pk=pk)
    query = request.GET.get("q", "")[:100]
    items = [
        {"response": response, "text": render_canned(response, customer=conversation.customer, agent=user)}
        for response in canned_for(user, query)[:LIMIT]
    ]
    context = {"conversation": conversation, "items": items, "query": query}
    return render(request, "tickets/canned/_list.html", context)
