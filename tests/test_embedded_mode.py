"""`make run` without DATABASE_URL/REDIS_URL: SQLite, in-process tasks, in-memory websocket layer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import run_async

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_server(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PYTEST_XDIST_WORKER")
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310 - local test server
            break
        except OSError:
            time.sleep(0.2)
    yield base, log
    process.terminate()
    process.wait(timeout=10)


def test_embedded_server_says_so_and_is_healthy(embedded_server):
    base, log = embedded_server
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:  # noqa: S310
        body = json.load(response)
    assert response.status == 200
    assert body["mode"] == "embedded"
    assert body["checks"]["database"]["vendor"] == "sqlite"
    first_line = log.read_text().splitlines()[0]
    assert first_line.startswith("CXM embedded mode:")


def test_embedded_server_speaks_websocket_and_refuses_anonymous(embedded_server):
    import asyncio

    import websockets

    base, _ = embedded_server

    async def scenario() -> int | None:
        url = base.replace("http://", "ws://") + "/ws/app/"
        async with websockets.connect(url, origin=base.replace("127.0.0.1", "localhost")) as ws:
            try:
                await asyncio.wait_for(ws.recv(), timeout=5)
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
        return None

    assert run_async(scenario) == 4401
