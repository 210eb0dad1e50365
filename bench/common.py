"""What every benchmark needs: its own migrated database, Django set up against it, percentiles."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def setup_django(database_url: str, redis_url: str) -> None:
    """Create and migrate the benchmark's database, then set Django up in this process (DEBUG off)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    subprocess.run(
        [sys.executable, "scripts/probe.py", "createdb", database_url], cwd=ROOT, env=env, check=True
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "DEBUG", "LOG_LEVEL")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxm.settings")
    import django

    django.setup()


def uvicorn_command(port: int, workers: int = 1) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "cxm.asgi:application", "--port", str(port),
        "--workers", str(workers), "--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "30",
    ]  # fmt: skip


@contextmanager
def running(
    web_command: list[str],
    *,
    port: int,
    queues: str,
    concurrency: int,
    env: dict[str, str],
    worker_nice: int = 0,
):
    """The web server and a Celery worker as production runs them, stopped again on the way out.

    `worker_nice` lowers the worker's CPU priority, as a deployment that shares cores between web and
    workers would, so that background work yields to requests waiting for an answer.
    """
    web = subprocess.Popen(web_command, cwd=ROOT, env=env)
    niced = ["nice", "-n", str(worker_nice)] if worker_nice else []
    worker = subprocess.Popen(
        [*niced, sys.executable, "-m", "celery", "-A", "cxm", "worker", "-Q", queues,
         "--concurrency", str(concurrency), "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield
    finally:
        web.terminate()
        worker.terminate()
        web.wait(timeout=30)
        worker.wait(timeout=30)
