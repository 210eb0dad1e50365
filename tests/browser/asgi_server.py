"""A real ASGI server process (uvicorn, as in production) against this test process's database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.workers import ROOT, database_url, wait_until


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - a local test URL
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def asgi_server(
    *, port: int, redis_url: str, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """Serve cxm.asgi:application on 127.0.0.1:<port>; yields its base URL once it answers.

    The test must use transactional_db: the server reads the database through its own connections, so it
    only sees committed rows.
    """
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": base,
        **(extra_env or {}),
    }
    # The server takes REDIS_URL as given; without this marker it is not remapped per test process.
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    with log.open("a") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "cxm.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--lifespan", "off"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(
            lambda: process.poll() is None and _answers(f"{base}/widget/chat.js"),
            30,
            lambda: f"uvicorn on port {port} did not start\n{log.read_text()}",
        )
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
