"""Domain events: the one place where the apps announce what happened, and where everything that reacts
subscribes.

Two mechanisms, each explicit:

- **Events** (`publish`): frozen dataclasses of ids and plain values, announced by the service that made
  the change and delivered to the subscribed handlers *after the transaction commits* (at once when no
  transaction is open). A rolled-back change announces nothing. Handlers run in the order they were
  subscribed; one that raises is logged and the others still run, because the change itself is already
  committed. Batch subscribers (`subscribe_batch`) get every event of their type that one commit
  announced, in one call, so a run of a hundred stored messages costs one realtime send, not a hundred.
- **Interception points** (`intercept_first`, `intercept_all`): work that must share the caller's
  transaction (a chat message that is really a survey answer, rows to move when two customers merge).
  The layer that reaches the point defines its dataclass; a layer above registers a handler with an
  explicit order. This is how a lower app hands work up without importing the app above it.

Apps register both in `AppConfig.ready()`, so the catalogue of who reacts to what is read in one place per
app; `docs/events.md` lists every event and point.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)

E = TypeVar("E", bound="DomainEvent")
P = TypeVar("P", bound="Interception")


class DomainEvent:
    """Base of every event; `name` is the stable identifier used in logs, docs and outgoing webhooks."""

    name: ClassVar[str] = ""


# ---- conversations and messages -------------------------------------------------------------------


@dataclass(frozen=True)
class MessageReceived(DomainEvent):
    """A customer's message was stored in a conversation (inbound pipeline, web chat, API channel)."""

    name: ClassVar[str] = "message.received"
    message_id: int
    conversation_id: int
    customer_id: int
    channel_id: int
    channel_kind: str
    new_conversation: bool
    sent_at: datetime


@dataclass(frozen=True)
class MessageSent(DomainEvent):
    """An outgoing message was recorded in a conversation (agent reply, automated message); its delivery
    is followed by `OutboundStatusChanged`."""

    name: ClassVar[str] = "message.sent"
    message_id: int
    conversation_id: int
    customer_id: int
    channel_id: int
    author_id: int | None
    new_conversation: bool = False


@dataclass(frozen=True)
class ConversationCreated(DomainEvent):
    name: ClassVar[str] = "conversation.created"
    conversation_id: int
    customer_id: int
    channel_id: int


@dataclass(frozen=True)
class ConversationAssigned(DomainEvent):
    name: ClassVar[str] = "conversation.assigned"
    conversation_id: int
    assignee_id: int | None
    previous_assignee_id: int | None
    actor_id: int | None


@dataclass(frozen=True)
class ConversationResolved(DomainEvent):
    name: ClassVar[str] = "conversation.resolved"
    conversation_id: int
    customer_id: int
    actor_id: int | None


@dataclass(frozen=True)
class ConversationReopened(DomainEvent):
    """A resolved or snoozed conversation became open again: by an agent, or by the customer writing."""

    name: ClassVar[str] = "conversation.reopened"
    conversation_id: int
    customer_id: int
    actor_id: int | None


@dataclass(frozen=True)
class SlaBreached(DomainEvent):
    name: ClassVar[str] = "sla.breached"
    conversation_id: int
    target: str  # first_response, next_response or resolution
    due_at: datetime


@dataclass(frozen=True)
class OutboundStatusChanged(DomainEvent):
    """A provider moved an outgoing message forward (queued → sent → delivered → read, or failed)."""

    name: ClassVar[str] = "outbound.status_changed"
    outbound_id: int
    status: str
    previous_status: str
    message_id: int | None


# ---- customers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerCreated(DomainEvent):
    name: ClassVar[str] = "customer.created"
    customer_id: int


@dataclass(frozen=True)
class CustomersMerged(DomainEvent):
    name: ClassVar[str] = "customer.merged"
    kept_id: int
    merged_id: int
    actor_id: int | None


@dataclass(frozen=True)
class CustomerErased(DomainEvent):
    name: ClassVar[str] = "customer.erased"
    customer_id: int


@dataclass(frozen=True)
class CustomerEventRecorded(DomainEvent):
    """A touchpoint from the events API or an import (`order_placed`, `signed_up`, ...)."""

    name: ClassVar[str] = "customer_event.recorded"
    event_id: int
    customer_id: int
    event_name: str
    occurred_at: datetime


# ---- surveys --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyAnswered(DomainEvent):
    name: ClassVar[str] = "survey.answered"
    response_id: int
    survey_id: int
    customer_id: int | None
    conversation_id: int | None
    score: int | None
    detractor: bool


# ---- publishing -----------------------------------------------------------------------------------

