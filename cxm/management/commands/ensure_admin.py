"""Create the admin login of a fresh install and print it; reset its password on request."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cxm.demo.admin_login import AdminLoginError, do_ensure_admin, do_reset_admin_password


class Command(BaseCommand):
    help = "Create the admin superuser if it does not exist and print its login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", help="Use this password instead of a generated one.")
        parser.add_argument(
            "--reset-password",
            action="store_true",
            help="Give the existing admin a new password (generated, or --password) and print it.",
        )

    def handle(
        self, *args: Any, username: str, password: str | None, reset_password: bool, **options: Any
    ) -> None:
        try:
            if reset_password:
                user, new_password = do_reset_admin_password(username=username, password=password)
                self.stdout.write(f"Admin login: {user.get_username()} / {new_password}")
                return
            user, created_password = do_ensure_admin(username=username, password=password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except AdminLoginError as exc:
            raise CommandError(str(exc)) from exc
        name = user.get_username()
        if created_password is None:
            reset = "python manage.py ensure_admin --reset-password"
            if name != "admin":
                reset += f" --username {name}"
            self.stdout.write(
                f"Admin login: {name} (already exists; password unchanged — reset with: {reset})"
            )
        else:
            self.stdout.write(f"Admin login: {name} / {created_password}")
