"""Fill the workspace with demo users, channels, customers, conversations and survey answers."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cxm.demo.services import MIN_CUSTOMERS, DemoDataError, do_seed_demo

_LABELS = [
    ("users", "users"),
    ("teams", "teams"),
    ("channels", "channels"),
    ("customers", "customers"),
    ("identities", "identities"),
    ("conversations", "conversations"),
    ("messages", "messages"),
    ("surveys", "surveys"),
    ("responses", "survey responses"),
]


class Command(BaseCommand):
    help = "Seed a demo workspace (idempotent: does nothing if demo data exists, unless --reset)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers", type=int, default=300, help="How many demo customers (default 300)."
        )
        parser.add_argument("--password", help="Give every demo user this password (default: no usable one).")
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo data first, then seed again."
        )

    def handle(self, *args: Any, customers: int, password: str | None, reset: bool, **options: Any) -> None:
        if customers < MIN_CUSTOMERS:
            raise CommandError(f"--customers must be at least {MIN_CUSTOMERS}.")
        started = time.monotonic()
        try:
            counts = do_seed_demo(customers=customers, password=password, reset=reset)
        except DemoDataError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{counts[key]} {label}" for key, label in _LABELS)
        if counts["created"]:
            self.stdout.write(self.style.SUCCESS(f"Demo workspace created in {elapsed:.1f} s: {summary}."))
            if not password:
                self.stdout.write(
                    "Demo users (demo.*) have no usable password; pass --password to log in as them."
                )
        else:
            note = " Demo users' password updated." if password else ""
            self.stdout.write(
                f"Demo data already present, nothing created (use --reset to recreate): {summary}.{note}"
            )
