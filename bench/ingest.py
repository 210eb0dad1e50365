"""End-to-end ingestion benchmark: signed webhooks in → messages stored (and published) by real workers.

    .venv/bin/python bench/ingest.py --messages 8000

It migrates a separate database (default postgres://postgres@127.0.0.1:5432/cxm_bench, emptied first),
starts uvicorn (one process) and a Celery worker as the production stack would, and fires signed
API-channel webhooks from this process (bench/load.py) twice: first as fast as 32 connections can
(the most it accepts, and how fast messages are then stored), then at a fixed offered rate (default
1,000/s), where acknowledgement latency is measured from when each request was due and the drain must
keep pace. A message counts as ingested once its row is stored and its realtime event published.
It also measures two floors on the same machine: Python's MIME parse rate for the email corpus in
channels_app/adapters/email/fixtures, and PostgreSQL COPY for the same number of message rows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from email import message_from_bytes, policy
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import running, uvicorn_command  # noqa: E402


def setup_environment(database_url: str, redis_url: str) -> dict[str, str]:
    # DEBUG off as in production: with it on, every query is also kept in memory for the debug page.
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "DEBUG": "0",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    subprocess.run(
        [sys.executable, "scripts/probe.py", "createdb", database_url], cwd=ROOT, env=env, check=True
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def prepare(env: dict[str, str], secret: str) -> int:
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "LOG_LEVEL")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxm.settings")
    import django

    django.setup()
    from django.db import connection

    from channels_app.services import do_create_channel
    from core.redis import get_redis

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tickets_attachment, tickets_message, tickets_conversation, profiles_identity, "
            "profiles_customer, channels_app_outboundmessage, channels_app_inboundevent, "
            "channels_app_channel_teams, channels_app_channel RESTART IDENTITY CASCADE"
        )
    get_redis().flushdb()
    return do_create_channel(kind="api", name="Bench", credentials={"signing_secret": secret}).pk


def signed_requests(
    port: int, channel_id: int, secret: str, count: int, customers: int, run: str, pace: float = 0.0
) -> list[bytes]:
    """Signed webhooks, built before they are sent. The API channel refuses a timestamp more than five
    minutes off, and a million requests take longer than that to send: request i is stamped `i * pace`
    seconds later, about when it will go out."""
    from bench.load import http_post
    from channels_app.adapters.api import sign

    requests = []
    start = time.time()
    for i in range(count):
        timestamp = str(int(start + i * pace))
        body = json.dumps(
            {
                "type": "message",
                "id": f"{run}-{i}",
                "sender": {"id": f"customer-{i % customers}", "name": f"Customer {i % customers}"},
                "text": f"Benchmark message {i}: where is my order?",
            }
        ).encode()
        headers = {
            "X-CXM-Timestamp": timestamp,
            "X-CXM-Signature": sign(secret, timestamp, body),
            "Content-Type": "application/json",
        }
        requests.append(http_post("127.0.0.1", port, f"/webhooks/api/{channel_id}/", body, headers))
    return requests


def fire(requests: list[bytes], port: int, concurrency: int, rate: float | None):
    from bench.load import run

    result = asyncio.run(run("127.0.0.1", port, requests, concurrency=concurrency, rate=rate))
    if set(result.statuses) != {200}:
        raise RuntimeError(f"webhook answers: {result.statuses}")
    return result


def wait_for_messages(count: int, timeout: float) -> float:
    """The moment the table holds `count` messages.

    Mostly polls the newest id (an index lookup): a count(*) every 50 ms would scan a table of a million
    rows over and over and compete with the worker it is timing. Ids are not committed strictly in
    order (a run redone one by one takes new ones), so an exact count runs once the newest id says the
    messages may be there, and once a second in any case.
    """
    from django.db.models import Max

    from tickets.models import Message

    stored_before = Message.objects.count()
    newest_before = Message.objects.aggregate(newest=Max("id"))["newest"] or 0
    deadline = time.monotonic() + timeout
    next_count = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        newest = Message.objects.aggregate(newest=Max("id"))["newest"] or 0
        if stored_before + (newest - newest_before) >= count or time.monotonic() >= next_count:
            next_count = time.monotonic() + 1.0
            if Message.objects.count() >= count:
                return time.perf_counter()
        time.sleep(0.05)
    raise RuntimeError(f"only {Message.objects.count()} of {count} messages stored within {timeout}s")


def mime_floor() -> tuple[int, float] | None:
    corpus = sorted((ROOT / "channels_app" / "adapters" / "email" / "fixtures").glob("*.eml"))
    if not corpus:
        return None
    raws = [p.read_bytes() for p in corpus]
    rounds, started = 0, time.perf_counter()
    while time.perf_counter() - started < 3:
        for raw in raws:
            msg = message_from_bytes(raw, policy=policy.default)
            body = msg.get_body(preferencelist=("plain", "html"))
            if body is not None:
                with contextlib.suppress(LookupError, UnicodeError, KeyError):
                    body.get_content()
        rounds += 1
    return len(raws), rounds * len(raws) / (time.perf_counter() - started)


def copy_floor(count: int) -> float:
    from django.db import connection

    rows = [(f"Benchmark message {i}: where is my order?", f"copy-{i}") for i in range(count)]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_copy (body text, provider_message_id text)")
        started = time.perf_counter()
        with cursor.cursor.copy("COPY bench_copy (body, provider_message_id) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy")
    return count / elapsed


def phase(label: str, requests: list[bytes], args, rate: float | None) -> dict[str, float]:
    """Fire the requests and wait until every message is stored; the figures of one run."""
    from tickets.models import Message

    baseline = Message.objects.count()
    started = time.perf_counter()
    result = fire(requests, args.port, args.concurrency, rate)
    # At least 600 s, and time for 300 messages/s: a million messages take longer than ten minutes.
    done = wait_for_messages(baseline + len(requests), max(600.0, len(requests) / 300))
    figures = {
        "accepted": result.rate,
        "p50": result.percentile(50),
        "p99": result.percentile(99),
        "max": max(result.latencies_ms),
        "end_to_end": len(requests) / (done - started),
        "lag": done - started - result.seconds,
    }
    offered = f"offered {rate:.0f}/s" if rate else f"closed loop, {args.concurrency} connections"
    print(
        f"{label} ({len(requests)} messages, {offered}): accepted {figures['accepted']:.0f}/s; "
        f"acknowledgement p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms, "
        f"max {figures['max']:.1f} ms; end to end {figures['end_to_end']:.0f} messages/s "
        f"(last stored {figures['lag']:.2f} s after the last acknowledgement)"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=1000.0, help="offered rate of the open-loop run")
    parser.add_argument(
        "--steady-messages", type=int, help="messages in the steady-load phase (default: --messages)"
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--web-workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--server", choices=("uvicorn", "gunicorn"), default="uvicorn")
    parser.add_argument("--worker-concurrency", type=int, default=1)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cxm_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument(
        "--record", action="store_true", help="append this run's figures to docs/benchmarks.md"
    )
    parser.add_argument(
        "--closed-loop-only", action="store_true", help="skip the steady-load phase (for comparing builds)"
    )
    args = parser.parse_args()

    secret = "bench-signing-secret-0123456789abcdef"
    env = setup_environment(args.database_url, args.redis_url)
    channel_id = prepare(env, secret)
    if args.server == "gunicorn":
        # For comparison: the Django view under WSGI (one INSERT per request, no batching).
        web_command = [
            sys.executable, "-m", "gunicorn", "cxm.wsgi:application",
            "--bind", f"127.0.0.1:{args.port}",
            "--workers", str(args.web_workers), "--worker-class", "gthread", "--threads", str(args.threads),
            "--keep-alive", "30", "--log-level", "warning",
        ]  # fmt: skip
        env = {**env, "DB_CONN_MAX_AGE": "60"}
    else:
        web_command = uvicorn_command(args.port, args.web_workers)
    stack = running(web_command, port=args.port, queues="ingest,realtime,bulk",
                    concurrency=args.worker_concurrency, env=env)  # fmt: skip
    with stack:
        # Warm up connections, imports and the worker before measuring.
        fire(signed_requests(args.port, channel_id, secret, 200, 10, "warmup"), args.port, 4, None)
        wait_for_messages(200, 60)
        make = partial(signed_requests, args.port, channel_id, secret, args.messages, args.customers)
        # Stamped at the closed loop's usual pace (about 4,000/s) and at the offered rate.
        most = phase("most accepted", make("closed", 1 / 4000), args, None)
        if args.closed_loop_only:
            return
        steady_count = args.steady_messages or args.messages
        steady_requests = signed_requests(
            args.port, channel_id, secret, steady_count, args.customers, "open", 1 / args.rate
        )
        steady = phase("steady load", steady_requests, args, args.rate)

    mime = mime_floor()
    copy_rate = copy_floor(args.messages)
    threads = f" x {args.threads} threads" if args.server == "gunicorn" else ""
    print(
        f"machine: {os.cpu_count()} cores; {args.server} with {args.web_workers} web workers{threads}, "
        f"Celery concurrency {args.worker_concurrency}; {args.customers} customers"
    )
    # Sustained: the offered 1,000/s is acknowledged fast and storing keeps pace with it (the last
    # message is stored within a second of its acknowledgement), and the most it can store is above it.
    target_met = (
        args.rate >= 1000
        and steady["accepted"] >= 0.98 * args.rate
        and steady["p99"] < 50
        and steady["lag"] < 1.0
        and most["end_to_end"] >= 1000
    )
    print(f"target (1,000 messages/s sustained, p99 under 50 ms): {'met' if target_met else 'NOT met'}")
    print(f"most accepted: {most['accepted']:.0f}/s, end to end {most['end_to_end']:.0f}/s")
    if mime:
        print(f"floor, Python MIME parse (policy=default + get_content) of {mime[0]} mails: {mime[1]:.0f}/s")
    print(f"floor, PostgreSQL COPY of {args.messages} message rows: {copy_rate:.0f} rows/s")
    if args.record:
        record(args, most, steady, target_met, mime[1] if mime else None, copy_rate)


RECORD_MARKER = "<!-- bench/ingest.py --record appends below -->"


def record(args, most, steady, target_met: bool, mime_rate: float | None, copy_rate: float) -> None:
    """One row per run in the history table of docs/benchmarks.md, right under its header."""
    import datetime
    import platform

    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text()
    if RECORD_MARKER not in text:
        raise SystemExit(f"{doc} has no line {RECORD_MARKER!r} to record under")
    command = " ".join(["bench/ingest.py", *sys.argv[1:]]).replace(" --record", "")
    row = (
        f"| {datetime.date.today()} | `{command}` | {os.cpu_count()} cores, {platform.machine()} | "
        f"{most['accepted']:.0f}/s | {most['end_to_end']:.0f}/s | {args.rate:.0f}/s | "
        f"{steady['accepted']:.0f}/s | {steady['p50']:.1f} / {steady['p99']:.1f} ms | "
        f"{steady['lag']:.2f} s | "
        f"{mime_rate or 0:.0f}/s | {copy_rate:,.0f}/s | {'met' if target_met else 'not met'} |"
    )
    head, _, tail = text.partition(RECORD_MARKER)
    table_header, _, rows = tail.lstrip("\n").partition("|---")
    separator, _, rows = rows.partition("\n")
    doc.write_text(f"{head}{RECORD_MARKER}\n{table_header}|---{separator}\n{row}\n{rows}")
    print(f"recorded in {doc.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
