from __future__ import annotations

from django.db.models import Count, QuerySet

from accounts.models import Team, User
from cxm import realtime


def realtime_groups_for(user: User) -> list[str]:
    """The Channels groups a user's socket joins; publishers pick among these."""
    team_ids = list(user.teams.values_list("id", flat=True))
    return [realtime.user_group(user.pk), realtime.role_group(user.role)] + [
        realtime.team_group(team_id) for team_id in team_ids
    ]


def is_active_user(user_id: int) -> bool:
    return User.objects.filter(pk=user_id, is_active=True).exists()


def users_for_settings() -> QuerySet[User]:
    return User.objects.order_by("username").prefetch_related("teams")


def teams_for_settings() -> QuerySet[Team]:
    return Team.objects.annotate(member_count=Count("members")).order_by("name")
