"""Sending outbound messages through their channel's adapter, with retries for temporary failures."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from channels_app.adapters.base import AdapterError, get_adapter
from channels_app.kinds import provider_for
from channels_app.models import Channel, OutboundMessage, OutboundStatus
from channels_app.outbound_status import do_apply_status_update, do_record_send_failure

logger = logging.getLogger(__name__)
MAX_SEND_ATTEMPTS = 6


def backoff_seconds(attempt: int) -> int:
    """5 s, 20 s, 80 s, 5 min, 20 min: long enough to ride out a provider incident."""
    return min(5 * 4 ** max(attempt - 1, 0), 20 * 60)


@transaction.atomic
def do_queue_outbound(
    *, channel: Channel, recipient: str, payload: dict[str, Any], message: Any = None
) -> OutboundMessage:
    from channels_app.tasks import send_outbound

    outbound = OutboundMessage.objects.create(
        channel=channel, recipient=recipient, payload=payload, message=message
    )
    transaction.on_commit(lambda: _enqueue(send_outbound, outbound.pk))
    return outbound


def _enqueue(task: Any, outbound_id: int) -> None:
    try:
        task.apply_async(args=[outbound_id], queue="realtime")
    except Exception:  # broker down: channels_app.outbound_sweep queues it again
        logger.warning("could not queue outbound %s", outbound_id, exc_info=True)


class RetryLater(Exception):
    def __init__(self, delay: int):
        super().__init__(delay)
        self.delay = delay


def do_send(*, outbound_id: int) -> str:
    """Send one queued message. Raises RetryLater on a temporary failure that has attempts left."""
    with transaction.atomic():
        # The row lock keeps a redelivered task from sending the same message twice concurrently.
        outbound = (
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .select_related("channel")
            .filter(pk=outbound_id, status=OutboundStatus.QUEUED, provider_message_id__isnull=True)
            .first()
        )
        if outbound is None:
            return "skipped"
        channel = outbound.channel
        adapter = get_adapter(provider_for(channel.kind, channel.config))
        outbound.attempts += 1
        retry_in = 0
        try:
            if adapter is None:
                raise AdapterError(f"no adapter sends through {channel.kind} channels", permanent=True)
            provider_id = adapter.send(outbound, channel)
        except AdapterError as exc:
            outbound.error = str(exc)[:2000]
            outbound.save(update_fields=["attempts", "error"])
            if not exc.permanent and outbound.attempts < MAX_SEND_ATTEMPTS:
                retry_in = backoff_seconds(outbound.attempts)
            failed = True
        else:
            outbound.provider_message_id = provider_id
            outbound.save(update_fields=["attempts", "provider_message_id"])
            failed = False
    # Raised outside the transaction so the attempt count and the error stay recorded.
    if retry_in:
        raise RetryLater(retry_in)
    from channels_app.normalized import StatusUpdate

    status = OutboundStatus.FAILED if failed else OutboundStatus.SENT
    if failed:
        # No provider id was assigned, so the row is marked by its id rather than through a callback
        # lookup; the conversation side (keeping it open, telling the author) follows there.
        do_record_send_failure(outbound=outbound)
    else:
        do_apply_status_update(
            channel=channel, update=StatusUpdate(provider_message_id=provider_id, status=status)
        )
    return status
