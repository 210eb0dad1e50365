"""Realtime events about conversations, and who receives them."""

from __future__ import annotations

from typing import TypedDict

from accounts.roles import Role
from core import realtime
from tickets.models import Conversation, Message

MESSAGE_CREATED = "message.created"
CONVERSATION_CREATED = "conversation.created"
MESSAGE_STATUS = "message.status"


class MessagePayload(TypedDict):
    conversation_id: int
    message_id: int
    channel_id: int
    channel_kind: str
    direction: str
    preview: str
    created_at: str


def audience(conversation: Conversation, *, channel_teams: dict[int, list[int]] | None = None) -> list[str]:
    """Everyone allowed to see the conversation: all-access roles, the channel's teams, the assignee.

    `channel_teams` caches each channel's team ids across calls, for callers that announce many
    messages at once.
    """
    cache = {} if channel_teams is None else channel_teams
    if conversation.channel_id not in cache:
        cache[conversation.channel_id] = list(conversation.channel.teams.values_list("id", flat=True))
    groups = [realtime.role_group(Role.MANAGER), realtime.role_group(Role.ADMIN)]
    groups += [realtime.team_group(team_id) for team_id in cache[conversation.channel_id]]
    if conversation.team_id:
        groups.append(realtime.team_group(conversation.team_id))
    if conversation.assignee_id:
        groups.append(realtime.user_group(conversation.assignee_id))
    return sorted(set(groups))


def notify_message_created(
    message: Message, *, new_conversation: bool, channel_teams: dict[int, list[int]] | None = None
) -> None:
    conversation = message.conversation
    payload: MessagePayload = {
        "conversation_id": conversation.pk,
        "message_id": message.pk,
        "channel_id": message.channel_id,
        "channel_kind": message.channel.kind,
        "direction": message.direction,
        "preview": message.body[:140],
        "created_at": message.created_at.isoformat(),
    }
    groups = audience(conversation, channel_teams=channel_teams)
    if new_conversation:
        realtime.publish(groups, CONVERSATION_CREATED, dict(payload))
    realtime.publish(groups, MESSAGE_CREATED, dict(payload))
