"""Surveys reacting to what profiles records: event triggers run once the recorded events commit."""

from __future__ import annotations

from collections.abc import Sequence

from core.events import CustomerEventRecorded, subscribe_batch
from profiles.models import CustomerEvent
from surveys.triggers import on_customer_events


def invite_after_events(events: Sequence[CustomerEventRecorded]) -> None:
    # The triggers read only these fields, so the rows are rebuilt from the events, not read again.
    rows = [
        CustomerEvent(pk=e.event_id, customer_id=e.customer_id, name=e.event_name, occurred_at=e.occurred_at)
        for e in events
    ]
    on_customer_events(rows)


def register() -> None:
    subscribe_batch(CustomerEventRecorded, invite_after_events)
