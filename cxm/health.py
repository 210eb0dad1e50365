"""Liveness checks for the database, Redis and Celery workers, used by /healthz."""

from __future__ import annotations

import hmac
import time
from typing import Any

from django.conf import settings
from django.db import connection

from core.redis import get_redis
from cxm.celery import HEARTBEAT_KEY_PREFIX

QUEUES = ("realtime", "ingest", "bulk")


def _timed(check) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = check()
        result.setdefault("ok", True)
    except Exception as exc:  # any failure is reported in the JSON, never raised
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def check_redis() -> dict[str, Any]:
    client = get_redis()
    client.ping()
    return {"queues": {name: client.llen(name) for name in QUEUES}}


def check_workers() -> dict[str, Any]:
    client = get_redis()
    now = time.time()
    ages = []
    for key in client.scan_iter(match=f"{HEARTBEAT_KEY_PREFIX}*", count=100):
        value = client.get(key)
        if value is not None:
            ages.append(now - float(value))
    fresh = [age for age in ages if age <= settings.WORKER_HEARTBEAT_MAX_AGE]
    if not fresh:
        return {"ok": False, "workers": 0, "error": "no Celery worker has reported a heartbeat"}
    return {"workers": len(fresh), "last_heartbeat_age_s": round(min(fresh), 1)}


def run_checks() -> tuple[bool, dict[str, Any]]:
    checks = {"database": _timed(check_database), "redis": _timed(check_redis)}
    if checks["redis"]["ok"]:
        checks["worker"] = _timed(check_workers)
    else:
        checks["worker"] = {"ok": False, "error": "unknown: Redis is unreachable"}
    healthy = all(check["ok"] for check in checks.values())
    return healthy, {
        "status": "ok" if healthy else "fail",
        "mode": "embedded" if settings.EMBEDDED else "services",
        "checks": checks,
    }


def may_see_details(request) -> bool:
    """Staff, or a monitor sending `Authorization: Bearer <HEALTHZ_TOKEN>`; anyone else gets the status only.

    The details name the database vendor, queue depths and connection errors: a map for an attacker.
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active and user.is_staff:
        return True
    token = settings.HEALTHZ_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def public_report(report: dict[str, Any]) -> dict[str, Any]:
    return {"status": report["status"]}
