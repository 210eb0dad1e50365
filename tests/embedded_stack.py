"""`manage.py serve --setup` with no DATABASE_URL/REDIS_URL, exactly as `make run` starts it.

Used by the embedded-mode tests and by scripts/readme_screenshots.py; the data folder is the caller's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.workers import free_port

ROOT = Path(__file__).resolve().parent.parent


def _fail(message: str):
    try:
        import pytest
    except ImportError:  # used outside the test suite
        raise RuntimeError(message) from None
    pytest.fail(message)


class Stack:
    """`manage.py serve --setup` on a free port, as `make run` runs it."""

    def __init__(self, data: Path, log: Path, *, env: dict[str, str] | None = None):
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "PYTEST_XDIST_WORKER", "RUN_MAIN")
        }
        self.env.update(CXM_EMBEDDED_DIR=str(data), PYTHONUNBUFFERED="1", **(env or {}))
        self.data = data
        self.log = log
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> Stack:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", f"127.0.0.1:{self.port}", "--setup", "--noreload"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 240
        while "CXM is ready" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                _fail(f"the embedded stack did not come up:\n{self.log.read_text()[-4000:]}")
            time.sleep(0.25)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            # Workers finish their running tasks first; a busy machine can take minutes.
            self.process.wait(timeout=240)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    def query(self, code: str):
        """Run Python in `manage.py shell` against the running services; its last line is JSON."""
        done = self.manage("shell", "-c", code)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def wait_for(self, code: str, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while True:
            value = self.query(code)
            if value:
                return value
            if time.monotonic() > deadline:
                _fail(f"{what}: not within {timeout}s\n{self.log.read_text()[-3000:]}")
            time.sleep(1)
