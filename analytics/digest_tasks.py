"""Thin task: beat runs it every quarter of an hour; the service decides whose Monday morning it is."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="analytics.digest_tasks.send_weekly_digests", acks_late=True)
def send_weekly_digests() -> int:
    from analytics.digest_services import do_send_due_digests

    return do_send_due_digests()
