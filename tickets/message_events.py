"""The domain events a stored message announces, built the same way on every path that stores one."""

from __future__ import annotations

from core import events as domain_events
from tickets.models import Direction, Message


def message_event(message: Message, *, new_conversation: bool) -> domain_events.DomainEvent:
    conversation = message.conversation
    if message.direction == Direction.INBOUND:
        return domain_events.MessageReceived(
            message_id=message.pk,
            conversation_id=conversation.pk,
            customer_id=conversation.customer_id,
            channel_id=message.channel_id,
            channel_kind=message.channel.kind,
            new_conversation=new_conversation,
            sent_at=message.created_at,
        )
    return domain_events.MessageSent(
        message_id=message.pk,
        conversation_id=conversation.pk,
        customer_id=conversation.customer_id,
        channel_id=message.channel_id,
        author_id=message.author_id,
        new_conversation=new_conversation,
    )


def conversation_events(message: Message, *, new_conversation: bool) -> list[domain_events.DomainEvent]:
    """The message's event, preceded by the conversation's when the message opened it."""
    found: list[domain_events.DomainEvent] = []
    if new_conversation:
        conversation = message.conversation
        found.append(
            domain_events.ConversationCreated(
                conversation_id=conversation.pk,
                customer_id=conversation.customer_id,
                channel_id=message.channel_id,
            )
        )
    found.append(message_event(message, new_conversation=new_conversation))
    return found


def publish_message(message: Message, *, new_conversation: bool) -> None:
    domain_events.publish_many(conversation_events(message, new_conversation=new_conversation))
