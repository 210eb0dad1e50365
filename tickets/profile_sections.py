"""The profile page's conversation sections, and the visibility policy profiles reads the page through."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Min, Q

from core.events import add_interceptor
from profiles import profile_sections
from profiles.profile_sections import CONVERSATIONS, FIGURES, HistoryViewerWanted
from profiles.selectors_profile import LifetimeFigures
from tickets.models import ConversationStatus
from tickets.visibility import Visibility, visibility_for

CONVERSATIONS_ON_PAGE = 10


def viewer(call: HistoryViewerWanted) -> Visibility:
    return visibility_for(call.user)


def figures(customer_id: int, viewer: Visibility) -> LifetimeFigures:
    # One query: conversations are counted distinct because the join to messages repeats them.
    totals = (
        viewer.conversations()
        .filter(customer_id=customer_id)
        .aggregate(
            conversations=Count("id", distinct=True),
            open_conversations=Count("id", distinct=True, filter=~Q(status=ConversationStatus.RESOLVED)),
            messages=Count("messages"),
            first=Min("created_at"),
            last=Max("last_activity_at"),
        )
    )
    return LifetimeFigures(
        conversations=totals["conversations"] or 0,
        open_conversations=totals["open_conversations"] or 0,
        messages=totals["messages"] or 0,
        first_seen=totals["first"],
        last_seen=totals["last"],
    )


def recent_conversations(customer_id: int, viewer: Visibility) -> list[Any]:
    return list(
        viewer.conversations()
        .filter(customer_id=customer_id)
        .select_related("channel", "assignee")
        .order_by("-last_activity_at", "-id")[:CONVERSATIONS_ON_PAGE]
    )


def register() -> None:
    add_interceptor(HistoryViewerWanted, viewer, order=10)
    profile_sections.register(FIGURES, figures)
    profile_sections.register(CONVERSATIONS, recent_conversations)
