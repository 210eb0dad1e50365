"""What every adapter turns a provider payload into, whatever the provider."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# A message that is only a score ("9", " 9 ", "9/10", "10!"): possibly a survey answer, which the
# single-message path checks against the sender's open invitation (surveys.chat_answers).
SCORE_LIKE = re.compile(r"^\s*(\d{1,2})\s*(?:/\s*(\d{1,2})\s*)?[!.]*\s*$")


@dataclass(frozen=True)
class Sender:
    kind: str  # an IdentityKind value: email, phone, whatsapp, telegram, ...
    value: str  # the provider's stable id, normalized
    display: str = ""


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int
    content: bytes | None = None  # inline bytes (email) ...
    url: str | None = None  # ... or a provider URL to fetch after the signature check
    content_id: str | None = None  # cid: for inline email images


@dataclass
class NormalizedMessage:
    """An inbound customer message."""

    sender: Sender
    provider_message_id: str
    text: str
    sent_at: datetime | None = None
    subject: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    # Threading hints: email Message-ID chain, or the provider's own conversation/thread id.
    in_reply_to: list[str] = field(default_factory=list)
    thread_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    # Auto-replies and bounces are stored but never open a new conversation.
    automated: str = ""

    @property
    def plain(self) -> bool:
        """Needs no lookup beyond its sender and their open conversation (no reply headers, thread id,
        attachments or auto-reply handling): such messages can be recorded many at a time. Pressed
        buttons and bare numbers may be survey answers, which only the single path looks for."""
        if self.metadata.get("button") or SCORE_LIKE.match(self.text):
            return False
        return not (self.in_reply_to or self.thread_id or self.attachments or self.automated)


@dataclass
class StatusUpdate:
    """A delivery status callback for a message we sent."""

    provider_message_id: str
    status: str  # an OutboundStatus value
    at: datetime | None = None
    error: str = ""


ParsedItem = NormalizedMessage | StatusUpdate
