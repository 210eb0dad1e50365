"""Which conversation an inbound message belongs to."""

from __future__ import annotations

from channels_app.models import Channel
from channels_app.normalized import NormalizedMessage
from profiles.models import Customer
from tickets.models import Conversation, ConversationStatus, Message

THREADING_CONTINUE = "continue"
THREADING_NEW = "new"


def find_conversation(
    *, channel: Channel, customer: Customer, message: NormalizedMessage
) -> Conversation | None:
    """The existing conversation to append to, or None to open a new one.

    Order: explicit reply headers (email), then the provider's thread id, then, when the channel
    continues conversations, the customer's latest unresolved conversation on any channel, so that
    chat-then-email reads as one dialogue. Automated mail (auto-replies, bounces) attaches to the
    latest conversation whatever its state, because it must never start one.
    """
    own = Message.objects.filter(conversation__customer=customer)
    if message.in_reply_to:
        replied = (
            own.filter(provider_message_id__in=message.in_reply_to).select_related("conversation").first()
        )
        if replied is not None:
            return replied.conversation
        # ... or to a message we sent, whose Message-ID lives on its delivery row.
        answered = (
            own.filter(delivery__provider_message_id__in=message.in_reply_to)
            .select_related("conversation")
            .first()
        )
        if answered is not None:
            return answered.conversation
    if message.thread_id:
        threaded = (
            own.filter(channel=channel, metadata__thread_id=message.thread_id)
            .select_related("conversation")
            .order_by("-created_at")
            .first()
        )
        if threaded is not None:
            return threaded.conversation
    latest = Conversation.objects.filter(customer=customer).order_by("-last_activity_at", "-id")
    if message.automated:
        return latest.first()
    if channel.config.get("threading", THREADING_CONTINUE) == THREADING_CONTINUE:
        return latest.exclude(status=ConversationStatus.RESOLVED).first()
    return None
