from __future__ import annotations

import socket
import time

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from core.models import ServiceHeartbeat
from core.redis import get_redis
from cxm.celery import HEARTBEAT_KEY_PREFIX
from cxm.management.commands.serve import describe_mode

pytestmark = pytest.mark.django_db


def test_worker_healthcheck_needs_this_hosts_heartbeat(capsys):
    key = f"{HEARTBEAT_KEY_PREFIX}celery@{socket.gethostname()}"
    client = get_redis()
    client.delete(key)
    with pytest.raises(CommandError, match="no worker heartbeat"):
        call_command("healthcheck", component="worker")
    client.set(key, f"{time.time()}", ex=30)
    try:
        call_command("healthcheck", component="worker")
        assert "worker ok" in capsys.readouterr().out
    finally:
        client.delete(key)


def test_beat_healthcheck_fails_when_the_heartbeat_is_old():
    with pytest.raises(CommandError, match="not run"):
        call_command("healthcheck", component="beat")
    ServiceHeartbeat.objects.create(name="beat", seen_at=timezone.now() - timezone.timedelta(minutes=5))
    with pytest.raises(CommandError, match="ago"):
        call_command("healthcheck", component="beat")
    ServiceHeartbeat.objects.filter(name="beat").update(seen_at=timezone.now())
    call_command("healthcheck", component="beat")


def test_heartbeat_task_records_a_row():
    from core.tasks import heartbeat

    heartbeat.apply(kwargs={"name": "beat"})
    assert ServiceHeartbeat.objects.get(name="beat").seen_at > timezone.now() - timezone.timedelta(seconds=5)


def test_mode_line_names_the_services():
    assert describe_mode().startswith("CXM services mode:")
    with override_settings(EMBEDDED=True):
        line = describe_mode()
    assert line.startswith("CXM embedded mode:")
    assert "private PostgreSQL" in line and "DATABASE_URL and REDIS_URL" in line


def test_worker_links_use_the_served_address():
    from cxm.management.commands.serve import _reachable

    assert _reachable("0.0.0.0") == "127.0.0.1"  # noqa: S104 - the wildcard a user may pass
    assert _reachable("192.168.1.20") == "192.168.1.20"
    assert _reachable("") == "127.0.0.1"
