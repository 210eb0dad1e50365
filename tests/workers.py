"""Real background processes for integration tests: Celery workers and private Redis servers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the test database this test process uses (a worker must write to the same one)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], bool], timeout: float, describe: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"condition not met within {timeout}s\n{describe()}")


@contextmanager
def celery_worker(
    *, redis_url: str, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        # The stub servers a worker talks to listen on loopback (see tests/conftest.py).
        "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1,::1,localhost",
        **(extra_env or {}),
    }
    # The worker takes REDIS_URL as given; without this marker it is not remapped per test process.
    env.pop("PYTEST_XDIST_WORKER", None)
    with log.open("a") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "cxm", "worker", "-Q", "realtime,ingest,bulk",
                "--pool=solo", "--without-gossip", "--without-mingle", "--loglevel=INFO",
                f"--hostname=test-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def redis_server(port: int, workdir: Path) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    import redis

    client = redis.Redis(port=port)
    wait_until(lambda: _pings(client), 10, lambda: f"redis-server on {port} did not start")
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def _pings(client) -> bool:
    import redis

    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Point this process's Celery producer at another broker, dropping cached connections both ways."""
    from cxm.celery import app

    def reset() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    app.conf.broker_url = url
    reset()
    try:
        yield
    finally:
        app.conf.broker_url = previous
        reset()
