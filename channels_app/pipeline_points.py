"""Where the inbound and outbound pipelines hand work to the app that records conversations.

channels_app sits below tickets, so it cannot call tickets by name. Each hand-over is an interception
point (`core.events`): channels_app builds the dataclass inside its transaction and the one recorder
tickets registers in `ready()` does the work there, so a message is stored and its event marked done in
the same commit, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from channels_app.inbound_models import InboundEvent
from channels_app.models import Channel
from channels_app.normalized import NormalizedMessage
from core.events import Interception


@dataclass
class InboundItem:
    channel: Channel
    message: NormalizedMessage
    event: InboundEvent | None = None


@dataclass(frozen=True, eq=False)
class RecordInboundRun(Interception):
    """A run of plain messages (no reply headers, thread id, attachments or auto-reply flag), in order."""

    name: ClassVar[str] = "inbound.record_run"
    items: Sequence[InboundItem]


@dataclass(frozen=True, eq=False)
class RecordInboundMessage(Interception):
    """One customer message that needs the full path (threading headers, attachments, survey answers)."""

    name: ClassVar[str] = "inbound.record_message"
    channel: Channel
    message: NormalizedMessage
    event: InboundEvent | None


@dataclass(frozen=True, eq=False)
class RecordAutomatedMail(Interception):
    """An auto-reply or bounce: never a customer, never a new conversation. Returns the outcome text."""

    name: ClassVar[str] = "inbound.record_automated"
    channel: Channel
    message: NormalizedMessage
    event: InboundEvent | None


@dataclass(frozen=True, eq=False)
class OutboundStatusApplied(Interception):
    """An outgoing message's status moved forward; the conversation side reacts in the same transaction
    ("Send and resolve" settles only once the reply is out)."""

    name: ClassVar[str] = "outbound.status_applied"
    outbound_id: int
    message_id: int | None
    status: str
    error: str
