"""Which conversation an inbound message belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from channels_app.kinds import ChannelKind
from channels_app.models import Channel, OutboundMessage
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
    chat-then-email reads as one dialogue. Automated mail (auto-replies, bounces) has no customer and
    is placed by find_automated_target instead.
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
    if channel.config.get("threading", THREADING_CONTINUE) == THREADING_CONTINUE:
        return latest.exclude(status=ConversationStatus.RESOLVED).first()
    return None


@dataclass(frozen=True)
class AutomatedTarget:
    conversation: Conversation | None
    outbound: OutboundMessage | None  # the mail we sent that this answers or reports on


def find_automated_target(*, message: NormalizedMessage) -> AutomatedTarget:
    """The mail an auto-reply or a bounce refers to, by Message-ID, in every conversation.

    Its sender is no help: a bounce comes from mailer-daemon, and an out-of-office reply may come from
    another address than the one written to. The ids are our own outgoing Message-IDs (on delivery rows)
    or a customer's earlier mail; only email channels are searched, so each lookup uses the unique
    (channel, provider message id) indexes. A bounce only ever reports on mail we sent.
    """
    ids = [value for value in message.in_reply_to if value][:50]
    if not ids:
        return AutomatedTarget(None, None)
    email_channels = Channel.objects.filter(kind=ChannelKind.EMAIL).values("id")
    rank = {value: index for index, value in reversed(list(enumerate(ids)))}
    sent = list(
        OutboundMessage.objects.filter(channel_id__in=email_channels, provider_message_id__in=ids)
        .select_related("channel", "message__conversation")
        .order_by("id")
    )
    if sent:
        outbound = min(sent, key=lambda row: rank[row.provider_message_id or ""])
        conversation = outbound.message.conversation if outbound.message is not None else None
        return AutomatedTarget(conversation, outbound)
    if message.automated == "bounce":
        return AutomatedTarget(None, None)
    received = list(
        Message.objects.filter(channel_id__in=email_channels, provider_message_id__in=ids).select_related(
            "conversation"
        )
    )
    if not received:
        return AutomatedTarget(None, None)
    first = min(received, key=lambda row: rank[row.provider_message_id or ""])
    return AutomatedTarget(first.conversation, None)
