"""How surveys react to conversations: in-chat answers are taken before they become messages, and a
resolved conversation may earn its customer an invitation."""

from __future__ import annotations

from accounts.models import User
from core import events as domain_events
from surveys.chat_answers import try_record_chat_answer
from surveys.selectors import follow_up_for_conversation
from surveys.triggers import on_conversation_resolved
from tickets.inbound_points import InboundMessageArriving
from tickets.models import Conversation
from tickets.page_extensions import add_conversation_context


def take_chat_answer(point: InboundMessageArriving) -> bool | None:
    """True when the message was a survey answer (recorded, so no conversation is touched)."""
    return True if try_record_chat_answer(point.channel, point.message, point.customer) else None


def invite_after_resolution(event: domain_events.ConversationResolved) -> None:
    # After the commit, so the rows are read back; a survey problem never undoes a resolution.
    conversation = (
        Conversation.objects.select_related("channel", "customer").filter(pk=event.conversation_id).first()
    )
    if conversation is None:
        return
    actor = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    on_conversation_resolved(conversation, actor)


def register() -> None:
    domain_events.add_interceptor(InboundMessageArriving, take_chat_answer, order=10)
    domain_events.subscribe(domain_events.ConversationResolved, invite_after_resolution)
    add_conversation_context("follow_up", follow_up_for_conversation)
