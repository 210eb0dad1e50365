"""Conversation-side background work."""

from __future__ import annotations

from celery import shared_task

from channels_app.adapters.base import AdapterError
from tickets.attachment_fetch import do_fetch_attachment
from tickets.sla_breaches import do_announce_sla_breaches


# The name is older than the task's move here; queued messages carry it.
@shared_task(name="channels_app.tasks.fetch_attachment", bind=True, max_retries=5, acks_late=True)
def fetch_attachment(self, attachment_id: int) -> str:
    try:
        return do_fetch_attachment(attachment_id=attachment_id)
    except AdapterError as exc:
        if exc.permanent:
            raise
        raise self.retry(countdown=30 * 2**self.request.retries) from exc


@shared_task(name="tickets.tasks.announce_sla_breaches")
def announce_sla_breaches() -> int:
    return do_announce_sla_breaches()
