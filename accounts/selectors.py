from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.utils.crypto import constant_time_compare

from accounts.models import Team, User
from core import realtime


def realtime_groups_for(user: User) -> list[str]:
    """The Channels groups a user's socket joins; publishers pick among these."""
    team_ids = list(user.teams.values_list("id", flat=True))
    return [realtime.user_group(user.pk), realtime.role_group(user.role)] + [
        realtime.team_group(team_id) for team_id in team_ids
    ]


@dataclass(frozen=True)
class SocketRights:
    user: User
    groups: frozenset[str]


def socket_rights(session_key: str | None) -> SocketRights | None:
    """What a socket opened with this session may receive now; None when the session no longer counts.

    The same test Django applies to a request (the session exists and has not expired, names an active
    user, and carries the hash of that user's current password), read only: nothing is flushed here.
    """
    if not session_key:
        return None
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key).load()
    backend_path = data.get(BACKEND_SESSION_KEY)
    if SESSION_KEY not in data or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    try:
        user_id = User._meta.pk.to_python(data[SESSION_KEY])
    except ValidationError:
        return None
    backend = load_backend(backend_path)
    user = backend.get_user(user_id) if hasattr(backend, "get_user") else None
    if user is None or not user.is_active:
        return None
    session_hash = data.get(HASH_SESSION_KEY) or ""
    expected = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not session_hash or not any(constant_time_compare(session_hash, h) for h in expected):
        return None
    return SocketRights(user=user, groups=frozenset(realtime_groups_for(user)))


def is_active_user(user_id: int) -> bool:
    return User.objects.filter(pk=user_id, is_active=True).exists()


def users_for_settings() -> QuerySet[User]:
    return User.objects.order_by("username").prefetch_related("teams")


def teams_for_settings() -> QuerySet[Team]:
    return Team.objects.annotate(member_count=Count("members")).order_by("name")
