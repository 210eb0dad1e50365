"""`manage.py healthcheck --component worker|beat`: container health checks for the background services."""

from __future__ import annotations

import socket

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.models import ServiceHeartbeat
from core.redis import get_redis
from cxm.celery import HEARTBEAT_KEY_PREFIX

# Beat schedules core.tasks.heartbeat every 15 s; four missed runs mean beat (or the queue) is stuck.
BEAT_MAX_AGE_S = 60


class Command(BaseCommand):
    help = "Exit non-zero when this host's Celery worker, or the beat scheduler, has stopped reporting."

    def add_arguments(self, parser):
        parser.add_argument("--component", choices=("worker", "beat"), required=True)

    def handle(self, *args, component: str, **options):
        if component == "worker":
            client = get_redis()
            hostname = socket.gethostname()
            keys = list(client.scan_iter(match=f"{HEARTBEAT_KEY_PREFIX}*@{hostname}"))
            if not keys:
                raise CommandError(f"no worker heartbeat from {hostname}")
            self.stdout.write(f"worker ok: {', '.join(k.decode() for k in keys)}")
            return
        beat = ServiceHeartbeat.objects.filter(name="beat").first()
        if beat is None:
            raise CommandError("beat has not run the heartbeat task yet")
        age = (timezone.now() - beat.seen_at).total_seconds()
        if age > BEAT_MAX_AGE_S:
            raise CommandError(f"last beat heartbeat {age:.0f}s ago")
        self.stdout.write(f"beat ok: last run {age:.0f}s ago")
