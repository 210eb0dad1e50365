"""Channel rules agents run into: what an SMS costs in segments, and whether WhatsApp still lets us write.

SMS: GSM 03.38 (3GPP TS 23.038) 7-bit default alphabet and its extension table, 160/153 septets per
single/concatenated segment; anything outside it goes as UCS-2 (UTF-16), 70/67 code units.
WhatsApp: a business may send free-form messages only within 24 hours of the customer's last message;
outside that window only approved templates go through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

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


def whatsapp_window(*, last_inbound_at: datetime | None, now: datetime | None = None) -> WindowState:
    """The 24-hour customer-service window that the customer's last inbound message opened.

    WhatsApp counts per customer and business number, not per ticket, so the caller passes the last
    inbound message of that customer on that channel in any conversation (tickets.selectors does).
    """
    if last_inbound_at is None:
        return WindowState(open=False, closes_at=None)
    closes_at = last_inbound_at + WHATSAPP_WINDOW
    return WindowState(open=(now or timezone.now()) < closes_at, closes_at=closes_at)
