"""Create an API key for one of the company's systems and print it: the only time it is shown."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.api_keys import do_create_api_key
from accounts.models import User


class Command(BaseCommand):
    help = "Create a REST API key (events, identify) and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="What uses the key, e.g. 'Shop backend'.")
        parser.add_argument("--created-by", metavar="USERNAME", help="The user responsible for the key.")

    def handle(self, *args: Any, name: str, created_by: str | None, **options: Any) -> None:
        if not name.strip():
            raise CommandError("The key needs a name.")
        user = None
        if created_by:
            user = User.objects.filter(username=created_by).first()
            if user is None:
                raise CommandError(f"No user named {created_by!r}.")
        key, plaintext = do_create_api_key(name=name.strip(), created_by=user)
        self.stdout.write(f"API key {key.name!r} (prefix {key.prefix}):")
        self.stdout.write(plaintext)
        self.stdout.write("Store it now: it is not shown again and cannot be recovered.")
