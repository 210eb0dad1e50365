"""Inbox benchmark: list, a long conversation and search at size, and webhook-to-screen latency.

    .venv/bin/python bench/inbox.py --messages 10000000          # 1,000,000 conversations (one per 10)

Data comes from bench/inbox_search.py's loader (COPY: customers, identities, conversations on channels
of four teams, Russian/Polish/English messages, then the search indexes), in its own database; a rerun
of the same size reuses it. One more conversation gets 500 messages. Then, in this process with
DEBUG off, through Django's whole request cycle as a signed-in agent (one team) and an admin:

- the inbox list (first page, 50 rows) and its next page;
- the conversation with 500 messages;
- the search page for typical queries.

Each URL is requested WARM_UP times before the timed requests, and its statements are counted on one
more request, untimed.

Last, webhook to screen: uvicorn and a Celery worker start as in production, a websocket signed in as
the admin listens on /ws/app/, and signed API-channel webhooks are posted one at a time at a steady
pace; each latency runs from sending the webhook to receiving its `message.created` on the socket.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import inbox_search  # noqa: E402
from bench.common import percentile, running, setup_django, uvicorn_command  # noqa: E402


def long_conversation(length: int) -> int:
    from django.db import connection
    from django.utils import timezone

    from channels_app.models import Channel
    from profiles.models import Customer
    from tickets.models import Conversation, Message

    existing = Conversation.objects.filter(subject="Bench long conversation").first()
    if existing is not None:
        return existing.pk
    channel = Channel.objects.filter(name="Bench 0").first()
    customer = Customer.objects.order_by("pk").first()
    now = timezone.now()
    conversation = Conversation.objects.create(
        customer=customer,
        channel=channel,
        subject="Bench long conversation",
        created_at=now,
        last_activity_at=now,
    )
    Message.objects.bulk_create(
        [
            Message(conversation=conversation, channel=channel, direction=("in", "out")[i % 2],
                    body=f"Message {i}: the parcel, the invoice and the refund again.",
                    created_at=now - timedelta(minutes=length - i))
            for i in range(length)
        ]
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_message")
    return conversation.pk


WARM_UP = 3


def timed(client, url: str, requests: int) -> str:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # A serving process is warm: its templates compiled, its caches filled by earlier visitors.
    for _ in range(WARM_UP):
        client.get(url)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    # Counted on a request of its own: logging every statement would add to the times measured.
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = len(captured.captured_queries)
    return (
        f"p50 {statistics.median(timings):.1f} ms, p95 {percentile(timings, 95):.1f} ms, "
        f"p99 {percentile(timings, 99):.1f} ms ({requests} requests, {queries} queries)"
    )


def pages(requests: int, conversation_id: int) -> None:
    import re

    from django.test import Client

    agent, admin = inbox_search.users()
    for label, user in (("agent (one team)", agent), ("admin (everything)", admin)):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        print(f"inbox list, {label}: {timed(client, '/inbox/', requests)}")
        html = client.get("/inbox/").content.decode()
        more = re.search(r'hx-get="([^"]*cursor=[^"]*)"', html)
        if more:
            print(f"inbox next page, {label}: {timed(client, more.group(1).replace('&amp;', '&'), requests)}")
        if user.role == "admin":
            figures = timed(client, f"/inbox/{conversation_id}/", requests)
            print(f"conversation with 500 messages, {label}: {figures}")
        for query in ("заказ", "zamówienie", "refund"):
            figures = timed(client, f"/inbox/search/?q={query}", max(5, requests // 4))
            print(f"search {query!r}, {label}: {figures}")


async def webhook_to_screen(
    port: int, session_key: str, channel_id: int, secret: str, count: int
) -> list[float]:
    import websockets

    from bench.load import http_post
    from channels_app.adapters.api import sign

    latencies: list[float] = []
    headers = {"Cookie": f"sessionid={session_key}", "Origin": f"http://127.0.0.1:{port}"}
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/app/", additional_headers=headers) as socket:
        assert json.loads(await socket.recv())["type"] == "hello"
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i in range(count):
            message_id = f"screen-{time.time_ns()}-{i}"
            body = json.dumps(
                {"type": "message", "id": message_id, "sender": {"id": f"screen-{i % 20}"}, "text": "Ping?"}
            ).encode()
            ts = str(int(time.time()))
            signed = {"X-CXM-Timestamp": ts, "X-CXM-Signature": sign(secret, ts, body)}
            request = http_post(
                "127.0.0.1",
                port,
                f"/webhooks/api/{channel_id}/",
                body,
                {**signed, "Content-Type": "application/json"},
            )
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(
                next(
                    v
                    for k, _, v in (line.partition(b":") for line in head.split(b"\r\n"))
                    if k.lower() == b"content-length"
                )
            )
            await reader.readexactly(length)
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
                if frame.get("type") == "message.created" and frame["payload"]["preview"] == "Ping?":
                    latencies.append((time.perf_counter() - started) * 1000)
                    break
            await asyncio.sleep(0.05)
        writer.close()
    return latencies


def screen(args) -> None:
    from django.contrib.sessions.backends.db import SessionStore

    from channels_app.services import do_create_channel

    _, admin = inbox_search.users()
    session = SessionStore()
    session["_auth_user_id"] = str(admin.pk)
    session["_auth_user_backend"] = "accounts.backends.RoleBackend"
    session["_auth_user_hash"] = admin.get_session_auth_hash()
    session.create()
    secret = "bench-screen-signing-secret-0123456789"
    channel = do_create_channel(
        kind="api", name=f"Bench screen {time.time_ns()}", credentials={"signing_secret": secret}
    )
    env = {**os.environ, "DB_CONN_MAX_AGE": "0"}
    with running(uvicorn_command(args.port), port=args.port, queues="ingest,realtime,bulk", concurrency=1,
                 env={**env, "DB_CONN_MAX_AGE": "60"}):  # fmt: skip
        asyncio.run(webhook_to_screen(args.port, session.session_key, channel.pk, secret, 20))  # warm up
        latencies = asyncio.run(
            webhook_to_screen(args.port, session.session_key, channel.pk, secret, args.screen)
        )
    print(
        f"webhook to screen ({len(latencies)} messages, one at a time): "
        f"p50 {statistics.median(latencies):.1f} ms, p95 {percentile(latencies, 95):.1f} ms, "
        f"p99 {percentile(latencies, 99):.1f} ms, max {max(latencies):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--screen", type=int, default=200, help="messages timed from webhook to websocket")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/cxm_bench_inbox_full")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--port", type=int, default=8798)
    args = parser.parse_args()

    setup_django(args.database_url, args.redis_url)
    inbox_search.load(args.messages)
    conversation_id = long_conversation(500)
    from tickets.models import Conversation, Message

    print(
        f"machine: {os.cpu_count()} cores; {Conversation.objects.count():,} conversations, "
        f"{Message.objects.count():,} messages"
    )
    pages(args.requests, conversation_id)
    screen(args)


if __name__ == "__main__":
    main()
