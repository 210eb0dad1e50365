"""Agent replies: a Message row for the thread and an OutboundMessage for delivery, in one transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from channels_app.kinds import ChannelKind
from channels_app.models import Channel
from channels_app.outbound import do_queue_outbound
from profiles.models import Identity, IdentityKind
from tickets import events
from tickets.models import Conversation, Direction, Message

# Which of the customer's identities a channel of each kind can reach.
IDENTITY_FOR_CHANNEL: dict[str, str] = {
    ChannelKind.EMAIL: IdentityKind.EMAIL,
    ChannelKind.SMS: IdentityKind.PHONE,
    ChannelKind.WHATSAPP: IdentityKind.WHATSAPP,
    ChannelKind.TELEGRAM: IdentityKind.TELEGRAM,
    ChannelKind.MESSENGER: IdentityKind.MESSENGER,
    ChannelKind.INSTAGRAM: IdentityKind.INSTAGRAM,
    ChannelKind.WEBCHAT: IdentityKind.WEBCHAT,
    ChannelKind.API: IdentityKind.EXTERNAL_ID,
}


class ReplyError(ValueError):
    pass


def recipient_for(*, conversation: Conversation, channel: Channel) -> str:
    kind = IDENTITY_FOR_CHANNEL[channel.kind]
    identity = (
        Identity.objects.filter(customer=conversation.customer_id, kind=kind).order_by("-created_at").first()
    )
    if identity is None:
        raise ReplyError(f"the customer has no {kind} identity to reach through {channel}")
    return identity.value


def email_threading(conversation: Conversation) -> dict[str, object]:
    """In-Reply-To/References so the customer's mail client files the reply under their message."""
    rows = (
        Message.objects.filter(conversation=conversation, channel__kind=ChannelKind.EMAIL)
        .order_by("created_at", "id")
        .values_list("provider_message_id", "delivery__provider_message_id")
    )
    # Inbound mail carries the customer's Message-ID; our own sent mail has its id on the delivery row.
    ids = [inbound or sent for inbound, sent in rows if inbound or sent]
    if not ids:
        return {}
    subject = conversation.subject or ""
    if subject and not subject.lower().startswith(("re:", "odp:", "ответ:")):
        subject = f"Re: {subject}"
    return {"in_reply_to": ids[-1], "references": ids[-20:], "subject": subject}


@transaction.atomic
def do_send_reply(*, conversation: Conversation, author: User, channel: Channel, text: str) -> Message:
    if not text.strip():
        raise ReplyError("a reply needs some text")
    recipient = recipient_for(conversation=conversation, channel=channel)
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=Direction.OUTBOUND,
        author=author,
        body=text,
        created_at=now,
    )
    payload: dict[str, object] = {"text": text}
    if channel.kind == ChannelKind.EMAIL:
        payload.update(email_threading(conversation))
        payload.setdefault("subject", conversation.subject or "")
    do_queue_outbound(channel=channel, recipient=recipient, payload=payload, message=message)
    fields = ["last_activity_at"]
    conversation.last_activity_at = now
    if conversation.first_response_at is None:
        conversation.first_response_at = now
        fields.append("first_response_at")
    conversation.save(update_fields=fields)
    events.notify_message_created(message, new_conversation=False)
    return message
