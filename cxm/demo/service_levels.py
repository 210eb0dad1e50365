"""SLA deadlines of the demo history, set by the rules of tickets.sla as the messages would have set them.

Each customer message and agent reply is replayed as the SLA event it was when it arrived, at its own
time, then the resolution; the first response becomes known at the first reply, as it did then. The
rules are tickets.sla's own (the same policy choice, business hours, holidays and per-event rule that
do_apply_sla runs), applied in memory and written in one statement: do_apply_sla takes one moment per
call, and calling it per message costs three queries each, most of the seeding time.
"""

from __future__ import annotations

from collections.abc import Sequence

from tickets import sla
from tickets.models import Conversation, ConversationStatus, Direction, Message

_FIELDS = (
    "sla_policy",
    "waiting_since",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
)


def replay_sla(history: Sequence[tuple[Conversation, Sequence[Message]]]) -> None:
    policies = sla._active_policies()
    calendars = sla._Calendars.load(policies)
    for conversation, messages in history:
        policy = sla.pick_policy(policies, channel_id=conversation.channel_id, priority=conversation.priority)
        status, answered_at = conversation.status, conversation.first_response_at
        for name in _FIELDS:
            setattr(conversation, name, None)
        # As the messages arrived: the conversation open, nobody had answered yet.
        conversation.status, conversation.first_response_at = ConversationStatus.OPEN, None
        for message in sorted(messages, key=lambda m: (m.created_at, m.pk or 0)):
            if message.direction == Direction.INBOUND:
                sla._apply(conversation, "customer_message", message.created_at, policy, calendars)
            else:
                conversation.first_response_at = conversation.first_response_at or message.created_at
                sla._apply(conversation, "agent_reply", message.created_at, policy, calendars)
        conversation.status, conversation.first_response_at = status, answered_at
        if status == ConversationStatus.RESOLVED and conversation.resolved_at is not None:
            sla._apply(conversation, "resolved", conversation.resolved_at, policy, calendars)
    sla._update([conversation for conversation, _ in history])
