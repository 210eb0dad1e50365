"""What the shop's own systems report about each demo customer: sign-up, orders, deliveries, refunds…

The events follow the conversations: the order a customer asks about was placed a few days before,
a refund is issued when the refund conversation ends, a cancelled subscription shows up where the
cancellation was asked for. They are stored through profiles.customer_events.do_record_events, the
path of ``POST /api/v1/events/``, so they land on the timeline exactly as the company's events do.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cxm.demo.conversations import ConversationDraft
from cxm.demo.people import CustomerDraft
from profiles.customer_events import CREATED, EventInput, do_record_events
from tickets.models import ConversationStatus

_BATCH = 1000
_ORDER_TOPICS = frozenset({"order_status", "delivery_delay", "refund", "damaged", "change_address"})
_DELIVERED_BEFORE = frozenset({"refund", "damaged"})  # asked about after the parcel arrived
_DELIVERED_AFTER = frozenset({"order_status", "delivery_delay", "change_address"})
_CURRENCY = {"en": "USD", "pl": "PLN", "ru": "RUB"}
_PRICE = {"en": (12, 250), "pl": (49, 900), "ru": (990, 39_990)}
_SOURCES = ["web", "web", "ios", "android"]
_CANCEL_REASONS = ["too_expensive", "not_using_it", "switching_provider", "missing_feature"]


@dataclass
class PlannedEvent:
    name: str
    at: datetime
    properties: dict[str, Any]


def plan_journey(
    rng: random.Random, *, draft: CustomerDraft, conversations: list[ConversationDraft], now: datetime
) -> list[PlannedEvent]:
    """The customer's events, oldest first; moves ``draft.created_at`` back to the sign-up."""
    locale = draft.customer.locale
    events: list[PlannedEvent] = []
    for conv in conversations:
        events += _around(rng, conv, locale=locale, plan=str(draft.customer.attributes.get("plan", "")))
    for _ in range(rng.choices([0, 1, 2, 3], weights=[25, 35, 25, 15])[0]):
        placed = now - timedelta(days=rng.uniform(1, 120), seconds=rng.randrange(86_400))
        order = str(rng.randint(100_000, 999_999))
        events.append(_order(rng, order, placed, locale))
        delivered = placed + timedelta(days=rng.uniform(1.5, 4))
        events.append(PlannedEvent("order_delivered", delivered, {"order_id": order}))
    if rng.random() < 0.3:
        at = now - timedelta(days=rng.uniform(0.5, 60))
        low, high = _PRICE[locale]
        events.append(
            PlannedEvent(
                "cart_abandoned",
                at,
                {
                    "cart_value": rng.randint(low, high),
                    "currency": _CURRENCY[locale],
                    "items": rng.randint(1, 4),
                },
            )
        )
    events = [e for e in events if e.at < now - timedelta(minutes=1)]
    assert draft.created_at is not None
    earliest = min([draft.created_at, *(e.at for e in events)])
    signed_up = (earliest - timedelta(hours=rng.uniform(1, 72))).replace(microsecond=0)
    source = "crm_import" if draft.customer.attributes.get("source") == "crm_import" else rng.choice(_SOURCES)
    events.append(
        PlannedEvent(
            "signed_up", signed_up, {"plan": draft.customer.attributes.get("plan", ""), "source": source}
        )
    )
    draft.created_at = signed_up
    for event in events:
        event.at = event.at.replace(microsecond=0)
    return sorted(events, key=lambda e: e.at)


def _around(rng: random.Random, conv: ConversationDraft, *, locale: str, plan: str) -> list[PlannedEvent]:
    """Events the conversation's topic implies, timed around it."""
    created = conv.conversation.created_at
    done = conv.conversation.status == ConversationStatus.RESOLVED
    # Still-open conversations have no resolution; their events are the ones before it only.
    resolved = conv.conversation.resolved_at or created
    order = conv.values.get("order", "")
    topic = conv.topic
    events = []
    if topic in _ORDER_TOPICS:
        placed = created - timedelta(days=rng.uniform(2, 9))
        events.append(_order(rng, order, placed, locale))
        if topic in _DELIVERED_BEFORE:
            delivered = created - timedelta(hours=rng.uniform(2, 40))
            events.append(PlannedEvent("order_delivered", delivered, {"order_id": order}))
        elif topic in _DELIVERED_AFTER and done:
            delivered = resolved + timedelta(days=rng.uniform(0.3, 3))
            events.append(PlannedEvent("order_delivered", delivered, {"order_id": order}))
    if topic == "refund" and done:
        amount = conv.values.get("amount", "")
        events.append(
            PlannedEvent(
                "refund_issued",
                resolved + timedelta(minutes=rng.uniform(1, 30)),
                {"order_id": order, "amount": amount},
            )
        )
    if topic == "payment_failed":
        failed = created - timedelta(minutes=rng.uniform(2, 90))
        events.append(PlannedEvent("payment_failed", failed, {"invoice": conv.values.get("invoice", "")}))
    if topic == "login":
        reset = created - timedelta(minutes=rng.uniform(5, 120))
        events.append(PlannedEvent("password_reset_requested", reset, {}))
    if topic == "cancel_subscription" and done:
        events.append(
            PlannedEvent(
                "subscription_cancelled",
                resolved + timedelta(minutes=rng.uniform(1, 20)),
                {"plan": plan, "reason": rng.choice(_CANCEL_REASONS)},
            )
        )
    return events


def _order(rng: random.Random, order: str, at: datetime, locale: str) -> PlannedEvent:
    low, high = _PRICE[locale]
    return PlannedEvent(
        "order_placed",
        at,
        {
            "order_id": order,
            "total": rng.randint(low, high),
            "currency": _CURRENCY[locale],
            "items": rng.randint(1, 5),
        },
    )


def record_journeys(
    journeys: Sequence[tuple[CustomerDraft, list[PlannedEvent]]], *, identities: dict[int, tuple[str, str]]
) -> int:
    """Store the events; ``identities`` names each customer (by draft index) as the shop's systems would.

    A customer left without an identity (a real customer owns it) has no events: an event names its
    customer by identity, and the demo must not write onto a real profile.
    """
    inputs = []
    for draft, events in journeys:
        identity = identities.get(draft.index)
        if identity is None:
            continue
        for number, event in enumerate(events):
            inputs.append(
                EventInput(
                    client_event_id=f"demo-{draft.index}-{number}-{event.name}",
                    name=event.name,
                    occurred_at=event.at,
                    identities=(identity,),
                    properties=event.properties,
                )
            )
    created = 0
    for start in range(0, len(inputs), _BATCH):
        outcomes = do_record_events(events=inputs[start : start + _BATCH], source="demo")
        created += sum(outcome.status == CREATED for outcome in outcomes)
    return created
