from __future__ import annotations

import time

import pytest
from django.test import override_settings

from core.redis import get_redis
from cxm.celery import HEARTBEAT_KEY_PREFIX

pytestmark = pytest.mark.django_db

TOKEN = "monitoring-token-0123456789abcdef"


@pytest.fixture
def client(client, settings):
    """The details are for monitors with the token (anonymous callers get the status only)."""
    settings.HEALTHZ_TOKEN = TOKEN
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def _clear_heartbeats():
    client = get_redis()
    for key in client.scan_iter(match=f"{HEARTBEAT_KEY_PREFIX}*"):
        client.delete(key)


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_healthz_is_503_when_redis_is_down(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is False
    assert "ConnectionError" in body["checks"]["redis"]["error"]
    assert body["checks"]["worker"]["ok"] is False


def test_healthz_is_503_without_a_live_worker(client):
    _clear_heartbeats()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {
        "ok": False,
        "workers": 0,
        "error": "no Celery worker has reported a heartbeat",
        "latency_ms": response.json()["checks"]["worker"]["latency_ms"],
    }


def test_healthz_ignores_stale_heartbeats(client, settings):
    _clear_heartbeats()
    get_redis().set(
        f"{HEARTBEAT_KEY_PREFIX}old@host", f"{time.time() - settings.WORKER_HEARTBEAT_MAX_AGE - 5}"
    )
    try:
        assert client.get("/healthz").status_code == 503
    finally:
        _clear_heartbeats()


def test_healthz_reports_queue_depths(client):
    body = client.get("/healthz").json()
    assert set(body["checks"]["redis"]["queues"]) == {"realtime", "ingest", "bulk"}
    assert body["mode"] == "services"


@override_settings(EMBEDDED=True)
def test_healthz_in_embedded_mode_checks_the_same_engines(client):
    # The embedded default runs PostgreSQL, Redis and a worker like production: nothing is skipped.
    body = client.get("/healthz").json()
    assert body["mode"] == "embedded"
    assert body["checks"]["database"]["vendor"] == "postgresql"
    assert set(body["checks"]["redis"]["queues"]) == {"realtime", "ingest", "bulk"}
    assert "workers" in body["checks"]["worker"] or "error" in body["checks"]["worker"]
