from __future__ import annotations

from datetime import datetime

from django.db.models import Max, QuerySet

from accounts.models import User
from channels_app.models import Channel
from channels_app.rules import WindowState, whatsapp_window
from profiles.models import Customer
from tickets.models import Conversation, Direction, Message
from tickets.visibility import visibility_for


def visible_conversations(user: User) -> QuerySet[Conversation]:
    """Conversations a user may see; the rule itself lives in tickets.visibility."""
    return visibility_for(user).conversations()


def customer_whatsapp_window(
    *,
    channel: Channel,
    customer: Customer | int | None = None,
    conversation: Conversation | None = None,
    now: datetime | None = None,
) -> WindowState:
    """The 24-hour customer-service window for one customer on one WhatsApp number.

    It follows the customer's last inbound message on that channel, in any conversation: WhatsApp counts
    per customer and business number, not per ticket.
    """
    customer_id: int | None
    if isinstance(customer, int):
        customer_id = customer
    elif customer is not None:
        customer_id = customer.pk
    elif conversation is not None:
        customer_id = conversation.customer_id
    else:
        raise ValueError("customer_whatsapp_window needs a customer or a conversation")
    last = Message.objects.filter(
        channel=channel, direction=Direction.INBOUND, conversation__customer_id=customer_id
    ).aggregate(last=Max("created_at"))["last"]
    return whatsapp_window(last_inbound_at=last, now=now)
