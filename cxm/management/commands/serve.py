"""`manage.py serve`: the web server (HTTP + websockets) with a Celery worker and beat beside it.

The same engines run in both modes: with DATABASE_URL/REDIS_URL they are yours; without, settings has
already started a private PostgreSQL and Redis (cxm.embedded) that this process stops on exit.
`--setup` migrates, seeds the demo workspace and makes the admin login first, so `make run` is one
process, and the login is printed last, once the server answers and the worker has reported in.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from cxm.demo.services import demo_present
from cxm.health import check_workers


def describe_mode() -> str:
    db = settings.DATABASES["default"]
    redis = urlsplit(str(settings.REDIS_URL))
    redis_at = f"{redis.hostname}:{redis.port or 6379}"
    if settings.EMBEDDED:
        root = settings.EMBEDDED_ROOT
        return (
            f"CXM embedded mode: private PostgreSQL (database {db['NAME']}, data in {root / 'postgres'}) "
            f"and Redis ({redis_at}, data in {root / 'redis'}), a Celery worker and beat beside the web "
            "server. Set DATABASE_URL and REDIS_URL to use your own servers."
        )
    return (
        f"CXM services mode: database {db.get('HOST') or 'local'}/{db['NAME']}, "
        f"Redis {redis_at}, Celery worker + beat started beside the web server."
    )


def describe_data() -> str:
    """Said on the start-up line, so nobody takes the seeded workspace for real customers' data."""
    return " (the data is a demo workspace)" if demo_present() else ""


def _wait_until_ready(host: str, port: int, worker: bool, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                break
        except OSError:
            time.sleep(0.25)
    else:
        return False
    while worker and time.monotonic() < deadline:
        # check_workers reports a Redis failure in its result instead of raising.
        with contextlib.suppress(Exception):
            if check_workers().get("workers"):
                return True
        time.sleep(0.5)
    return not worker


def _reachable(host: str) -> str:
    """The host part of a URL for an address the server listens on (a wildcard is not an address)."""
    host = host or "127.0.0.1"
    return {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "::": "[::1]"}.get(host, host)  # noqa: S104


class Command(BaseCommand):
    help = "Serve the app (HTTP + websockets) with a Celery worker and beat beside it."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-worker", action="store_true", help="Do not start a Celery worker.")
        parser.add_argument("--noreload", action="store_true", help="Disable the auto-reloader.")
        parser.add_argument(
            "--setup",
            action="store_true",
            help="Migrate, seed the demo workspace and ensure the admin login before serving.",
        )

    def handle(self, *args, **options):
        addrport = options["addrport"]
        # The auto-reloader re-executes this command in a child process (RUN_MAIN=true); set up,
        # announce and start the worker only once, in the outer process that lives for the session.
        if os.environ.get("RUN_MAIN") != "true":
            self.stdout.write(describe_mode())
            login = self._setup() if options["setup"] else ""
            demo = describe_data()
            with_worker = not options["no_worker"]
            host, _, port = addrport.rpartition(":")
            if with_worker:
                self._start_worker(served_at=f"http://{_reachable(host)}:{port}")
            self._announce_when_ready(host or "127.0.0.1", int(port), with_worker, login, demo)
        call_command("runserver", addrport, use_reloader=not options["noreload"])

    def _setup(self) -> str:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", stdout=self.stdout)
        out = io.StringIO()
        call_command("ensure_admin", stdout=out)
        return out.getvalue().strip()

    def _announce_when_ready(self, host: str, port: int, worker: bool, login: str, demo: str = "") -> None:
        def announce() -> None:
            ready = _wait_until_ready(host.strip("[]"), port, worker)
            lines = [f"CXM is ready at http://{host}:{port}/{demo}"]
            if not ready:
                lines = [
                    f"CXM is starting at http://{host}:{port}/{demo} (the worker has not reported in yet)"
                ]
            if login:
                lines.append(login)
            width = max(len(line) for line in lines) + 4
            self.stdout.write("\n" + "=" * width + "\n" + "\n".join(f"  {line}" for line in lines))
            self.stdout.write("=" * width + "\n")
            self.stdout.flush()

        threading.Thread(target=announce, name="cxm-announce", daemon=True).start()

    def _start_worker(self, *, served_at: str) -> None:
        env = dict(os.environ)
        if not settings.PUBLIC_BASE_URL_EXPLICIT:
            # Links the worker builds (survey mails, attachment links) point where this server answers.
            env["PUBLIC_BASE_URL"] = served_at
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cxm",
                "worker",
                "-B",
                "-Q",
                "realtime,ingest,bulk",
                "--loglevel=WARNING",
                "--concurrency=2",
            ],
            env=env,
        )

        def stop() -> None:
            # Registered after the embedded servers' stop, so it runs first: the worker lets go of
            # the database and broker before they go down.
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()

        atexit.register(stop)
