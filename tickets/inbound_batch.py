"""Recording a run of plain inbound messages with a few statements per run instead of a dozen per message.

"Plain" is what chat and SMS traffic almost always is: no reply headers, no provider thread id, no
attachments, not an auto-reply. Such a message needs only its sender's customer and that customer's
open conversation, and both can be read for the whole run at once. Every decision below is the one
`do_record_inbound_message` takes, made in the run's order in memory, so a customer's second message
in the run continues the conversation their first one opened. Anything else goes through
`do_record_inbound_message`, one message at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from channels_app.normalized import NormalizedMessage
from channels_app.pipeline_points import InboundItem, RecordInboundRun
from core import events as domain_events
from profiles import timeline
from profiles.models import Customer, Identity, IdentityKind
from profiles.normalize import match_key, normalize_or_keep
from profiles.reveal import do_attach_revealed, revealed_in
from profiles.services import do_resolve_sender, lock_customer
from tickets import stored_messages
from tickets.assignment import do_auto_assign
from tickets.message_events import conversation_events
from tickets.models import Conversation, ConversationStatus, Message
from tickets.services import clean_message, inbound_message_row
from tickets.sla import do_apply_sla
from tickets.threading import THREADING_CONTINUE


@dataclass
class _Prepared:
    item: InboundItem
    message: NormalizedMessage  # cleaned
    key: tuple[str, str]  # the sender identity, normalized: (kind, value)


@transaction.atomic
def do_record_inbound_batch(*, items: Sequence[InboundItem]) -> list[Message]:
    """Store plain messages (`NormalizedMessage.plain`) in order; returns those stored, not duplicates."""
    now = timezone.now()
    prepared = []
    for item in items:
        message = clean_message(item.message)
        region = item.channel.config.get("default_region", "")
        value = normalize_or_keep(message.sender.kind, message.sender.value, region)
        prepared.append(_Prepared(item, message, (message.sender.kind, value)))

    owners, displays = _resolve_senders(prepared, now=now)
    survivors = _lock_customers(set(owners.values()))
    customer_of = {key: survivors[owner] for key, owner in owners.items()}
    _fill_displays(prepared, customer_of, displays)

    known = _stored_provider_ids(prepared)
    latest = _open_conversations(set(customer_of.values()))
    new_conversations: list[Conversation] = []
    touched: dict[int, Conversation] = {}
    stored: list[tuple[Message, bool]] = []
    reopened: list[domain_events.DomainEvent] = []
    for entry in prepared:
        message, channel = entry.message, entry.item.channel
        if (channel.pk, message.provider_message_id) in known:
            continue
        known.add((channel.pk, message.provider_message_id))
        customer_id = customer_of[entry.key]
        sent_at = min(message.sent_at or now, now)
        conversation = None
        if channel.config.get("threading", THREADING_CONTINUE) == THREADING_CONTINUE:
            conversation = latest.get(customer_id)
        new_conversation = conversation is None
        if conversation is None:
            conversation = Conversation(
                customer_id=customer_id,
                channel=channel,
                subject=(message.subject or message.text)[:300],
                status=ConversationStatus.OPEN,
                created_at=sent_at,
                last_activity_at=sent_at,
            )
            new_conversations.append(conversation)
            # Newest by id, so it is the latest open one unless another is more recently active.
            current = latest.get(customer_id)
            if current is None or current.last_activity_at <= sent_at:
                latest[customer_id] = conversation
        else:
            if sent_at > conversation.last_activity_at:
                conversation.last_activity_at = sent_at
            if conversation.status != ConversationStatus.OPEN:
                conversation.status = ConversationStatus.OPEN
                conversation.resolved_at = None
                reopened.append(
                    domain_events.ConversationReopened(
                        conversation_id=conversation.pk, customer_id=customer_id, actor_id=None
                    )
                )
            if conversation.pk is not None:
                touched[conversation.pk] = conversation
        event = entry.item.event
        row = inbound_message_row(
            channel=channel, message=message, conversation=conversation, sent_at=sent_at, event=event
        )
        stored.append((row, new_conversation))

    Conversation.objects.bulk_create(new_conversations)
    do_auto_assign(conversations=new_conversations)
    _update_conversations(list(touched.values()))
    # The customer is now waiting: first- or next-response and resolution clocks, one UPDATE for all.
    do_apply_sla(conversations=[*new_conversations, *touched.values()], event="customer_message", at=now)
    Message.objects.bulk_create([row for row, _ in stored])
    Customer.objects.filter(pk__in=set(customer_of.values())).update(last_seen_at=now)
    timeline.record_messages(stored)
    _attach_revealed(stored, prepared)
    stored_messages.remember(row for row, _ in stored)
    domain_events.publish_many(
        [
            *reopened,
            *(event for row, new in stored for event in conversation_events(row, new_conversation=new)),
        ]
    )
    return [row for row, _ in stored]


def _resolve_senders(
    prepared: list[_Prepared], *, now: datetime
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], str]]:
    """Customer id and stored display name per sender identity; first contacts get new customers."""
    keys = {entry.key for entry in prepared}
    owners, displays = _owners_of(keys)
    missing: dict[tuple[str, str], str] = {}
    for entry in prepared:
        if entry.key in owners:
            continue
        if entry.key[0] == IdentityKind.EMAIL:
            # Another spelling of a known mailbox belongs to that person: the single path knows how.
            sender = entry.message.sender
            region = entry.item.channel.config.get("default_region", "")
            customer = do_resolve_sender(
                kind=sender.kind, value=sender.value, display=sender.display, region=region
            )
            owners[entry.key], displays[entry.key] = customer.pk, sender.display[:200]
        elif not missing.get(entry.key):
            missing[entry.key] = entry.message.sender.display[:200]
    if missing:
        owners.update(_create_customers(missing, now=now))
        displays.update(missing)
    return owners, displays


def _owners_of(keys: set[tuple[str, str]]) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], str]]:
    rows = Identity.objects.filter(
        kind__in={kind for kind, _ in keys}, value__in={value for _, value in keys}
    ).values_list("kind", "value", "customer_id", "display")
    owners, displays = {}, {}
    for kind, value, customer_id, display in rows:
        if (kind, value) in keys:
            owners[(kind, value)], displays[(kind, value)] = customer_id, display
    return owners, displays


def _create_customers(missing: dict[tuple[str, str], str], *, now: datetime) -> dict[tuple[str, str], int]:
    """One customer per new identity. Another worker may insert the same identity meanwhile: its row
    wins (the unique constraint decides), and the customer created here for nothing is removed."""
    keys = list(missing)
    customers = Customer.objects.bulk_create([Customer(name=missing[key], last_seen_at=now) for key in keys])
    Identity.objects.bulk_create(
        [
            Identity(
                customer=customer,
                kind=kind,
                value=value,
                match_key=match_key(kind, value),
                display=missing[(kind, value)],
                source="message",
            )
            for (kind, value), customer in zip(keys, customers, strict=True)
        ],
        ignore_conflicts=True,
    )
    owners, _ = _owners_of(set(keys))
    unused = {customer.pk for customer in customers} - set(owners.values())
    if unused:
        with connection.cursor() as cursor:
            # Rows created in this very transaction and referenced by nothing: no cascade to collect.
            cursor.execute(f"DELETE FROM {Customer._meta.db_table} WHERE id = ANY(%s)", [list(unused)])  # noqa: S608
    domain_events.publish_many(
        domain_events.CustomerCreated(customer_id=customer.pk)
        for customer in customers
        if customer.pk not in unused
    )
    return owners


def _lock_customers(ids: set[int]) -> dict[int, int]:
    """Lock the live customers in id order (two workers never wait on each other in a cycle) and map
    each id to its live profile: a merge may have folded one into another since its identity was read.
    A merged-away row is never locked: holding it while waiting for the survivor is the reverse of the
    order a merge locks the pair in."""
    rows = (
        Customer.objects.select_for_update()
        .filter(pk__in=ids, merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    survivors = {pk: pk for pk in rows}
    for pk in sorted(ids - set(survivors)):
        survivors[pk] = lock_customer(Customer(pk=pk)).pk  # raises DoesNotExist for a deleted one
    return survivors


def _fill_displays(
    prepared: list[_Prepared], customer_of: dict[tuple[str, str], int], displays: dict[tuple[str, str], str]
) -> None:
    for entry in prepared:
        name = entry.message.sender.display[:200]
        if name and not displays.get(entry.key):
            kind, value = entry.key
            Identity.objects.filter(
                customer_id=customer_of[entry.key], kind=kind, value=value, display=""
            ).update(display=name)
            displays[entry.key] = name


def _stored_provider_ids(prepared: list[_Prepared]) -> set[tuple[int, str]]:
    rows = Message.objects.filter(
        channel_id__in={entry.item.channel.pk for entry in prepared},
        provider_message_id__in={entry.message.provider_message_id for entry in prepared},
    ).values_list("channel_id", "provider_message_id")
    return {(channel_id, str(provider_id)) for channel_id, provider_id in rows}


def _open_conversations(customer_ids: set[int]) -> dict[int, Conversation]:
    """Each customer's latest unresolved conversation: the one a plain message continues."""
    rows = (
        Conversation.objects.filter(customer_id__in=customer_ids)
        .exclude(status=ConversationStatus.RESOLVED)
        .order_by("customer_id", "-last_activity_at", "-id")
        .distinct("customer_id")
    )
    return {conversation.customer_id: conversation for conversation in rows}


