"""The pipeline's promises under stress: duplicates, Redis outages and workers killed mid-event."""

from __future__ import annotations

import json
import signal
import threading
import time

import psycopg
import pytest
from django.db import connection
from django.test import Client

from channels_app.adapters.api import sign
from channels_app.ingest import process_pending
from channels_app.models import InboundEvent, InboundStatus
from channels_app.services import do_create_channel
from channels_app.tasks import sweep_inbound
from tests.workers import celery_broker, celery_worker, free_port, redis_server, wait_until
from tickets.models import Message

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SECRET = "guarantee-signing-secret-0123456789"


@pytest.fixture
def channel():
    return do_create_channel(kind="api", name="Guarantees", credentials={"signing_secret": SECRET})


def post_message(channel, message_id: str = "m-1", text: str = "hello", sender: str = "cust-1") -> int:
    body = json.dumps({"type": "message", "id": message_id, "sender": {"id": sender}, "text": text}).encode()
    ts = str(int(time.time()))
    response = Client().generic(
        "POST",
        f"/webhooks/api/{channel.pk}/",
        body,
        content_type="application/json",
        HTTP_X_CXM_TIMESTAMP=ts,
        HTTP_X_CXM_SIGNATURE=sign(SECRET, ts, body),
    )
    return response.status_code


def _parallel(count: int, target) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = target()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_same_delivery_three_times_concurrently_gives_one_message(channel):
    assert _parallel(3, lambda: post_message(channel)) == [200, 200, 200]
    assert InboundEvent.objects.count() == 1
    _parallel(3, lambda: process_pending(limit=10))
    assert Message.objects.count() == 1
    assert InboundEvent.objects.get().status == InboundStatus.DONE


def test_same_message_in_distinct_deliveries_processed_concurrently_is_stored_once(channel):
    # Three deliveries that differ in bytes (so three events) but carry the same provider message id.
    for text in ("hello", "hello ", "hello  "):
        assert post_message(channel, "same-id", text) == 200
    assert InboundEvent.objects.count() == 3
    _parallel(3, lambda: process_pending(limit=1))
    process_pending(limit=10)
    assert Message.objects.filter(provider_message_id="same-id").count() == 1
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {InboundStatus.DONE}


def test_webhook_answers_while_redis_is_down_and_the_message_lands_when_it_returns(channel, tmp_path):
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    log = tmp_path / "worker.log"
    with celery_broker(broker):
        with redis_server(port, tmp_path):
            pass  # started and stopped: the broker is now really down
        started = time.monotonic()
        assert post_message(channel) == 200
        assert time.monotonic() - started < 5
        event = InboundEvent.objects.get()
        assert event.status == InboundStatus.PENDING
        assert not Message.objects.exists()

        with redis_server(port, tmp_path), celery_worker(redis_url=broker, log=log):
            assert sweep_inbound(older_than_seconds=0) == 1
            wait_until(lambda: Message.objects.exists(), 60, log.read_text)
    event.refresh_from_db()
    assert event.status == InboundStatus.DONE
    assert Message.objects.count() == 1


