"""Writes for conversations and messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from channels_app.models import Channel, InboundEvent
from channels_app.normalized import NormalizedMessage
from core import events as domain_events
from profiles import timeline
from profiles.models import Customer
from profiles.normalize import normalize_or_keep
from profiles.reveal import do_attach_revealed
from profiles.services import do_resolve_sender, fill_identity_display, lock_customer
from tickets.assignment import do_auto_assign
from tickets.attachments import do_store_attachments
from tickets.cleaning import clean_json, clean_text
from tickets.inbound_points import InboundMessageArriving
from tickets.message_events import publish_message
from tickets.models import Conversation, ConversationStatus, Direction, Message
from tickets.sla import do_apply_sla
from tickets.threading import find_conversation


@transaction.atomic
def do_record_inbound_message(
    *, channel: Channel, message: NormalizedMessage, event: InboundEvent | None = None
) -> Message | None:
    """Store a customer's message in the right conversation; None if it was already stored or was a
    survey answer."""
    message = clean_message(message)
    region = channel.config.get("default_region", "")
    customer = do_resolve_sender(
        kind=message.sender.kind, value=message.sender.value, display=message.sender.display, region=region
    )
    # One writer per customer at a time: two messages from a new person must not open two conversations.
    customer = lock_customer(customer)
    fill_identity_display(
        customer=customer,
        kind=message.sender.kind,
        value=normalize_or_keep(message.sender.kind, message.sender.value, region),
        display=message.sender.display,
    )
    if Message.objects.filter(channel=channel, provider_message_id=message.provider_message_id).exists():
        return None
    # A survey answer (a pressed button, a bare score) is recorded as one and opens no conversation.
    if domain_events.intercept_first(
        InboundMessageArriving(channel=channel, message=message, customer=customer)
    ):
        return None

    now = timezone.now()
    sent_at = min(message.sent_at or now, now)
    conversation = find_conversation(channel=channel, customer=customer, message=message)
    new_conversation = conversation is None
    if conversation is None:
        conversation = Conversation.objects.create(
            customer=customer,
            channel=channel,
            subject=(message.subject or message.text)[:300],
            status=ConversationStatus.RESOLVED if message.automated else ConversationStatus.OPEN,
            created_at=sent_at,
            last_activity_at=sent_at,
        )
        do_auto_assign(conversations=[conversation])
    else:
        _touch(conversation, at=sent_at, reopen=not message.automated)

    if not message.automated:
        do_apply_sla(conversations=[conversation], event="customer_message", at=sent_at)
    stored = inbound_message_row(
        channel=channel, message=message, conversation=conversation, sent_at=sent_at, event=event
    )
    stored.save(force_insert=True)
    if message.attachments:
        do_store_attachments(message=stored, attachments=message.attachments)
    Customer.objects.filter(pk=customer.pk).update(last_seen_at=now)
    timeline.record_message(stored, new_conversation=new_conversation)
    if not message.automated:
        do_attach_revealed(customer=customer, message=stored, channel=channel, region=region)
    publish_message(stored, new_conversation=new_conversation)
    return stored


def inbound_message_row(
    *,
    channel: Channel,
    message: NormalizedMessage,
    conversation: Conversation,
    sent_at: datetime,
    event: InboundEvent | None,
) -> Message:
    """The unsaved row of a customer's (cleaned) message, for one insert or many."""
    metadata = dict(message.metadata)
    metadata["sender"] = {"kind": message.sender.kind, "value": message.sender.value}
    if message.thread_id:
        metadata["thread_id"] = message.thread_id
    if message.automated:
        metadata["automated"] = message.automated
    return Message(
        conversation=conversation,
        channel=channel,
        direction=Direction.INBOUND,
        body=message.text,
        subject=message.subject[:300],
        html=message.html,
        full_text=message.metadata.get("full_text", ""),
        provider_message_id=message.provider_message_id,
        metadata=metadata,
        inbound_event=event,
        created_at=sent_at,
    )


def clean_message(message: NormalizedMessage) -> NormalizedMessage:
    return replace(
        message,
        sender=replace(
            message.sender, value=clean_text(message.sender.value), display=clean_text(message.sender.display)
        ),
        provider_message_id=clean_text(message.provider_message_id),
        text=clean_text(message.text),
        subject=clean_text(message.subject),
        html=clean_text(message.html),
        thread_id=clean_text(message.thread_id),
        in_reply_to=[clean_text(i) for i in message.in_reply_to],
        metadata=clean_json(message.metadata),
    )


def _touch(conversation: Conversation, *, at, reopen: bool) -> None:
    fields = []
    if at > conversation.last_activity_at:
        conversation.last_activity_at = at
        fields.append("last_activity_at")
    if reopen and conversation.status != ConversationStatus.OPEN:
        # A customer writing again needs an answer, whether the thread was resolved, snoozed or pending.
        conversation.status = ConversationStatus.OPEN
        conversation.resolved_at = None
        fields += ["status", "resolved_at"]
        domain_events.publish(
            domain_events.ConversationReopened(
                conversation_id=conversation.pk, customer_id=conversation.customer_id, actor_id=None
            )
        )
    if fields:
        conversation.save(update_fields=fields)
