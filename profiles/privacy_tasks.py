"""Background work of the privacy tools."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="profiles.privacy_tasks.apply_retention")
def apply_retention() -> dict[str, int]:
    """Nightly: clean what is older than each retention policy allows."""
    from profiles.retention import do_apply_retention

    return do_apply_retention()
