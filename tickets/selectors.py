from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts import roles
from accounts.models import Team, User
from channels_app.models import Channel
from tickets.models import Conversation


def visible_conversations(user: User) -> QuerySet[Conversation]:
    """Conversations a user may see: all for all-access roles, else their teams' channels and their own."""
    qs = Conversation.objects.all()
    if user.has_perm(roles.VIEW_ALL_CONVERSATIONS):
        return qs
    # Subqueries rather than joins: no repeated rows, so no DISTINCT that would get in the way of
    # ordering and keyset pages on annotated sort keys, and no extra query for the team ids.
    team_ids = Team.objects.filter(members=user).values("id")
    channel_ids = Channel.objects.filter(teams__in=team_ids).values("id")
    return qs.filter(Q(channel__in=channel_ids) | Q(team__in=team_ids) | Q(assignee=user))
