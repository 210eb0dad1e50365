"""Interception points on the way a customer's message into a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from channels_app.models import Channel
from channels_app.normalized import NormalizedMessage
from core.events import Interception
from profiles.models import Customer


@dataclass(frozen=True, eq=False)
class InboundMessageArriving(Interception):
    """Offered before a message is stored: a handler that returns a truthy value has taken it (a pressed
    survey button or a bare score is an answer, not a message) and no conversation is touched."""

    name: ClassVar[str] = "inbound.message_arriving"
    channel: Channel
    message: NormalizedMessage
    customer: Customer
