"""Thin task wrappers around the inbound pipeline services."""

from __future__ import annotations

import logging

from celery import shared_task

from core.redis import get_redis

logger = logging.getLogger(__name__)

# Set while a drain task is queued: a burst of webhooks queues one drain, not one task per message
# (Celery's per-task overhead alone would otherwise cap ingestion near 1,000 messages/s on 2 cores).
DRAIN_FLAG = "cxm:ingest:drain-queued"
DRAIN_FLAG_TTL_S = 30
DRAIN_BATCH = 500


def enqueue_inbound(event_id: int) -> None:
    """Make sure a worker will process this event soon. Never raises: the sweeper is the safety net."""
    client = get_redis()
    try:
        if client.set(DRAIN_FLAG, "1", nx=True, ex=DRAIN_FLAG_TTL_S):
            process_pending_batch.apply_async(queue="ingest")
    except Exception:  # the broker may be unreachable in any of several ways (kombu, redis, socket errors)
        logger.warning("could not queue inbound event %s; the sweeper will retry", event_id, exc_info=True)
        _clear_flag(client)


def _clear_flag(client) -> None:
    # A flag without a queued drain would hold back the next deliveries until it expires.
    try:
        client.delete(DRAIN_FLAG)
    except Exception:
        logger.warning("could not clear the drain flag", exc_info=True)


@shared_task(name="channels_app.tasks.process_inbound", acks_late=True)
def process_inbound(event_id: int) -> str:
    from channels_app.ingest import process_event

    return process_event(event_id=event_id)


@shared_task(name="channels_app.tasks.process_pending_batch", acks_late=True)
def process_pending_batch(limit: int = DRAIN_BATCH) -> int:
    """Drain pending events. Clearing the flag first means any event committed from now on queues a
    new drain, and anything committed before is seen by this one: nothing waits for the sweeper."""
    from channels_app.ingest import process_pending

    get_redis().delete(DRAIN_FLAG)
    done = process_pending(limit=limit)
    if done >= limit:
        # A long backlog continues in a fresh task so other queues and workers get their turn.
        process_pending_batch.apply_async(queue="ingest")
    return done


@shared_task(name="channels_app.tasks.sweep_inbound")
def sweep_inbound(older_than_seconds: int = 30) -> int:
    """Queue a drain when deliveries have waited too long (broker was down, a worker died mid-event)."""
    from channels_app.ingest import stale_pending_ids

    stale = len(stale_pending_ids(older_than_seconds=older_than_seconds, limit=DRAIN_BATCH))
    if stale:
        process_pending_batch.apply_async(queue="ingest")
    return stale


@shared_task(name="channels_app.tasks.send_outbound", bind=True, max_retries=None)
def send_outbound(self, outbound_id: int) -> str:
    from channels_app.outbound import RetryLater, do_send

    try:
        return do_send(outbound_id=outbound_id)
    except RetryLater as later:
        raise self.retry(countdown=later.delay) from later


@shared_task(name="channels_app.tasks.sweep_outbound")
def sweep_outbound() -> int:
    """Queue again the sends whose task was lost, so no reply stays "Queued" for good."""
    from channels_app.outbound_sweep import overdue_outbound_ids

    overdue = overdue_outbound_ids()
    for outbound_id in overdue:
        send_outbound.apply_async(args=[outbound_id], queue="realtime")
    return len(overdue)


@shared_task(name="channels_app.tasks.poll_mailboxes")
def poll_mailboxes() -> dict:
    from channels_app.email.imap import poll_all

    return poll_all()
