"""Reads for the visitor websocket: what one visitor may see of their own conversation."""

from __future__ import annotations

from channels_app.models import Channel
from channels_app.webchat import limits
from channels_app.webchat.protocol import ChatMessage
from channels_app.webchat.selectors import pending_visitor_messages
from profiles.models import Identity, IdentityKind
from tickets.attachment_links import link_item
from tickets.models import AttachmentStatus, Conversation, Direction, Message


def chat_message(message: Message) -> ChatMessage:
    if message.direction == Direction.INBOUND:
        # Visitor messages carry "<visitor id>:<client id>"; the widget knows them by the client id.
        message_id = (message.provider_message_id or "").partition(":")[2] or f"m{message.pk}"
        author = ""
    else:
        message_id = f"m{message.pk}"
        # First names only: a visitor has no business knowing the agent's login or full name.
        author = message.author.first_name if message.author else ""
    shown: ChatMessage = {
        "id": message_id,
        "direction": message.direction,
        "text": message.body,
        "at": message.created_at.isoformat(),
        "author": author,
    }
    if message.direction == Direction.OUTBOUND:
        files = [a for a in message.attachments.all() if a.status == AttachmentStatus.STORED and a.file]
        if files:
            shown["attachments"] = [link_item(a) for a in files]
    return shown


def visitor_history(
    *, channel: Channel, visitor_id: str, limit: int = limits.HISTORY_LIMIT
) -> list[ChatMessage]:
    """The latest conversation of this visitor on this channel, oldest first, plus anything still queued.

    Only messages that went through this channel are shown: a customer's email or WhatsApp thread that
    the same conversation continued from is none of the widget's business.
    """
    shown: list[ChatMessage] = []
    identity = Identity.objects.filter(kind=IdentityKind.WEBCHAT, value=visitor_id).first()
    if identity is not None:
        conversation = (
            Conversation.objects.filter(customer=identity.customer_id, messages__channel=channel)
            .order_by("-last_activity_at", "-id")
            .first()
        )
        if conversation is not None:
            recent = (
                Message.objects.filter(conversation=conversation, channel=channel)
                .select_related("author")
                .prefetch_related("attachments")
                .order_by("-created_at", "-id")[:limit]
            )
            shown = [chat_message(message) for message in reversed(recent)]
    # Messages a worker has not processed yet are the visitor's too; without them a quick reload
    # would make a just-sent message seem lost.
    known = {item["id"] for item in shown}
    for item in pending_visitor_messages(channel=channel, visitor_id=visitor_id, limit=limit):
        if item["id"] not in known:
            shown.append(item)
    return shown[-limit:]