def _waiting_backends(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchone()
        return row[0] if row else 0


def test_worker_killed_mid_event_neither_loses_nor_duplicates(channel, settings, tmp_path):
    from tests.workers import database_url

    dsn = database_url()
    log = tmp_path / "worker.log"
    blocker = psycopg.connect(dsn)
    try:
        # Hold the message table so the worker stops half way through its transaction.
        blocker.execute("LOCK TABLE tickets_message IN ACCESS EXCLUSIVE MODE")
        with celery_worker(redis_url=settings.REDIS_URL, log=log) as worker:
            assert post_message(channel) == 200
            wait_until(lambda: _waiting_backends(dsn) >= 1, 60, log.read_text)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
    finally:
        blocker.rollback()
        blocker.close()
    # The killed worker's transaction is rolled back once its backend notices the client is gone.
    wait_until(lambda: _waiting_backends(dsn) == 0, 30)
    event = InboundEvent.objects.get()
    assert event.status == InboundStatus.PENDING
    assert not Message.objects.exists()

    with celery_worker(redis_url=settings.REDIS_URL, log=log):
        sweep_inbound(older_than_seconds=0)
        wait_until(lambda: InboundEvent.objects.filter(status=InboundStatus.DONE).exists(), 60, log.read_text)
    assert Message.objects.count() == 1
    event.refresh_from_db()
    assert event.attempts == 1  # the killed attempt left no trace


def test_chunk_caught_in_a_deadlock_is_redone_one_by_one_and_nothing_fails(channel):
    """The drain processes a chunk in one transaction, so it holds several customers' locks at once.
    Here another session takes the same two customers in the opposite order: PostgreSQL aborts the
    drain as the deadlock victim, and the chunk must be redone, not marked failed or lost."""
    from profiles.models import Customer
    from tests.workers import database_url

    assert post_message(channel, "warm-a", sender="cust-a") == 200
    assert post_message(channel, "warm-b", sender="cust-b") == 200
    process_pending(limit=10)
    a, b = (Customer.objects.get(identities__value=v).pk for v in ("cust-a", "cust-b"))
    assert (
        post_message(channel, "m-b", sender="cust-b") == 200
    )  # claimed first: the drain locks b, then waits for a
    assert post_message(channel, "m-a", sender="cust-a") == 200

    dsn = database_url()
    other = psycopg.connect(dsn)
    # The other session waits longer before checking for deadlocks, so the drain is the one aborted.
    other.execute("SET deadlock_timeout = '20s'")
    other.execute("SELECT id FROM profiles_customer WHERE id = %s FOR UPDATE", [a])
    drained: list[int] = []
    drain = threading.Thread(target=lambda: (drained.append(process_pending(limit=10)), connection.close()))
    drain.start()
    try:
        wait_until(lambda: _waiting_backends(dsn) >= 1, 30)
        other.execute("SELECT id FROM profiles_customer WHERE id = %s FOR UPDATE", [b])
        other.commit()
    finally:
        other.close()
        drain.join(timeout=60)

    assert drained == [2]
    statuses = dict(InboundEvent.objects.values_list("dedup_key", "status"))
    assert set(statuses.values()) == {InboundStatus.DONE}, statuses
    assert Message.objects.filter(provider_message_id__in=["m-a", "m-b"]).count() == 2


def test_a_real_asgi_server_under_concurrent_load_stores_each_delivery_once(channel, settings, tmp_path):
    """uvicorn as in production, a real worker, 16 connections at once and every 5th delivery sent twice:
    each distinct delivery becomes exactly one event and one message."""
    from bench.load import http_post, run
    from tests.browser.asgi_server import asgi_server
    from tests.conftest import run_async

    port = free_port()
    requests, distinct = [], 0
    for i in range(250):
        body = json.dumps({"type": "message", "id": f"load-{i}", "sender": {"id": f"c-{i % 9}"}, "text": "?"})
        ts = str(int(time.time()))
        headers = {"X-CXM-Timestamp": ts, "X-CXM-Signature": sign(SECRET, ts, body.encode())}
        request = http_post("127.0.0.1", port, f"/webhooks/api/{channel.pk}/", body.encode(), headers)
        requests += [request, request] if i % 5 == 0 else [request]
        distinct += 1
    log = tmp_path / "services.log"
    with (
        asgi_server(port=port, redis_url=settings.REDIS_URL, log=log),
        celery_worker(redis_url=settings.REDIS_URL, log=log),
    ):
        result = run_async(lambda: run("127.0.0.1", port, requests, concurrency=16))
        assert result.statuses == {200: len(requests)}
        wait_until(lambda: Message.objects.count() >= distinct, 60, log.read_text)
    assert InboundEvent.objects.count() == distinct
    assert Message.objects.count() == distinct
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {InboundStatus.DONE}
