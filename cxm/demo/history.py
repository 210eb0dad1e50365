"""Storing the planned history: customers, identities, conversations, messages, labels and the timeline.

Rows go in with bulk inserts, and the timeline rows are written by profiles.timeline, the same writers
the inbound pipeline, replies and resolutions use.
"""

from __future__ import annotations

from cxm.demo.conversations import ConversationDraft
from cxm.demo.people import CustomerDraft
from cxm.demo.settings_data import TOPIC_LABELS, VIP_LABEL
from profiles import timeline
from profiles.models import Customer, Identity
from tickets.models import Conversation, ConversationStatus, Label, Message

_BATCH = 1000


def insert_history(
    history: list[tuple[CustomerDraft, list[ConversationDraft]]], *, labels: dict[str, Label]
) -> list[Identity]:
    """Store everything planned; returns the identities stored (some may clash with real customers)."""
    drafts = [draft for draft, _ in history]
    customers = [d.customer for d in drafts]
    Customer.objects.bulk_create(customers, batch_size=_BATCH)
    # ``created_at`` is auto_now_add, which bulk_create overwrites; backdate it afterwards.
    for d in drafts:
        assert d.created_at is not None
        d.customer.created_at = d.created_at
    Customer.objects.bulk_update(customers, ["created_at"], batch_size=_BATCH)

    identities = [identity for d in drafts for identity in d.identities]
    for d in drafts:
        for identity in d.identities:
            identity.customer = d.customer
    taken = set(Identity.objects.filter(value__in=[i.value for i in identities]).values_list("kind", "value"))
    # Real customers keep their identities; a demo customer just goes without a clashing one.
    identities = [i for i in identities if (i.kind, i.value) not in taken]
    Identity.objects.bulk_create(identities, batch_size=_BATCH)
    for identity in identities:
        identity.created_at = identity.customer.created_at
    Identity.objects.bulk_update(identities, ["created_at"], batch_size=_BATCH)

    conversations = [c for _, convs in history for c in convs]
    Conversation.objects.bulk_create([c.conversation for c in conversations], batch_size=_BATCH)
    for c in conversations:
        for message in c.messages:
            message.conversation = c.conversation
    Message.objects.bulk_create([m for c in conversations for m in c.messages], batch_size=_BATCH)
    _label(history, labels)
    _record_timeline(conversations)
    return identities


def _label(history: list[tuple[CustomerDraft, list[ConversationDraft]]], labels: dict[str, Label]) -> None:
    through = Conversation.labels.through
    rows = []
    for draft, conversations in history:
        vip = draft.customer.attributes.get("plan") == "Business"
        for c in conversations:
            names = [TOPIC_LABELS[c.topic]] if c.topic in TOPIC_LABELS else []
            if vip:
                names.append(VIP_LABEL)
            rows += [through(conversation_id=c.conversation.pk, label_id=labels[n].pk) for n in names]
    through.objects.bulk_create(rows, batch_size=_BATCH)


def _record_timeline(conversations: list[ConversationDraft]) -> None:
    pairs = [(m, i == 0) for c in conversations for i, m in enumerate(c.messages)]
    for start in range(0, len(pairs), _BATCH):
        timeline.record_messages(pairs[start : start + _BATCH])
    for c in conversations:
        conversation = c.conversation
        if conversation.status == ConversationStatus.RESOLVED and conversation.resolved_at is not None:
            timeline.record_conversation_resolved(conversation, at=conversation.resolved_at)
