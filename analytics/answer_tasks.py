"""Worker tasks of the answer store: drain the dirty marks (beat, every few seconds) and the sweep.

Thin: each loads ids and calls `answer_refresh`. Routed to the `bulk` queue (the default), so a
refresh never waits behind or delays the inbox's realtime work.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from analytics import answer_dirty, answer_refresh

CHUNK = 5_000
# How far back the sweep compares facts with answers: longer than any invitation stays answerable
# (Survey.expiry_days defaults to 14), so a comment completed late is still seen.
SWEEP_DAYS = 35


def drain(*, chunk: int = CHUNK, rounds: int = 20) -> int:
    """Refresh what the handlers marked, a chunk of each kind at a time. Returns answers refreshed.
    Popped ids are put back when the refresh fails, so a database blip delays work and loses none."""
    refreshed = 0
    for _round in range(rounds):
        popped = {kind: answer_dirty.pop(kind, chunk) for kind in answer_dirty.KEYS}
        if not any(popped.values()):
            break
        try:
            ids = answer_refresh.answers_of(
                response_ids=popped["responses"],
                conversation_ids=popped["conversations"],
                customer_ids=popped["customers"],
            )
            answer_refresh.refresh_answers(ids)
        except Exception:
            for kind, values in popped.items():
                answer_dirty.mark(kind, values)
            raise
        refreshed += len(ids)
    return refreshed


def sweep(*, days: int = SWEEP_DAYS) -> int:
    stale = answer_refresh.stale_answer_ids(timezone.now() - timedelta(days=days))
    answer_refresh.refresh_answers(stale)
    return len(stale)


@shared_task(name="analytics.answer_tasks.refresh_answer_facts", ignore_result=True)
def refresh_answer_facts() -> int:
    return drain()


@shared_task(name="analytics.answer_tasks.sweep_answer_facts", ignore_result=True)
def sweep_answer_facts() -> int:
    return sweep()
