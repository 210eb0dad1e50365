"""Realtime events: the one place event names and their payload shapes are defined.

Services publish after their transaction commits, to groups they choose explicitly; consumers
re-check permission for every event before it reaches a browser.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

# Event names (the `type` the browser sees). Later features add theirs here.
SYSTEM_NOTICE = "system.notice"
PONG = "pong"


class SystemNotice(TypedDict):
    level: str
    text: str


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def role_group(role: str) -> str:
    return f"role.{role}"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def publish_now(groups: Iterable[str], event_type: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "app.event", "event": event_type, "payload": payload}
    for group in groups:
        async_to_sync(layer.group_send)(group, message)


def publish(groups: Iterable[str], event_type: str, payload: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits (immediately when there is none)."""
    chosen = list(groups)
    transaction.on_commit(lambda: publish_now(chosen, event_type, payload))
