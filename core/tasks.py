"""Platform-level tasks."""

from __future__ import annotations

import socket

from celery import shared_task
from django.utils import timezone


# The name predates the core package; task names are wire identifiers, kept for queued messages.
@shared_task(name="cxm.tasks.heartbeat")
def heartbeat(*, name: str = "beat") -> str:
    """Beat-driven liveness mark: proves beat schedules, the realtime queue flows and workers reach the DB."""
    from core.models import ServiceHeartbeat

    ServiceHeartbeat.objects.update_or_create(
        name=name, defaults={"seen_at": timezone.now(), "hostname": socket.gethostname()[:200]}
    )
    return name
