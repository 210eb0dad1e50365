"""Recompute every conversation fact, answer fact and rollup cell from the raw rows (after an
upgrade, by the demo seed, by the benchmark). Conversations are refreshed in id order, chunk by chunk,
then every cell is built once from all facts; facts of conversations that no longer exist and cells
nothing counts in any more are removed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from analytics.answer_refresh import rebuild_all as rebuild_all_answers
from analytics.cell_sql import CELL
from analytics.facts import refresh_facts
from analytics.models import ConversationFact, ReplyFact
from analytics.refresh import CHUNK, lock_cells
from analytics.rollups import rebuild_all_cells
from tickets.models import Conversation


class Command(BaseCommand):
    help = "Recompute all conversation facts and rollup cells from the raw rows."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--chunk", type=int, default=CHUNK * 4, help="conversations per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        chunk = max(1, options["chunk"])
        with transaction.atomic(), connection.cursor() as cursor:
            lock_cells()
            # Cells are derived entirely from facts: start from none, so no stale cell survives.
            cursor.execute(f"TRUNCATE {CELL}")
        existing = Conversation.objects.values("pk")
        ReplyFact.objects.exclude(conversation_id__in=existing).delete()
        ConversationFact.objects.exclude(conversation_id__in=existing).delete()
        last = 0
        total = 0
        while True:
            ids = list(
                Conversation.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk]
            )
            if not ids:
                break
            with transaction.atomic():
                lock_cells()
                refresh_facts(ids)
            total += len(ids)
            last = ids[-1]
            if options["verbosity"] > 1:
                self.stdout.write(f"{total} conversations")
        # Cells once at the end, from all facts: recomputing each chunk's cell set would visit every
        # busy cell once per chunk that touches it.
        with transaction.atomic():
            lock_cells()
            rebuild_all_cells()
        answers = rebuild_all_answers()
        self.stdout.write(
            self.style.SUCCESS(f"Rebuilt reporting for {total} conversations and {answers} answers.")
        )
