"""Profile benchmark: identify and merge throughput, and profile page time at size.

    .venv/bin/python bench/profiles.py --customers 1000000 --events 10000

It migrates a separate database (default postgres://postgres@127.0.0.1:5432/cxm_bench_profiles), loads
`--customers` customers with an email and an external id each (PostgreSQL COPY, once: a rerun with the
same size reuses them), gives one customer `--events` touchpoints (events, and messages in conversations
on two channels), then measures in this process, with DEBUG off:

- identify: `do_identify` calls per second, half for known customers, half for new ones;
- merge and undo: `do_merge` + `do_undo_merge` pairs per second on customers with a few rows each;
- the profile page and its older-timeline pages: server time through Django's full request cycle
  (test client, session auth), p50/p95/p99 over repeated requests, with the query count.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, setup_django  # noqa: E402


def load_customers(count: int) -> None:
    """COPY customers with two identities each, unless that many bench customers are already there."""
    from django.db import connection

    from profiles.models import Customer, Identity

    have = Customer.objects.filter(name__startswith="Bench ").count()
    if have >= count:
        print(f"reusing {have} bench customers")
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM profiles_customer")
        first = cursor.fetchone()[0] + 1
        with cursor.cursor.copy(
            f"COPY {Customer._meta.db_table} (id, name, locale, timezone, company, location, attributes, "
            "created_at, last_seen_at, consent) FROM STDIN"
        ) as copy:
            for i in range(have, count):
                copy.write_row(
                    (first + i, f"Bench {i}", ("pl", "ru", "en")[i % 3], "", f"Company {i % 5000}", "", "{}",
                     "2026-01-01 00:00:00+00", "2026-06-01 00:00:00+00", "{}")
                )  # fmt: skip
        with cursor.cursor.copy(
            f"COPY {Identity._meta.db_table} "
            "(customer_id, kind, value, match_key, display, verified, source, created_at) FROM STDIN"
        ) as copy:
            for i in range(have, count):
                email = f"bench.{i}@example.com"
                copy.write_row(
                    (first + i, "email", email, email, "", False, "bench", "2026-01-01 00:00:00+00")
                )
                copy.write_row(
                    (first + i, "external_id", f"bench-{i}", "", "", True, "bench", "2026-01-01 00:00:00+00")
                )
        table = Customer._meta.db_table  # ids were given explicitly: move the sequence past them
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")  # noqa: S608
        cursor.execute("ANALYZE")
    print(f"loaded {count - have} customers in {time.perf_counter() - started:.1f} s")


def busy_customer(events: int):
    """One customer with `events` touchpoints: company events, and conversations on two channels."""
    from datetime import timedelta

    from django.utils import timezone

    from channels_app.services import do_create_channel
    from profiles import timeline
    from profiles.models import Customer, CustomerEvent, Identity, TimelineEntry
    from tickets.models import Conversation, Direction, Message

    existing = Customer.objects.filter(name="Bench busy customer").first()
    if existing is not None and TimelineEntry.objects.filter(customer=existing).count() >= events:
        return existing
    customer = Customer.objects.create(
        name="Bench busy customer", company="Acme", last_seen_at=timezone.now()
    )
    Identity.objects.create(customer=customer, kind="email", value=f"busy.{customer.pk}@example.com")
    Identity.objects.create(customer=customer, kind="telegram", value=f"9{customer.pk}")
    channels = [
        do_create_channel(kind="telegram", name=f"Bench bot {customer.pk}"),
        do_create_channel(kind="email", name=f"Bench mail {customer.pk}"),
    ]
    now = timezone.now()
    half = events // 2
    created = CustomerEvent.objects.bulk_create(
        [
            CustomerEvent(customer=customer, name=("order_placed", "cart_abandoned", "signed_up")[i % 3],
                          client_event_id=f"busy-{customer.pk}-{i}", properties={"total": i},
                          occurred_at=now - timedelta(minutes=i))
            for i in range(half)
        ],
        batch_size=2000,
    )  # fmt: skip
    TimelineEntry.objects.bulk_create(timeline.event_entries(created), batch_size=2000)
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(customer=customer, channel=channels[i % 2], subject=f"Question {i}",
                         created_at=now, last_activity_at=now)
            for i in range(50)
        ]
    )  # fmt: skip
    messages = Message.objects.bulk_create(
        [
            Message(conversation=conversations[i % 50], channel=conversations[i % 50].channel,
                    direction=Direction.INBOUND, body=f"Message {i}: where is my order?",
                    created_at=now - timedelta(minutes=i, seconds=30))
            for i in range(events - half)
        ],
        batch_size=2000,
    )  # fmt: skip
    timeline.record_messages([(message, False) for message in messages])
    from django.db import connection

    with connection.cursor() as cursor:
        # Fresh statistics, as autovacuum would have them by now: with none, the planner takes this
        # customer for one with a single row and sorts all 10,000 instead of reading the index in order.
        cursor.execute("ANALYZE")
    return customer


def measure_identify(rounds: int, customers: int) -> float:
    from profiles.services import do_identify

    started = time.perf_counter()
    for i in range(rounds):
        if i % 2:
            do_identify(identities=[("external_id", f"bench-{(i * 7919) % customers}")], attributes={})
        else:
            do_identify(
                identities=[
                    ("external_id", f"new-{time.time_ns()}-{i}"),
                    ("email", f"new{i}.{time.time_ns()}@example.org"),
                ]
            )
    return rounds / (time.perf_counter() - started)


def measure_merge(rounds: int) -> float:
    from profiles.merge import do_merge, do_undo_merge
    from profiles.models import Customer, Identity

    pairs = []
    for i in range(rounds):
        a = Customer.objects.create(name=f"Merge A {i}")
        b = Customer.objects.create(name=f"Merge B {i}", company="B Corp")
        Identity.objects.create(customer=a, kind="email", value=f"merge-a-{time.time_ns()}-{i}@example.org")
        Identity.objects.create(customer=b, kind="phone", value=f"+4860{time.time_ns() % 10_000_000:07d}")
        pairs.append((a, b))
    started = time.perf_counter()
    for a, b in pairs:
        log = do_merge(survivor=a, merged=b, reason="bench")
        do_undo_merge(log=log)
    return rounds / (time.perf_counter() - started)


def measure_page(customer, requests: int) -> None:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    from accounts.models import User

    agent, _ = User.objects.get_or_create(username="bench-agent", defaults={"role": "agent"})
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(agent)
    try:
        url = reverse("customer_profile", args=[customer.pk])
    except NoReverseMatch:
        url = f"/customers/{customer.pk}/"
    for label, target in (("profile page", url), ("timeline, older page", None)):
        timings: list[float] = []
        queries = 0
        page_url = target
        if page_url is None:
            page_url = older_page_url(client, url)
            if page_url is None:
                continue
        for _ in range(requests):
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(page_url)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (page_url, response.status_code)
            queries = len(captured.captured_queries)
        print(
            f"{label}: p50 {statistics.median(timings):.1f} ms, p95 {percentile(timings, 95):.1f} ms, "
            f"p99 {percentile(timings, 99):.1f} ms over {requests} requests, {queries} queries"
        )


def older_page_url(client, url: str) -> str | None:
    """The link the page gives for older timeline entries (hx-get or href containing a cursor)."""
    import re

    html = client.get(url).content.decode()
    match = re.search(r'hx-get="([^"]*(?:before|cursor)=[^"]*)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--identify", type=int, default=2000)
    parser.add_argument("--merges", type=int, default=300)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cxm_bench_profiles")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()

    setup_django(args.database_url, args.redis_url)
    load_customers(args.customers)
    customer = busy_customer(args.events)
    print(f"machine: {os.cpu_count()} cores; {args.customers} customers; one with {args.events} touchpoints")
    print(f"identify: {measure_identify(args.identify, args.customers):.0f} calls/s (half known, half new)")
    print(f"merge + undo: {measure_merge(args.merges):.0f} pairs/s")
    measure_page(customer, args.requests)


if __name__ == "__main__":
    main()
