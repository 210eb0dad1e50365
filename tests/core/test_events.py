"""The domain event bus: after commit only, in order, batched per commit, isolated failures; and the
interception points' explicit order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from django.db import transaction

from core import events

pytestmark = pytest.mark.django_db(transaction=True)  # real commits and rollbacks


def resolved(pk: int) -> events.ConversationResolved:
    return events.ConversationResolved(conversation_id=pk, customer_id=1, actor_id=None)


@pytest.fixture
def subscribed():
    registered: list[tuple[type, object]] = []

    def add(event_type, handler, *, batch=False):
        (events.subscribe_batch if batch else events.subscribe)(event_type, handler)
        registered.append((event_type, handler))

    yield add
    for event_type, handler in registered:
        events.unsubscribe(event_type, handler)


def test_handlers_run_after_commit_and_never_after_a_rollback(subscribed):
    seen: list[int] = []
    subscribed(events.ConversationResolved, lambda e: seen.append(e.conversation_id))
    with transaction.atomic():
        events.publish(resolved(1))
        assert seen == []  # not before the commit
    assert seen == [1]
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish(resolved(2))
        raise RuntimeError("rolled back")
    assert seen == [1]
    events.publish(resolved(3))  # no transaction: at once
    assert seen == [1, 3]


def test_a_savepoint_rolled_back_announces_nothing_of_its_own(subscribed):
    seen: list[int] = []
    subscribed(events.ConversationResolved, lambda e: seen.append(e.conversation_id))
    with transaction.atomic():
        events.publish(resolved(1))
        try:
            with transaction.atomic():
                events.publish(resolved(2))
                raise ValueError
        except ValueError:
            pass
    assert seen == [1]


def test_batch_handlers_get_one_call_per_commit_in_order(subscribed):
    calls: list[list[int]] = []
    subscribed(
        events.ConversationResolved,
        lambda batch: calls.append([e.conversation_id for e in batch]),
        batch=True,
    )
    with transaction.atomic():
        events.publish(resolved(1))
        events.publish_many([resolved(2), resolved(3)])
    # Two on_commit callbacks: the first publish and the second publish_many; each keeps its order.
    assert [pk for call in calls for pk in call] == [1, 2, 3]
    calls.clear()
    with transaction.atomic():
        events.publish_many([resolved(4), resolved(5), resolved(6)])
    assert calls == [[4, 5, 6]]


def test_a_failing_handler_is_logged_and_the_others_still_run(subscribed, caplog):
    seen: list[int] = []

    def broken(event):
        raise ValueError("bug in a reaction")

    subscribed(events.ConversationResolved, broken)
    subscribed(events.ConversationResolved, lambda e: seen.append(e.conversation_id))
    with transaction.atomic():
        events.publish(resolved(7))
    assert seen == [7]
    assert "bug in a reaction" in caplog.text


def test_subscribing_twice_does_not_deliver_twice(subscribed):
    seen: list[int] = []

    def handler(event):
        seen.append(event.conversation_id)

    subscribed(events.ConversationResolved, handler)
    events.subscribe(events.ConversationResolved, handler)
    events.publish(resolved(1))
    assert seen == [1]


def test_the_catalogue_names_every_event_once():
    names = [entry.name for entry in events.catalogue()]
    assert len(names) == len(set(names))
    assert set(names) == {
        "message.received", "message.sent", "conversation.created", "conversation.assigned",
        "conversation.resolved", "conversation.reopened", "sla.breached", "outbound.status_changed",
        "customer.created", "customer.merged", "customer.erased", "customer_event.recorded",
        "survey.answered",
    }  # fmt: skip


@dataclass(frozen=True)
class Probe(events.Interception):
    name: ClassVar[str] = "test.probe"
    value: int


def first(point: Probe):
    return None  # declines


def second(point: Probe):
    return point.value * 2


def third(point: Probe):
    return point.value * 3


def test_interceptors_run_in_their_declared_order_and_the_first_answer_wins():
    try:
        events.add_interceptor(Probe, third, order=30)
        events.add_interceptor(Probe, first, order=10)
        events.add_interceptor(Probe, second, order=20)
        assert events.intercept_first(Probe(5)) == 10
        assert events.intercept_all(Probe(5)) == [None, 10, 15]
        assert events.require_interceptor(Probe(5)) is None  # the owner is the first: it declined
        events.add_interceptor(Probe, first, order=40)  # re-registering moves it, never duplicates it
        assert events.intercept_all(Probe(1)) == [2, 3, None]
    finally:
        for handler in (first, second, third):
            events.remove_interceptor(Probe, handler)
    with pytest.raises(LookupError):
        events.require_interceptor(Probe(1))


def test_events_carry_plain_values_only():
    event = events.SlaBreached(
        conversation_id=1, target="resolution", due_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    with pytest.raises(AttributeError):
        event.target = "x"  # frozen
