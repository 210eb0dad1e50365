"""Storing mail that did not come by webhook (IMAP, files) the same way the webhook stores it."""

from __future__ import annotations

from channels_app.adapters.email import dedup_key_for
from channels_app.models import Channel, InboundEvent
from channels_app.services import do_store_inbound_event


def do_store_mail(*, channel: Channel, raw: bytes, source: str) -> InboundEvent | None:
    """Store one raw mail for processing; None when it was stored before (same Message-ID)."""
    return do_store_inbound_event(
        channel=channel,
        provider="email",
        dedup_key=dedup_key_for(raw),
        content_type="message/rfc822",
        headers={"X-CXM-Source": source[:200]},
        body=raw,
    )
