"""Events the company's own systems send (order_placed, signed_up, ...): stored once per client id.

A batch is written in one transaction: customer events and their timeline rows in bulk. The cost of a
batch grows with the customers it has to create, not with its events: known identities are resolved
in one query, and each new customer is created once however many events name it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from core.events import CustomerEventRecorded, publish_many
from profiles.models import CustomerEvent, Identity, IdentityKind, TimelineEntry
from profiles.normalize import match_key
from profiles.resolution import blocked_reason, rules_by_kind
from profiles.services import do_identify
from profiles.timeline import event_entries

CREATED = "created"
DUPLICATE = "duplicate"
INVALID = "invalid"
# A concurrent batch may store some of the same client ids between our check and our insert.
_INSERT_ATTEMPTS = 3


@dataclass(frozen=True)
class EventInput:
    """A validated event; identity values are already normalized."""

    client_event_id: str
    name: str
    occurred_at: datetime
    identities: tuple[tuple[str, str], ...]
    properties: dict[str, Any]


@dataclass
class EventOutcome:
    status: str  # created, duplicate, invalid
    event_id: int | None = None
    customer_id: int | None = None
    reason: str = ""


class _Directory:
    """Which customer holds an identity: the database's answer, plus customers this batch created."""

    def __init__(self, events: Sequence[EventInput]) -> None:
        wanted: dict[str, set[str]] = {}
        for event in events:
            for kind, value in event.identities:
                wanted.setdefault(kind, set()).add(value)
        self.exact: dict[tuple[str, str], int] = {}
        self.mailbox: dict[str, int] = {}
        if not wanted:
            return
        query = Q()
        for kind, values in wanted.items():
            query |= Q(kind=kind, value__in=values)
        mailboxes = {match_key(IdentityKind.EMAIL, v) for v in wanted.get(IdentityKind.EMAIL, ())}
        if mailboxes:
            query |= Q(kind=IdentityKind.EMAIL, match_key__in=mailboxes)
        rows = Identity.objects.filter(query).order_by("pk")
        for kind, value, key, customer_id in rows.values_list("kind", "value", "match_key", "customer_id"):
            self.add(kind, value, customer_id, key)

    def add(self, kind: str, value: str, customer_id: int, key: str | None = None) -> None:
        self.exact.setdefault((kind, value), customer_id)
        if kind == IdentityKind.EMAIL:
            # The oldest identity of a mailbox wins, as in profiles.services.find_identity.
            self.mailbox.setdefault(key or match_key(kind, value), customer_id)

    def find(self, identities: Sequence[tuple[str, str]]) -> int | None:
        for kind, value in identities:
            found = self.exact.get((kind, value))
            if found is None and kind == IdentityKind.EMAIL:
                found = self.mailbox.get(match_key(kind, value))
            if found is not None:
                return found
        return None


