"""Channel rules agents run into: what an SMS costs in segments, and whether WhatsApp still lets us write.

SMS: GSM 03.38 (3GPP TS 23.038) 7-bit default alphabet and its extension table, 160/153 septets per
single/concatenated segment; anything outside it goes as UCS-2 (UTF-16), 70/67 code units.
WhatsApp: a business may send free-form messages only within 24 hours of the customer's last message;
outside that window only approved templates go through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Max
from django.utils import timezone

if TYPE_CHECKING:
    from channels_app.models import Channel
    from profiles.models import Customer
    from tickets.models import Conversation

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Sent as ESC + character, so each takes two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7 = "GSM-7"
UCS2 = "UCS-2"
SINGLE = {GSM7: 160, UCS2: 70}
# Concatenated segments give up room to the user data header (6 bytes: 7 septets, 3 UTF-16 units).
CONCATENATED = {GSM7: 153, UCS2: 67}

WHATSAPP_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int
    chars: int  # septets (GSM-7) or UTF-16 code units (UCS-2): what the limits count
    per_segment: int


def _units(text: str) -> tuple[str, list[int]]:
    """The encoding and the size of each character in that encoding's units."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        return GSM7, [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    # Characters beyond the BMP (most emoji) are surrogate pairs: two UTF-16 units.
    return UCS2, [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def sms_segments(text: str) -> SegmentInfo:
    encoding, sizes = _units(text)
    total = sum(sizes)
    if total <= SINGLE[encoding]:
        return SegmentInfo(encoding, 1 if total else 0, total, SINGLE[encoding])
    limit = CONCATENATED[encoding]
    # An escape pair or a surrogate pair is never split across segments, so fill them one by one.
    segments, used = 1, 0
    for size in sizes:
        if used + size > limit:
            segments, used = segments + 1, 0
        used += size
    return SegmentInfo(encoding, segments, total, limit)


@dataclass(frozen=True)
class WindowState:
    open: bool
    closes_at: datetime | None  # None when the customer never wrote on this channel


def whatsapp_window(
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
    from tickets.models import Direction, Message

    customer_id: int | None
    if isinstance(customer, int):
        customer_id = customer
    elif customer is not None:
        customer_id = customer.pk
    elif conversation is not None:
        customer_id = conversation.customer_id
    else:
        raise ValueError("whatsapp_window needs a customer or a conversation")
    now = now or timezone.now()
    last = Message.objects.filter(
        channel=channel, direction=Direction.INBOUND, conversation__customer_id=customer_id
    ).aggregate(last=Max("created_at"))["last"]
    if last is None:
        return WindowState(open=False, closes_at=None)
    closes_at = last + WHATSAPP_WINDOW
    return WindowState(open=now < closes_at, closes_at=closes_at)
