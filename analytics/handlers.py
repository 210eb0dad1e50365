"""Domain events → dirty conversations. Handlers only mark; the refresh task recomputes.

Every handler is a batch handler: all events of one type from one commit cost one Redis command.
Customer events mark the facts of the customer's conversations (after a merge the kept customer's, and
the facts still filed under the merged one; after an erasure the facts of conversations now gone).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from analytics.dirty import mark_dirty
from analytics.models import ConversationFact
from core import events
from tickets.models import Conversation

logger = logging.getLogger(__name__)

CONVERSATION_EVENTS: tuple[type[events.DomainEvent], ...] = (
    events.MessageReceived,
    events.MessageSent,
    events.ConversationCreated,
    events.ConversationAssigned,
    events.ConversationResolved,
    events.ConversationReopened,
    events.SlaBreached,
    events.SurveyAnswered,
)


def mark_conversations(batch: Sequence[events.DomainEvent]) -> None:
    mark_dirty(getattr(event, "conversation_id", None) for event in batch)


def mark_customers_merged(batch: Sequence[events.CustomersMerged]) -> None:
    customers = {e.kept_id for e in batch} | {e.merged_id for e in batch}
    ids = set(
        ConversationFact.objects.filter(customer_id__in=customers).values_list("conversation_id", flat=True)
    )
    ids |= set(Conversation.objects.filter(customer_id__in=customers).values_list("pk", flat=True))
    mark_dirty(ids)


def mark_customers_erased(batch: Sequence[events.CustomerErased]) -> None:
    customers = {e.customer_id for e in batch}
    mark_dirty(
        ConversationFact.objects.filter(customer_id__in=customers).values_list("conversation_id", flat=True)
    )


def register() -> None:
    for event_type in CONVERSATION_EVENTS:
        events.subscribe_batch(event_type, mark_conversations)
    events.subscribe_batch(events.CustomersMerged, mark_customers_merged)
    events.subscribe_batch(events.CustomerErased, mark_customers_erased)
