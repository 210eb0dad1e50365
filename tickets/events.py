"""Realtime events about conversations, and who receives them."""

from __future__ import annotations

from typing import TypedDict

from accounts.roles import Role
from cxm import realtime
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


def audience(conversation: Conversation) -> list[str]:
    """Everyone allowed to see the conversation: all-access roles, the channel's teams, the assignee."""
    groups = [realtime.role_group(Role.MANAGER), realtime.role_group(Role.ADMIN)]
    groups += [
        realtime.team_group(team_id) for team_id in conversation.channel.teams.values_list("id", flat=True)
    ]
    if conversation.team_id:
        groups.append(realtime.team_group(conversation.team_id))
    if conversation.assignee_id:
        groups.append(realtime.user_group(conversation.assignee_id))
    return sorted(set(groups))


def notify_message_created(message: Message, *, new_conversation: bool) -> None:
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
    groups = audience(conversation)
    if new_conversation:
        realtime.publish(groups, CONVERSATION_CREATED, dict(payload))
    realtime.publish(groups, MESSAGE_CREATED, dict(payload))
