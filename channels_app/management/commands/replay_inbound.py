"""`manage.py replay_inbound`: put failed (or ignored) inbound events back through the pipeline."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from channels_app.ingest import do_replay_events, process_pending
from channels_app.models import InboundEvent, InboundStatus


class Command(BaseCommand):
    help = "Replay stored inbound events, e.g. after a parser fix. Events already done are never replayed."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="Event ids; or use --failed / --ignored.")
        parser.add_argument("--failed", action="store_true", help="All failed events.")
        parser.add_argument("--ignored", action="store_true", help="All ignored events.")
        parser.add_argument("--channel", type=int, help="Only events of this channel.")
        parser.add_argument(
            "--sync", action="store_true", help="Process here instead of queueing for workers."
        )

    def handle(self, *args, ids, failed, ignored, channel, sync, **options):
        statuses = [
            s for s, wanted in ((InboundStatus.FAILED, failed), (InboundStatus.IGNORED, ignored)) if wanted
        ]
        if not ids and not statuses:
            raise CommandError("name event ids, or pass --failed and/or --ignored")
        events = InboundEvent.objects.all()
        if ids:
            events = events.filter(pk__in=ids)
        if statuses:
            events = events.filter(status__in=statuses)
        if channel:
            events = events.filter(channel_id=channel)
        count = do_replay_events(event_ids=list(events.values_list("id", flat=True)))
        self.stdout.write(f"{count} event(s) queued for replay")
        if sync and count:
            processed = process_pending(limit=count)
            remaining = InboundEvent.objects.filter(pk__in=ids or [], status=InboundStatus.FAILED).count()
            self.stdout.write(f"{processed} processed here; {remaining} of the named events still failed")
