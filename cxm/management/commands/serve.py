"""`manage.py serve`: runserver (ASGI, websockets included) that says which mode it runs in.

With Redis configured it also starts a Celery worker with embedded beat beside the web server, so one
command gives the whole stack on a developer machine.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def describe_mode() -> str:
    if settings.EMBEDDED:
        db = settings.DATABASES["default"]
        where = db["NAME"] if db["ENGINE"].endswith("sqlite3") else db.get("HOST", "")
        return (
            f"CXM embedded mode: database {where}, in-memory channel layer, tasks run in process "
            "(set DATABASE_URL and REDIS_URL to use PostgreSQL, Redis and Celery)."
        )
    redis = urlsplit(str(settings.REDIS_URL))
    db = settings.DATABASES["default"]
    return (
        f"CXM services mode: database {db.get('HOST') or 'local'}/{db['NAME']}, "
        f"Redis {redis.hostname}:{redis.port or 6379}, Celery worker + beat started beside the web server."
    )


class Command(BaseCommand):
    help = "Serve the app (HTTP + websockets); with Redis configured, also run a Celery worker and beat."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-worker", action="store_true", help="Do not start a Celery worker.")
        parser.add_argument("--noreload", action="store_true", help="Disable the auto-reloader.")

    def handle(self, *args, **options):
        # The auto-reloader re-executes this command in a child process (RUN_MAIN=true); announce
        # and start the worker only once, in the outer process that lives for the whole session.
        if os.environ.get("RUN_MAIN") != "true":
            self.stdout.write(describe_mode())
            if not settings.EMBEDDED and not options["no_worker"]:
                self._start_worker()
        call_command("runserver", options["addrport"], use_reloader=not options["noreload"])

    def _start_worker(self) -> None:
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
        )
        atexit.register(worker.terminate)
