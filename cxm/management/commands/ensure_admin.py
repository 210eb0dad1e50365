"""Create the admin login of a fresh install and print it once."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cxm.demo.admin_login import do_ensure_admin


class Command(BaseCommand):
    help = "Create the admin superuser if it does not exist and print its login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", help="Use this password instead of a generated one.")

    def handle(self, *args: Any, username: str, password: str | None, **options: Any) -> None:
        try:
            user, created_password = do_ensure_admin(username=username, password=password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        name = user.get_username()
        if created_password is None:
            self.stdout.write(
                f"Admin login: {name} (already exists; password unchanged — "
                f"reset with: python manage.py changepassword {name})"
            )
        else:
            self.stdout.write(f"Admin login: {name} / {created_password}")
