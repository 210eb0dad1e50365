"""A real Celery worker, started as its own process, consumes from Redis and writes to PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from core.models import ServiceHeartbeat
from core.tasks import heartbeat
from tests.workers import celery_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_runs_a_task_and_its_write_lands_in_postgres(settings, tmp_path, client):
    # The details of /healthz are for monitoring with the token; strangers see only the status.
    settings.HEALTHZ_TOKEN = "integration-test-healthz-token-0123456789"
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {settings.HEALTHZ_TOKEN}"
    log = tmp_path / "worker.log"
    with celery_worker(redis_url=settings.REDIS_URL, log=log) as process:
        name = f"integration-{uuid.uuid4().hex}"
        heartbeat.apply_async(kwargs={"name": name})
        wait_until(lambda: ServiceHeartbeat.objects.filter(name=name).exists(), 60, log.read_text)
        assert process.poll() is None

        # The same worker's own heartbeat makes /healthz report it alive.
        wait_until(lambda: client.get("/healthz").status_code == 200, 30, log.read_text)
        assert client.get("/healthz").json()["checks"]["worker"]["workers"] >= 1
