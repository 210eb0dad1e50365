"""The Celery application, configured from Django settings (``CELERY_*``)."""

from __future__ import annotations

import logging
import os
import socket
import time

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxm.settings")

logger = logging.getLogger(__name__)

app = Celery("cxm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HEARTBEAT_KEY_PREFIX = "cxm:health:worker:"
HEARTBEAT_INTERVAL = 10


class HeartbeatStep(bootsteps.StartStopStep):
    """Writes a short-lived Redis key from the worker's main loop so /healthz can see live workers.

    It runs on the worker's own timer rather than as a beat-scheduled task, so a stopped beat does not
    make healthy workers look dead.
    """

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None
        self.key = f"{HEARTBEAT_KEY_PREFIX}{worker.hostname or socket.gethostname()}"

    def start(self, worker):
        self.beat()
        self.tref = worker.timer.call_repeatedly(HEARTBEAT_INTERVAL, self.beat, priority=10)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
        from core.redis import get_redis

        get_redis().delete(self.key)

    def beat(self):
        from core.redis import get_redis

        client = get_redis()
        try:
            client.set(self.key, f"{time.time():.3f}", ex=HEARTBEAT_INTERVAL * 6)
        except Exception:  # a Redis blip must not stop the worker's timer; the next beat retries
            logger.warning("worker heartbeat could not be written", exc_info=True)


app.steps["worker"].add(HeartbeatStep)