_handlers: dict[type[DomainEvent], list[Callable[[Any], None]]] = defaultdict(list)
_batch_handlers: dict[type[DomainEvent], list[Callable[[Sequence[Any]], None]]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    """Call `handler(event)` after each commit that announced an `event_type`. Idempotent per handler."""
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def subscribe_batch(event_type: type[E], handler: Callable[[Sequence[E]], None]) -> None:
    """Call `handler(events)` once per commit with every `event_type` it announced, in order."""
    if handler not in _batch_handlers[event_type]:
        _batch_handlers[event_type].append(handler)


def unsubscribe(event_type: type[DomainEvent], handler: Callable[..., None]) -> None:
    for table in (_handlers, _batch_handlers):
        if handler in table.get(event_type, ()):
            table[event_type].remove(handler)


def publish(*events: DomainEvent) -> None:
    """Announce `events`; handlers run after the current transaction commits."""
    publish_many(events)


def publish_many(events: Iterable[DomainEvent]) -> None:
    batch = list(events)
    if batch:
        transaction.on_commit(lambda: deliver(batch))


def deliver(events: Sequence[DomainEvent]) -> None:
    """Run the handlers for events whose transaction has committed (public for the batch writers that
    commit on their own connection, and for tests of a handler).

    Batch handlers first, each with all the events of its type; then the per-event handlers, in the
    order the events were published, so a subscriber sees `conversation.created` before that
    conversation's `message.received`.
    """
    by_type: dict[type[DomainEvent], list[DomainEvent]] = defaultdict(list)
    for event in events:
        by_type[type(event)].append(event)
    for event_type, same in by_type.items():
        for batch_handler in list(_batch_handlers.get(event_type, ())):
            _run(batch_handler, same)
    for event in events:
        for handler in list(_handlers.get(type(event), ())):
            _run(handler, event)


def _run(handler: Callable[[Any], None], argument: Any) -> None:
    try:
        handler(argument)
    except Exception:
        # The change is committed; a failing reaction is a bug to log, never a reason to skip the rest.
        logger.exception("handler %s failed on %r", getattr(handler, "__qualname__", handler), argument)


def subscribers(event_type: type[DomainEvent]) -> list[Callable[..., None]]:
    """Everything that reacts to `event_type` (for docs and tests)."""
    return [*_batch_handlers.get(event_type, ()), *_handlers.get(event_type, ())]


# ---- interception points --------------------------------------------------------------------------


class Interception:
    """Base of an interception point: a dataclass the lower layer builds, handled in its transaction."""

    name: ClassVar[str] = ""


_interceptors: dict[type[Interception], list[tuple[int, str, Callable[[Any], Any]]]] = defaultdict(list)


def add_interceptor(point: type[P], handler: Callable[[P], Any], *, order: int) -> None:
    """Register `handler` for `point`; lower `order` runs first. Idempotent per handler."""
    key = f"{handler.__module__}.{handler.__qualname__}"
    entries = [entry for entry in _interceptors[point] if entry[1] != key]
    entries.append((order, key, handler))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    _interceptors[point] = entries


def remove_interceptor(point: type[Interception], handler: Callable[..., Any]) -> None:
    key = f"{handler.__module__}.{handler.__qualname__}"
    _interceptors[point] = [entry for entry in _interceptors.get(point, []) if entry[1] != key]


def interceptors(point: type[Interception]) -> list[Callable[[Any], Any]]:
    return [handler for _, _, handler in _interceptors.get(point, [])]


def intercept_first(call: Interception) -> Any:
    """Offer `call` to its interceptors in order; the first result that is not None wins (else None)."""
    for handler in interceptors(type(call)):
        result = handler(call)
        if result is not None:
            return result
    return None


def intercept_all(call: Interception) -> list[Any]:
    """Run every interceptor of `call` in order and return their results; an error propagates, so the
    caller's transaction rolls back as a whole."""
    return [handler(call) for handler in interceptors(type(call))]


def require_interceptor(call: Interception) -> Any:
    """Hand `call` to the one handler that owns its point (the pipeline's recorder) and return what it
    returns, None included; a point nobody handles is a wiring error, not something to skip."""
    handlers = interceptors(type(call))
    if not handlers:
        raise LookupError(f"nothing handles {type(call).__name__}: is the app that records it installed?")
    return handlers[0](call)


@dataclass(frozen=True)
class EventCatalogueEntry:
    name: str
    event_type: type[DomainEvent]


def catalogue() -> list[EventCatalogueEntry]:
    """Every event type defined here, in declaration order (docs/events.md is checked against it)."""
    return [
        EventCatalogueEntry(cls.name, cls)
        for cls in DomainEvent.__subclasses__()
        if cls.name  # a subclass without a name is a base of some other module's, not an event
    ]