def _update_conversations(conversations: list[Conversation]) -> None:
    """One statement for all: Django's bulk_update builds a CASE per row and field, slower than the
    rest of the run put together."""
    if not conversations:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Conversation._meta.db_table} AS c
               SET last_activity_at = v.at, status = v.status, resolved_at = v.resolved_at
              FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[], %s::timestamptz[])
                   AS v(id, at, status, resolved_at)
             WHERE c.id = v.id
            """,  # noqa: S608 (the table name comes from the model; every value is a parameter)
            [
                [c.pk for c in conversations],
                [c.last_activity_at for c in conversations],
                [c.status for c in conversations],
                [c.resolved_at for c in conversations],
            ],
        )


def _attach_revealed(stored: list[tuple[Message, bool]], prepared: list[_Prepared]) -> None:
    channels = {entry.item.channel.pk: entry.item.channel for entry in prepared}
    for row, _ in stored:
        channel = channels[row.channel_id]
        region = channel.config.get("default_region", "")
        # The cheap scan first: most messages reveal nothing and need no queries at all.
        if revealed_in(row.body, channel_kind=channel.kind, region=region):
            customer = Customer(pk=row.conversation.customer_id)
            do_attach_revealed(customer=customer, message=row, channel=channel, region=region)


def record_run(point: RecordInboundRun) -> list[Message]:
    return do_record_inbound_batch(items=point.items)
