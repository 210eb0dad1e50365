"""Fill the workspace with demo users, channels, customers, conversations and survey answers."""

from __future__ import annotations

import time
from io import StringIO
from typing import Any

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cxm.demo import data
from cxm.demo.services import (
    MIN_CUSTOMERS,
    DemoDataError,
    demo_password_allowed,
    do_reset_demo_passwords,
    do_seed_demo,
)

_LABELS = [
    ("users", "users"),
    ("teams", "teams"),
    ("channels", "channels"),
    ("customers", "customers"),
    ("identities", "identities"),
    ("conversations", "conversations"),
    ("messages", "messages"),
    ("events", "customer events"),
    ("timeline", "timeline entries"),
    ("surveys", "surveys"),
    ("invitations", "survey invitations"),
    ("responses", "survey responses"),
    ("follow_ups", "detractor follow-ups"),
    ("sla_policies", "SLA policies"),
    ("canned", "canned responses"),
]
_EXAMPLE_USER = data.USERNAME_PREFIX + data.STAFF[1].username


class Command(BaseCommand):
    help = (
        "Seed a demo workspace. Idempotent: does nothing if demo data exists and never deletes anything "
        "unless --reset is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers", type=int, default=300, help="How many demo customers (default 300)."
        )
        parser.add_argument(
            "--password",
            help=f"Give every demo user this password (default: the demo password, {data.DEMO_PASSWORD}).",
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Only set the demo users' password back to the demo password (or --password); seed nothing.",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo data first, then seed again."
        )
        parser.add_argument(
            "--no-history",
            dest="history",
            action="store_false",
            help="Only the recent weeks, without the two years of history before them.",
        )

    def handle(
        self,
        *args: Any,
        customers: int,
        password: str | None,
        reset: bool,
        reset_passwords: bool,
        history: bool = True,
        **options: Any,
    ) -> None:
        if reset_passwords:
            self._reset_passwords(password)
            return
        if customers < MIN_CUSTOMERS:
            raise CommandError(f"--customers must be at least {MIN_CUSTOMERS}.")
        started = time.monotonic()
        try:
            counts = do_seed_demo(customers=customers, password=password, reset=reset, history_years=history)
        except DemoDataError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{counts[key]} {label}" for key, label in _LABELS)
        if counts["created"]:
            self.stdout.write(self.style.SUCCESS(f"Demo workspace created in {elapsed:.1f} s: {summary}."))
            self._rebuild_reporting()
            self._login_hint(password)
        else:
            note = " Demo users' password updated." if password else ""
            self.stdout.write(
                f"Demo data already present, nothing created (use --reset to recreate): {summary}.{note}"
            )

    def _rebuild_reporting(self) -> None:
        """The dashboards read the reporting store; fill it from the rows just seeded so they show the
        history at once instead of after the workers catch up."""
        if "rebuild_reporting" not in get_commands():
            return
        started = time.monotonic()
        call_command("rebuild_reporting", stdout=StringIO())
        self.stdout.write(f"Reporting store rebuilt in {time.monotonic() - started:.1f} s.")

    def _reset_passwords(self, password: str | None) -> None:
        try:
            count = do_reset_demo_passwords(password=password)
        except DemoDataError as exc:
            raise CommandError(str(exc)) from exc
        if not count:
            self.stdout.write("No demo users: run seed_demo first.")
            return
        self.stdout.write(f"Password of {count} demo users set.")
        self._login_hint(password)

    def _login_hint(self, password: str | None) -> None:
        if password:
            self.stdout.write(
                f"Demo users log in as demo.* (e.g. {_EXAMPLE_USER}) with the password you gave."
            )
        elif demo_password_allowed():
            self.stdout.write(f"Demo users log in as demo.* (e.g. {_EXAMPLE_USER}) / {data.DEMO_PASSWORD}")
        else:
            self.stdout.write(
                "Demo users (demo.*) have no usable password; set one with --reset-passwords --password …"
            )
