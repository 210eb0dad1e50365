"""Canned responses: saved replies with a few placeholders filled from the customer and the agent.

The text is never run through Django's template engine (it is written by users): only the
whitelisted `{{ object.field }}` placeholders below are replaced, in one pass, so a value that itself
looks like a placeholder stays as it is. Unknown placeholders are left visible for the agent to fix.
The result is plain text; templates escape it when they show it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.db.models import Q, QuerySet

from accounts.models import User
from profiles.models import Customer
from tickets.models import CannedResponse

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]+\.[A-Za-z_]+)\s*\}\}")


def _first_word(text: str) -> str:
    parts = text.split()
    return parts[0] if parts else ""


FIELDS: dict[str, Callable[[Customer, User], str]] = {
    "customer.first_name": lambda customer, agent: _first_word(customer.name),
    "customer.name": lambda customer, agent: customer.name,
    "customer.company": lambda customer, agent: customer.company,
    "agent.first_name": lambda customer, agent: agent.first_name or agent.display_name,
    "agent.name": lambda customer, agent: agent.display_name,
}


def render_canned(response: CannedResponse, *, customer: Customer, agent: User) -> str:
    def fill(match: re.Match[str]) -> str:
        field = FIELDS.get(match.group(1))
        return match.group(0) if field is None else field(customer, agent)

    return PLACEHOLDER.sub(fill, response.body)


def canned_for(user: User, query: str = "") -> QuerySet[CannedResponse]:
    """The user's teams' canned responses and the global ones, matching `query` if given."""
    qs = CannedResponse.objects.filter(Q(team__isnull=True) | Q(team__members=user)).distinct()
    query = query.strip()
    if query:
        qs = qs.filter(
            Q(title__icontains=query) | Q(shortcut__icontains=query.lstrip("/")) | Q(body__icontains=query)
        )
    return qs.select_related("team").order_by("title", "pk")
