"""Import mail into an email channel from .eml files, Maildir folders or mbox files."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from channels_app.email.services import do_store_mail
from channels_app.email.sources import count_mails, iter_mails
from channels_app.kinds import ChannelKind
from channels_app.models import Channel


class Command(BaseCommand):
    help = "Store mail from .eml files, Maildir folders or mbox files in an email channel (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("channel_id", type=int)
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")

    def handle(self, *args, channel_id: int, paths: list[Path], no_progress: bool, **options) -> None:
        channel = Channel.objects.filter(pk=channel_id, kind=ChannelKind.EMAIL).first()
        if channel is None:
            raise CommandError(f"no email channel with id {channel_id}")
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"not found: {', '.join(missing)}")
        stored = duplicates = 0
        failed: list[str] = []
        total = count_mails(paths)
        with tqdm(total=total, unit="mail", disable=no_progress, file=self.stderr) as progress:
            for source, raw, error in iter_mails(paths):
                progress.update(1)
                if error:
                    failed.append(f"{source}: {error}")
                    continue
                try:
                    event = do_store_mail(channel=channel, raw=raw, source=source)
                except Exception as exc:  # one unreadable file must not stop the import
                    failed.append(f"{source}: {type(exc).__name__}: {exc}")
                else:
                    if event is None:
                        duplicates += 1
                    else:
                        stored += 1
        self.stdout.write(
            f"{stored} stored, {duplicates} already there, {len(failed)} could not be read "
            f"(of {total}); stored mail is processed by the workers like any other."
        )
        for line in failed:
            self.stdout.write(f"  {line}")
