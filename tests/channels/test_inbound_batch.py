"""Plain messages recorded in runs: the same outcomes as one at a time, with a bounded number of queries."""

from __future__ import annotations

import contextlib
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_app.ingest import process_pending
from channels_app.models import InboundEvent, InboundStatus
from channels_app.normalized import NormalizedMessage, Sender
from channels_app.pipeline_points import InboundItem
from channels_app.services import do_create_channel
from profiles.models import Customer, Identity, TimelineEntry
from tests.pipeline import post_api
from tickets.inbound_batch import do_record_inbound_batch
from tickets.models import Conversation, ConversationStatus, Message

pytestmark = pytest.mark.django_db
SECRET = "batch-signing-secret-abcdef0123456789"


@pytest.fixture
def channel(db):
    return do_create_channel(kind="api", name="Batch", credentials={"signing_secret": SECRET})


def deliver(client, channel, message_id: str, sender: str, text: str = "hello", **extra) -> None:
    sender_field = {"id": sender, "name": sender.title()}
    event = {"type": "message", "id": message_id, "sender": sender_field, "text": text}
    assert post_api(client, channel.pk, json.dumps({**event, **extra}).encode(), SECRET).status_code == 200


def plain(message_id: str, sender: str, text: str = "hello", kind: str = "external_id") -> NormalizedMessage:
    return NormalizedMessage(
        sender=Sender(kind=kind, value=sender, display=sender.split("@")[0].title()),
        provider_message_id=message_id,
        text=text,
    )


def record(channel, *messages: NormalizedMessage) -> list[Message]:
    return do_record_inbound_batch(items=[InboundItem(channel, message) for message in messages])


def queries_to_process(client, channel, count: int, customers: int, run: str) -> int:
    for i in range(count):
        deliver(client, channel, f"{run}-{i}", f"{run}-customer-{i % customers}")
    with CaptureQueriesContext(connection) as captured:
        assert process_pending(limit=1000) == count
    return len(captured.captured_queries)


def test_a_run_takes_the_same_number_of_queries_whatever_its_size(client, channel):
    small = queries_to_process(client, channel, 5, 3, "small")
    large = queries_to_process(client, channel, 60, 30, "large")
    assert large == small
    # Claim, identities, customers, locks, duplicates, open conversations, writes per table, SLA
    # deadlines and assignment rules: a fixed set of statements per run, never one per message.
    assert large <= 32
    assert Message.objects.count() == 65
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {InboundStatus.DONE}


