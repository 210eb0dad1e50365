"""Processing stored deliveries: claim, parse, apply, mark. One transaction per event."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from functools import partial

from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from channels_app.adapters.base import AdapterError, Ignored, get_adapter
from channels_app.inbound_models import InboundEvent, InboundStatus
from channels_app.normalized import NormalizedMessage, ParsedItem, StatusUpdate
from channels_app.outbound_status import do_apply_status_update
from channels_app.pipeline_points import (
    InboundItem,
    RecordAutomatedMail,
    RecordInboundMessage,
    RecordInboundRun,
)
from core import events, realtime

logger = logging.getLogger(__name__)
MAX_ERROR_LENGTH = 2000
MAX_OUTCOME_LENGTH = 500
PUBLISH_CHUNK = 100


def process_event(*, event_id: int) -> str:
    """Process one pending event. A crash anywhere rolls back everything, so nothing is half-applied."""
    with transaction.atomic():
        event = (
            InboundEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("channel")
            .filter(pk=event_id, status=InboundStatus.PENDING)
            .first()
        )
        if event is None:
            return "skipped"  # already processed, or being processed by another worker right now
        _process_claimed(event)
    return event.status


def process_pending(*, limit: int = 200) -> int:
    """Claim and process up to `limit` pending events in one go (cheaper than one task each)."""
    done = 0
    while done < limit:
        # Browser updates go out per small chunk: batched for speed, yet never held back for long.
        with realtime.batched():
            chunk = _drain(min(PUBLISH_CHUNK, limit - done))
        done += chunk
        if chunk < PUBLISH_CHUNK and done < limit:
            break
    return done


def _drain(limit: int) -> int:
    """Claim up to `limit` events and process them in one transaction.

    One commit per chunk instead of one per event, and that commit need not wait for the WAL flush:
    the deliveries themselves were made durable by the webhook, so a crash that loses this commit only
    leaves them pending, and the sweeper processes them again. A lock conflict with the other worker
    (two chunks touching the same customers in a different order) rolls the chunk back and it is
    redone one event per transaction, where such conflicts resolve by waiting.
    """
    try:
        with transaction.atomic():
            _async_commit()
            events = list(_claim(limit))
            _process_chunk(events)
            return len(events)
    except OperationalError:
        logger.info("chunk of %s events hit a lock conflict; processing them one by one", limit)
    done = 0
    while done < limit:
        outcome = _one_by_itself()
        if outcome is None:
            break
        done += outcome
    return done


def _one_by_itself(attempts: int = 5) -> int | None:
    """Claim and process one event in its own transaction; None when nothing is pending.

    PostgreSQL may pick this transaction as a deadlock victim even though it only waits behind two
    other workers. That says nothing about the event, so it is tried again after a short pause
    instead of failing the whole drain and leaving the rest for the sweeper.
    """
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                _async_commit()
                claimed = list(_claim(1))
                if not claimed:
                    return None
                _process_claimed(claimed[0])
                return 1
        except OperationalError:
            if attempt == attempts - 1:
                raise
            logger.info("inbound event lost a lock conflict; trying again", exc_info=True)
            time.sleep(0.05 * (attempt + 1))
    return 0


def _claim(limit: int):
    # of=("self",): locking the joined channel row as well would let only one worker drain a channel.
    return (
        InboundEvent.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("channel")
        .filter(status=InboundStatus.PENDING)
        .order_by("received_at", "id")[:limit]
    )


def _async_commit() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _process_chunk(events: list[InboundEvent]) -> None:
    """Events made only of plain messages are recorded together, in runs; any other event is processed
    on its own in its place, so the order of a customer's messages is kept."""
    run: list[tuple[InboundEvent, list[ParsedItem]]] = []
    for event in events:
        items = _parse(event)
        if items and all(isinstance(i, NormalizedMessage) and i.plain for i in items):
            run.append((event, items))
            continue
        _record_run(run)
        run = []
        _process_claimed(event, items)
    _record_run(run)


