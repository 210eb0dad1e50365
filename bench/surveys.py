"""Survey answers benchmark: how many answers per second the public endpoint accepts, and its latency.

    .venv/bin/python bench/surveys.py                     # 40,000 invitations, closed loop then 1,000/s
    .venv/bin/python bench/surveys.py --answers 60000 --rate 1000

In its own database: one NPS survey, customers and invitations written with COPY (80% to known
customers, so answers also land on their timelines; a fifth of the scores are detractors, whose
follow-up conversations a real Celery worker opens). Then uvicorn starts as in production and the load
generator posts one JSON answer per invitation to /s/api/answers/ over keep-alive connections:

1. closed loop: every connection sends its next answer as soon as the last is confirmed (the most the
   endpoint accepts);
2. open loop at --rate answers/s: each latency counts from when the answer was due, so a stall shows.

Afterwards it checks that every confirmed answer is in the database exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from bench.common import running, setup_django, uvicorn_command  # noqa: E402


def prepare(count: int) -> tuple[list[str], int]:
    """Fresh invitations for this run (tokens), and the survey's id."""
    from django.db import connection
    from django.utils import timezone

    from channels_app.models import Channel
    from surveys.invitation_models import Invitation
    from surveys.models import Survey, SurveyKind

    survey, _ = Survey.objects.get_or_create(name="Bench NPS", defaults={"kind": SurveyKind.NPS})
    channel, _ = Channel.objects.get_or_create(kind="sms", name="Bench SMS")
    now = timezone.now()
    tokens = [secrets.token_urlsafe(32) for _ in range(count)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM profiles_customer")
        first = cursor.fetchone()[0] + 1
        people = int(count * 0.8)
        buffer = io.StringIO()
        for n in range(people):
            buffer.write(f"{first + n}\tBench customer {first + n}\t\t\t\t\t{{}}\t{now.isoformat()}\t{{}}\n")
        buffer.seek(0)
        with cursor.copy(
            "COPY profiles_customer (id, name, locale, timezone, company, location, attributes, created_at,"
            " consent) FROM STDIN"
        ) as copy:
            copy.write(buffer.read())
        cursor.execute("SELECT setval('profiles_customer_id_seq', (SELECT max(id) FROM profiles_customer))")
        table = Invitation._meta.db_table
        with cursor.copy(
            f"COPY {table} (survey_id, customer_id, token, medium, trigger, status, reason, channel_id,"
            " recipient, locale, created_at, sent_at, expires_at) FROM STDIN"
        ) as copy:
            expires = (now + timezone.timedelta(days=14)).isoformat()
            for n, token in enumerate(tokens):
                customer = first + n if n < people else None
                copy.write_row(
                    (survey.pk, customer, token, "sms", "api", "sent", "", channel.pk, "", "en",
                     now.isoformat(), now.isoformat(), expires)
                )  # fmt: skip
        cursor.execute(f"ANALYZE {table}")
    return tokens, survey.pk


def requests_for(tokens: list[str], port: int) -> list[bytes]:
    rng = random.Random(7)
    out = []
    for token in tokens:
        score = rng.choice([0, 3, 5, 6] if rng.random() < 0.2 else [7, 8, 9, 10])
        body = {"token": token, "score": score, "medium": "widget"}
        if rng.random() < 0.3:
            body["comment"] = rng.choice(["Szybka dostawa", "Всё отлично, спасибо", "Parcel came late again"])
        out.append(
            load.http_post("127.0.0.1", port, "/s/api/answers/", json.dumps(body).encode(),
                           {"Content-Type": "application/json"})
        )  # fmt: skip
    return out


class FlushWatch:
    """The longest a statement of this database was seen waiting for the WAL to reach the disk.

    An answer is confirmed only once committed, so a slow fsync of the disk holds every answer in the
    batch. Sampled every 20 ms from pg_stat_activity, it tells a tail caused by the storage from one
    caused by the answer path.
    """

    def __init__(self, database_url: str) -> None:
        import threading

        self.url = database_url
        self.longest_ms = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> FlushWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        import time

        import psycopg

        name = self.url.rsplit("/", 1)[1]
        with psycopg.connect(self.url, autocommit=True) as conn:
            # One statement's wait, identified by its backend and start: its first and last sighting.
            seen: dict[tuple, tuple[float, float]] = {}
            while not self._stop.wait(0.02):
                rows = conn.execute(
                    "SELECT pid, query_start FROM pg_stat_activity"
                    " WHERE datname = %s AND wait_event IN ('WALSync', 'WALWrite')",
                    [name],
                ).fetchall()
                now = time.perf_counter()
                for key in rows:
                    first, _ = seen.get(key, (now, now))
                    seen[key] = (first, now)
                    self.longest_ms = max(self.longest_ms, (now - first) * 1000)


def phase(
    label: str, requests: list[bytes], port: int, concurrency: int, rate: float | None
) -> load.LoadResult:
    result = asyncio.run(load.run("127.0.0.1", port, requests, concurrency=concurrency, rate=rate))
    print(
        f"{label}: {len(result.latencies_ms)} answers in {result.seconds:.1f} s = {result.rate:.0f}/s; "
        f"p50 {result.percentile(50):.1f} ms, p99 {result.percentile(99):.1f} ms, "
        f"max {max(result.latencies_ms):.1f} ms; statuses {result.statuses}"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--answers", type=int, default=40_000, help="invitations per phase")
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--web-workers", type=int, default=1)
    parser.add_argument("--worker-nice", type=int, default=10, help="CPU niceness of the Celery worker")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cxm_bench_surveys")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--port", type=int, default=8797)
    args = parser.parse_args()

    setup_django(args.database_url, args.redis_url)
    from surveys.models import SurveyResponse

    closed_tokens, _ = prepare(args.answers)
    open_tokens, survey_id = prepare(args.answers)
    before = SurveyResponse.objects.filter(survey_id=survey_id).count()
    env = {**os.environ, "DB_CONN_MAX_AGE": "60"}
    # Follow-ups of detractors can wait a second; answers should not wait for them.
    with running(uvicorn_command(args.port, args.web_workers), port=args.port, queues="realtime",
                 concurrency=1, env=env, worker_nice=args.worker_nice):  # fmt: skip
        print(f"machine: {os.cpu_count()} cores; uvicorn with {args.web_workers} web worker(s)")
        most = phase("closed loop", requests_for(closed_tokens, args.port), args.port, args.concurrency, None)
        with FlushWatch(args.database_url) as flushes:
            steady = phase(f"open loop at {args.rate:.0f}/s", requests_for(open_tokens, args.port),
                           args.port, args.concurrency, args.rate)  # fmt: skip
        print(
            f"longest wait of one statement for a WAL flush during the open loop: at least "
            f"{flushes.longest_ms:.0f} ms (sampled every 20 ms)"
        )
    stored = SurveyResponse.objects.filter(survey_id=survey_id).count() - before
    confirmed = most.statuses.get(200, 0) + steady.statuses.get(200, 0)
    print(f"confirmed {confirmed}, stored {stored}: {'all there' if stored == confirmed else 'MISMATCH'}")
    met = (
        steady.rate >= args.rate * 0.97
        and steady.percentile(99) < 50
        and steady.statuses.get(200) == len(open_tokens)
    )
    print(f"target (1,000/s with p99 under 50 ms): {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
