from __future__ import annotations

from django.db.models import OuterRef, Q, QuerySet, Subquery

from accounts import roles
from accounts.models import User
from tickets.models import Conversation, Message


def visible_conversations(user: User) -> QuerySet[Conversation]:
    """Conversations a user may see: all for all-access roles, else their teams' channels and their own."""
    qs = Conversation.objects.all()
    if user.has_perm(roles.VIEW_ALL_CONVERSATIONS):
        return qs
    team_ids = list(user.teams.values_list("id", flat=True))
    return qs.filter(Q(channel__teams__in=team_ids) | Q(team__in=team_ids) | Q(assignee=user)).distinct()


def inbox_page(user: User, *, status: str | None = None, limit: int = 50) -> list[Conversation]:
    last_message = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-id")
    qs = visible_conversations(user)
    if status:
        qs = qs.filter(status=status)
    qs = (
        qs.select_related("customer", "channel", "assignee", "team")
        .annotate(last_message_body=Subquery(last_message.values("body")[:1]))
        .order_by("-last_activity_at", "-id")
    )
    return list(qs[:limit])
