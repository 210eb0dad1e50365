"""The safety net for outbound sends: queued rows whose task was lost are queued again.

A send's task can be lost (the broker was down at commit, Redis was restarted without its data, a worker
died holding it). A row is overdue when even its last retry should have run by now: its age is more
than every backoff it has earned so far plus a grace period. Queueing it twice is harmless:
`do_send` locks the row and sends only what is still queued without a provider id.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from channels_app.models import OutboundMessage, OutboundStatus
from channels_app.outbound import MAX_SEND_ATTEMPTS, backoff_seconds

GRACE = timedelta(minutes=2)
SWEEP_LIMIT = 500


def overdue_outbound_ids(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> list[int]:
    now = now or timezone.now()
    waited = timedelta()
    due = Q()
    for attempts in range(MAX_SEND_ATTEMPTS):
        if attempts:
            waited += timedelta(seconds=backoff_seconds(attempts))
        due |= Q(attempts=attempts, created_at__lt=now - waited - GRACE)
    return list(
        OutboundMessage.objects.filter(due, status=OutboundStatus.QUEUED, provider_message_id__isnull=True)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