def _parse(event: InboundEvent) -> list[ParsedItem] | None:
    """The adapter's items, or None when parsing fails (the single path then stores the reason)."""
    adapter = get_adapter(event.provider)
    if adapter is None:
        return None
    try:
        return adapter.parse(event, event.channel)
    except Exception:
        return None


def _record_run(run: list[tuple[InboundEvent, list[ParsedItem]]]) -> None:
    if not run:
        return
    try:
        with transaction.atomic():  # a savepoint: on any error the run is redone event by event
            events.require_interceptor(
                RecordInboundRun(
                    items=[
                        InboundItem(channel=event.channel, message=item, event=event)
                        for event, items in run
                        for item in items
                        if isinstance(item, NormalizedMessage)
                    ]
                )
            )
            InboundEvent.objects.filter(pk__in=[event.pk for event, _ in run]).update(
                status=InboundStatus.DONE, error="", processed_at=timezone.now(), attempts=F("attempts") + 1
            )
    except OperationalError:
        raise
    except Exception:
        logger.warning(
            "a run of %s events could not be recorded together; recording one by one", len(run), exc_info=True
        )
        for event, items in run:
            _process_claimed(event, items)
        return
    for event, _ in run:
        event.status = InboundStatus.DONE


def _process_claimed(event: InboundEvent, items: list[ParsedItem] | None = None) -> None:
    """Apply one event in its own savepoint; `items` are its already parsed contents, if any."""
    event.attempts += 1
    event.outcome = ""
    adapter = get_adapter(event.provider)
    try:
        if adapter is None:
            raise AdapterError(f"no adapter for provider {event.provider!r}", permanent=True)
        with transaction.atomic():  # a savepoint: a failed parse leaves no partial rows behind
            if items is None:
                items = adapter.parse(event, event.channel)
            outcomes = []
            for item in items:
                if isinstance(item, NormalizedMessage) and item.automated:
                    # Auto-replies and bounces: never a customer, never a new conversation.
                    outcomes.append(
                        events.require_interceptor(
                            RecordAutomatedMail(channel=event.channel, message=item, event=event)
                        )
                    )
                elif isinstance(item, NormalizedMessage):
                    events.require_interceptor(
                        RecordInboundMessage(channel=event.channel, message=item, event=event)
                    )
                elif isinstance(item, StatusUpdate):
                    do_apply_status_update(channel=event.channel, update=item)
            event.outcome = "; ".join(outcomes)[:MAX_OUTCOME_LENGTH]
    except OperationalError:
        raise  # a lock conflict or a lost connection says nothing about the event: it stays pending
    except Ignored as exc:
        _finish(event, InboundStatus.IGNORED, str(exc))
    except AdapterError as exc:
        _finish(event, InboundStatus.FAILED, str(exc))
    except Exception as exc:  # a bug must not lose the event: keep it, visible and replayable
        logger.exception("inbound event %s failed unexpectedly", event.pk)
        _finish(event, InboundStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}")
    else:
        _finish(event, InboundStatus.DONE if items else InboundStatus.IGNORED, "")


def _finish(event: InboundEvent, status: str, error: str) -> None:
    event.status = status
    event.error = error[:MAX_ERROR_LENGTH]
    event.processed_at = timezone.now()
    event.save(update_fields=["status", "error", "processed_at", "attempts", "outcome"])


def stale_pending_ids(*, older_than_seconds: int, limit: int = 1000) -> list[int]:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        InboundEvent.objects.filter(status=InboundStatus.PENDING, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("id", flat=True)[:limit]
    )


@transaction.atomic
def do_replay_events(*, event_ids: list[int]) -> int:
    """Put failed or ignored events back in the queue, e.g. after a parser fix."""
    from channels_app.tasks import enqueue_inbound

    updated = list(
        InboundEvent.objects.filter(pk__in=event_ids)
        .exclude(status=InboundStatus.PENDING)
        .exclude(status=InboundStatus.DONE)
        .values_list("id", flat=True)
    )
    InboundEvent.objects.filter(pk__in=updated).update(status=InboundStatus.PENDING, error="")
    for event_id in updated:
        transaction.on_commit(partial(enqueue_inbound, event_id))
    return len(updated)
