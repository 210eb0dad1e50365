"""Thin task wrappers for the reporting store (queue `bulk`, see CELERY_TASK_ROUTES)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="analytics.tasks.refresh_reporting", acks_late=True)
def refresh_reporting() -> int:
    """Beat, every 5 s: refresh the facts and cells of conversations marked dirty."""
    from analytics.refresh import do_refresh_dirty

    return do_refresh_dirty()