def do_record_events(*, events: Sequence[EventInput], source: str = "api") -> list[EventOutcome]:
    """Store new events with their timeline rows; one outcome per input, in order.

    An event whose client id is already stored (earlier, or earlier in this batch) is a duplicate and
    changes nothing, so a sender may retry a whole batch safely. Unknown customers are created through
    do_identify, as if the sender had identified them; a customer named only by shared or test values
    (info@, test numbers) is not created and the event is invalid.
    """
    outcomes: list[EventOutcome | None] = [None] * len(events)
    first_of: dict[str, int] = {}
    copies: list[tuple[int, int]] = []
    for index, event in enumerate(events):
        if event.client_event_id in first_of:
            copies.append((index, first_of[event.client_event_id]))
        else:
            first_of[event.client_event_id] = index
    pending = list(first_of.values())
    customers: dict[int, int] = {}

    with transaction.atomic():
        for attempt in range(_INSERT_ATTEMPTS):
            pending = _drop_stored(events, pending, outcomes)
            if not customers:
                customers = _resolve_customers(events, pending, outcomes, source=source)
            pending = [i for i in pending if i in customers]
            rows = [
                CustomerEvent(
                    customer_id=customers[i],
                    name=events[i].name,
                    client_event_id=events[i].client_event_id,
                    occurred_at=events[i].occurred_at,
                    properties=events[i].properties,
                )
                for i in pending
            ]
            try:
                with transaction.atomic():
                    CustomerEvent.objects.bulk_create(rows)
                    TimelineEntry.objects.bulk_create(event_entries(rows))
            except IntegrityError:
                if attempt == _INSERT_ATTEMPTS - 1:
                    raise
                continue
            for i, row in zip(pending, rows, strict=True):
                outcomes[i] = EventOutcome(CREATED, event_id=row.pk, customer_id=row.customer_id)
            # Survey triggers and the like react once the batch commits, all of it in one delivery.
            publish_many(
                CustomerEventRecorded(
                    event_id=row.pk,
                    customer_id=row.customer_id,
                    event_name=row.name,
                    occurred_at=row.occurred_at,
                )
                for row in rows
            )
            break

    for index, first in copies:
        original = outcomes[first]
        assert original is not None
        if original.status == INVALID:
            outcomes[index] = EventOutcome(INVALID, reason="same event_id as an earlier, invalid event")
        else:
            outcomes[index] = EventOutcome(
                DUPLICATE, event_id=original.event_id, customer_id=original.customer_id
            )
    assert all(outcome is not None for outcome in outcomes)
    return [outcome for outcome in outcomes if outcome is not None]


def _drop_stored(
    events: Sequence[EventInput], pending: list[int], outcomes: list[EventOutcome | None]
) -> list[int]:
    """Mark events already in the database as duplicates; the rest still need writing."""
    ids = [events[i].client_event_id for i in pending]
    stored = {
        client_id: (pk, customer_id)
        for client_id, pk, customer_id in CustomerEvent.objects.filter(client_event_id__in=ids).values_list(
            "client_event_id", "pk", "customer_id"
        )
    }
    remaining = []
    for i in pending:
        hit = stored.get(events[i].client_event_id)
        if hit is None:
            remaining.append(i)
        else:
            outcomes[i] = EventOutcome(DUPLICATE, event_id=hit[0], customer_id=hit[1])
    return remaining


def _resolve_customers(
    events: Sequence[EventInput], pending: list[int], outcomes: list[EventOutcome | None], *, source: str
) -> dict[int, int]:
    """The customer id for each pending event; events that cannot have one get an invalid outcome."""
    if not pending:
        return {}
    priority = {kind: rule.priority for kind, rule in rules_by_kind().items()}
    directory = _Directory([events[i] for i in pending])
    refused: dict[tuple[tuple[str, str], ...], str] = {}
    customers: dict[int, int] = {}
    for i in pending:
        identities = sorted(events[i].identities, key=lambda item: priority.get(item[0], 100))
        customer_id = directory.find(identities)
        if customer_id is None and tuple(identities) not in refused:
            customer_id, linked, reason = _create_customer(identities, source=source)
            if customer_id is None:
                refused[tuple(identities)] = reason
            else:
                for kind, value in linked:
                    directory.add(kind, value, customer_id)
        if customer_id is None:
            outcomes[i] = EventOutcome(INVALID, reason=refused[tuple(identities)])
        else:
            customers[i] = customer_id
    return customers


def _create_customer(
    identities: list[tuple[str, str]], *, source: str
) -> tuple[int | None, list[tuple[str, str]], str]:
    """The new (or, after a race, existing) customer, the identities that now lead to it, or why none."""
    usable = [(kind, value) for kind, value in identities if not blocked_reason(kind, value)]
    if not usable:
        # do_identify would create a profile no identity leads back to, one more on every retry.
        names = ", ".join(kind for kind, _ in identities)
        return None, [], f"customer: a shared or test value ({names}) cannot identify a customer"
    result = do_identify(identities=usable, source=source)
    linked = [(o.kind, o.value) for o in result.outcomes if o.status in ("attached", "known")]
    return result.customer.pk, linked, ""