def test_a_new_customer_writing_twice_in_one_run_gets_one_conversation_and_a_timeline(channel):
    stored = do_record_inbound_batch(
        items=[InboundItem(channel, plain("a", "anna")), InboundItem(channel, plain("b", "anna"))]
    )
    assert len(stored) == 2
    customer = Customer.objects.get()
    assert customer.name == "Anna"
    assert Identity.objects.get().customer == customer
    conversation = Conversation.objects.get()
    assert conversation.customer == customer and conversation.status == ConversationStatus.OPEN
    kinds = list(TimelineEntry.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["conversation_opened", "message", "message"]


def test_a_resolved_conversation_is_not_continued_and_a_pending_one_is_reopened(channel):
    record(channel, plain("a", "anna"), plain("b", "bob"))
    Conversation.objects.filter(customer__name="Anna").update(status=ConversationStatus.RESOLVED)
    Conversation.objects.filter(customer__name="Bob").update(status=ConversationStatus.PENDING)
    record(channel, plain("c", "anna"), plain("d", "bob"))
    assert Conversation.objects.filter(customer__name="Anna").count() == 2
    bob = Conversation.objects.get(customer__name="Bob")
    assert bob.status == ConversationStatus.OPEN and bob.messages.count() == 2


def test_a_channel_set_to_always_new_opens_a_conversation_per_message(channel):
    channel.config = {**channel.config, "threading": "new"}
    record(channel, plain("a", "anna"), plain("b", "anna"))
    assert Conversation.objects.count() == 2


def test_duplicates_in_the_run_and_already_stored_ones_are_skipped(channel):
    record(channel, plain("a", "anna"))
    stored = do_record_inbound_batch(
        items=[
            InboundItem(channel, plain("a", "anna")),
            InboundItem(channel, plain("b", "anna")),
            InboundItem(channel, plain("b", "anna", text="same id, other bytes")),
        ]
    )
    assert [m.provider_message_id for m in stored] == ["b"]
    assert Message.objects.count() == 2


def test_a_profile_merged_meanwhile_receives_on_the_survivor(channel):
    record(channel, plain("a", "anna"))
    anna = Customer.objects.get()
    survivor = Customer.objects.create(name="Anna K.")
    Customer.objects.filter(pk=anna.pk).update(merged_into=survivor)  # identity not moved yet
    record(channel, plain("b", "anna"))
    assert Message.objects.get(provider_message_id="b").conversation.customer == survivor


def test_another_spelling_of_a_known_mailbox_is_the_same_customer(db):
    email = do_create_channel(kind="email", name="Support", credentials={})
    record(email, plain("<1@x>", "laurachen@gmail.com", kind="email"))
    record(email, plain("<2@x>", "Laura.Chen+shop@gmail.com", kind="email"))
    assert Customer.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert Identity.objects.count() == 2


def test_the_order_of_messages_is_kept_around_events_that_are_not_plain(client, channel):
    deliver(client, channel, "m1", "anna")
    deliver(client, channel, "m2", "anna", thread_id="order-42")  # not plain: recorded on its own
    deliver(client, channel, "m3", "anna")
    process_pending(limit=100)
    ordered = list(Message.objects.order_by("id").values_list("provider_message_id", flat=True))
    assert ordered == ["m1", "m2", "m3"]
    assert Conversation.objects.count() == 1


def test_a_failing_run_is_redone_event_by_event_and_nothing_is_lost(client, channel, monkeypatch):
    import tickets.inbound_batch

    def broken(**kwargs):
        raise RuntimeError("simulated bug in the batch path")

    monkeypatch.setattr(tickets.inbound_batch, "do_record_inbound_batch", broken)
    for i in range(4):
        deliver(client, channel, f"m{i}", f"c{i % 2}")
    process_pending(limit=100)
    assert Message.objects.count() == 4
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {InboundStatus.DONE}
    assert set(InboundEvent.objects.values_list("attempts", flat=True)) == {1}


def test_events_of_a_run_are_marked_done_with_one_attempt(client, channel):
    for i in range(3):
        deliver(client, channel, f"m{i}", "anna")
    process_pending(limit=100)
    rows = set(InboundEvent.objects.values_list("status", "attempts", "error"))
    assert rows == {(InboundStatus.DONE, 1, "")}
    assert all(InboundEvent.objects.values_list("processed_at", flat=True))


def test_a_run_is_announced_with_one_layer_message_per_group(channel, django_capture_on_commit_callbacks):
    import asyncio

    from channels.layers import get_channel_layer

    from core import realtime
    from tests.conftest import run_async

    layer = get_channel_layer()
    inbox = run_async(layer.new_channel)
    run_async(layer.group_add, realtime.role_group("manager"), inbox)
    with realtime.batched(), django_capture_on_commit_callbacks(execute=True):
        record(channel, plain("a", "anna"), plain("b", "anna"), plain("c", "bob"))

    async def receive_all() -> list[dict]:
        received = [await asyncio.wait_for(layer.receive(inbox), 5)]
        with contextlib.suppress(TimeoutError):
            received.append(await asyncio.wait_for(layer.receive(inbox), 0.3))
        return received

    [batch] = run_async(receive_all)
    assert batch["type"] == "app.batch"
    kinds = [(event["event"], event["payload"]["preview"]) for event in batch["events"]]
    assert [kind for kind, _ in kinds] == [
        "conversation.created",
        "message.created",
        "message.created",
        "conversation.created",
        "message.created",
    ]
