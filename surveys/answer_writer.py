"""Survey answers from many concurrent requests written by one statement per batch.

The public answer endpoint is the one a survey blast hits hardest: thousands of people clicking within
minutes of a send. An answer is confirmed only once it is committed; answers that arrive while a batch
is being written go together into the next one (core.batch_writer), as webhooks do.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import psycopg

from core.batch_writer import BatchFailed, BatchWriter, PerLoop
from surveys.answer_sql import CLAIM_AND_STORE, WHY_REFUSED
from surveys.answers import AnswerError
from surveys.invitation_models import InvitationStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    token: str
    score: int
    comment: str = ""
    complete: bool = False
    medium: str = ""


@dataclass(frozen=True)
class Stored:
    response_id: int
    detractor: bool


class WriteFailed(BatchFailed):
    """The batch could not be written; the answer is not stored and the client may retry."""


class AnswerWriter(BatchWriter[Answer, "Stored | str"]):
    """Each answer's Stored row, or the AnswerError code that explains why it was refused."""

    what = "survey answers"
    # One batch in flight. Two were faster while each statement also paid for JIT compilation; with
    # JIT off a batch takes a few milliseconds, and a second lane only added a second connection's
    # CPU and context switches (p99 7-14 ms with one lane against 10-23 ms with two, docs/benchmarks.md).
    # More lanes stay safe: a token in two batches is claimed by one (the row lock makes the other
    # wait and then find it answered), so nothing is stored twice.
    lanes = 1

    # Stored answers are handed to workers together at most this often (seconds): detractors to be
    # followed up, the others to be announced (`survey.answered`).
    follow_up_every = 0.25

    def __init__(self) -> None:
        super().__init__()
        self._detractors: list[int] = []
        self._others: list[int] = []
        self._follow_ups_due: asyncio.TimerHandle | None = None

    def failure(self, exc: Exception) -> Exception:
        return WriteFailed(str(exc))

    async def _write(self, connection: psycopg.AsyncConnection, items: list[Answer]) -> list[Stored | str]:
        async with connection.cursor() as cursor:
            await cursor.execute(
                CLAIM_AND_STORE,
                [
                    [a.token for a in items],
                    [a.score for a in items],
                    [a.comment for a in items],
                    [a.complete for a in items],
                    [a.medium for a in items],
                ],
            )
            # With the score and comment: the same token twice in one batch stores one of the two, and
            # only the request whose answer that was may hear it was stored.
            stored = {
                token: (Stored(response_id, bool(detractor)), score, comment)
                for response_id, token, detractor, score, comment in await cursor.fetchall()
            }
            refused = [a.token for a in items if a.token not in stored]
            reasons: dict[str, str] = {}
            if refused:
                await cursor.execute(WHY_REFUSED, [refused])
                for token, status, expired in await cursor.fetchall():
                    reasons[token] = _reason(status, expired)
        results: list[Stored | str] = []
        taken: set[str] = set()
        for answer in items:
            won = stored.get(answer.token)
            if won is not None and answer.token not in taken and won[1:] == (answer.score, answer.comment):
                taken.add(answer.token)
                results.append(won[0])
            elif won is not None:
                results.append(AnswerError.ANSWERED)
            elif answer.token in reasons:
                results.append(reasons[answer.token] or AnswerError.INVALID)
            else:
                results.append(AnswerError.UNKNOWN)
        return results

    def _written(self, items: list[Answer], results: list[Stored | str]) -> None:
        stored = [r for r in results if isinstance(r, Stored)]
        self._detractors += [r.response_id for r in stored if r.detractor]
        self._others += [r.response_id for r in stored if not r.detractor]
        if (self._detractors or self._others) and self._follow_ups_due is None:
            loop = asyncio.get_running_loop()
            self._follow_ups_due = loop.call_later(self.follow_up_every, self._queue_follow_ups)

    def _queue_follow_ups(self) -> asyncio.Future[None]:
        # Queuing talks to the broker synchronously, so it runs beside the loop, not in it; and once
        # for every batch written in the meantime. A publish in that thread holds the interpreter for
        # a millisecond or more, which the loop waited out on every socket call: fifty publishes a
        # second during a survey blast were most of the answers' slowest latencies.
        detractors, self._detractors, self._follow_ups_due = self._detractors, [], None
        others, self._others = self._others, []
        return asyncio.get_running_loop().run_in_executor(None, _hand_over, detractors, others)

    async def close(self) -> None:
        await super().close()
        if self._follow_ups_due is not None:
            self._follow_ups_due.cancel()
            await self._queue_follow_ups()


def _reason(status: str, expired: bool) -> str:
    """Why a known token was refused; "" means its score was out of range."""
    if status == InvitationStatus.ANSWERED:
        return AnswerError.ANSWERED
    if status in (InvitationStatus.THROTTLED, InvitationStatus.FAILED):
        return AnswerError.NOT_SENT
    if expired:
        return AnswerError.EXPIRED
    return ""


def _hand_over(detractors: list[int], others: list[int]) -> None:
    if detractors:
        _open_follow_ups_later(detractors)
    if others:
        _announce_later(others)


def _announce_later(response_ids: list[int]) -> None:
    # Only announced: nothing is owed to these answers but the event, so a lost task loses no work.
    from surveys.tasks import announce_answers

    try:
        announce_answers.apply_async(args=[response_ids], queue="realtime")
    except Exception:
        logger.warning("could not queue the announcement of answers %s", response_ids, exc_info=True)


def _open_follow_ups_later(response_ids: list[int]) -> None:
    # A worker opens the conversations (assignment, SLA, realtime); the sweep in surveys.tasks finds any
    # whose task was lost, so a detractor is never left without a follow-up.
    from surveys.tasks import open_follow_ups

    try:
        open_follow_ups.apply_async(args=[response_ids], queue="realtime")
    except Exception:
        logger.warning(
            "could not queue follow-ups for %s; the sweep will open them", response_ids, exc_info=True
        )


_writers = PerLoop(AnswerWriter)
writer = _writers.get
close_writer = _writers.close
