"""What the conversation services announce, and that the realtime update and survey trigger hang off it."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from channels_app.models import Channel, OutboundMessage, OutboundStatus
from channels_app.normalized import NormalizedMessage, Sender, StatusUpdate
from channels_app.outbound_status import do_apply_status_update
from channels_app.pipeline_points import InboundItem, RecordInboundRun
from core import events
from tickets.conversation_services import do_assign, do_set_status
from tickets.inbound_batch import do_record_inbound_batch
from tickets.live_handlers import announce_messages
from tickets.models import ConversationStatus
from tickets.services import do_record_inbound_message

pytestmark = pytest.mark.django_db


def sms(text: str, pid: str, phone: str = "+48601234567") -> NormalizedMessage:
    return NormalizedMessage(sender=Sender(kind="phone", value=phone), provider_message_id=pid, text=text)


def names(seen) -> list[str]:
    """The conversation side's events (customer.* are the profile side's, tested there)."""
    return [event.name for event in seen if not event.name.startswith("customer.")]


def test_a_first_message_announces_the_conversation_then_the_message(
    django_capture_on_commit_callbacks, domain_events_seen
):
    channel = Channel.objects.create(kind="sms", name="SMS")
    with django_capture_on_commit_callbacks(execute=True):
        stored = do_record_inbound_message(channel=channel, message=sms("Hello", "m1"))
    assert names(domain_events_seen) == ["conversation.created", "message.received"]
    assert [e.name for e in domain_events_seen].count("customer.created") == 1
    received = domain_events_seen[-1]
    assert (received.message_id, received.conversation_id, received.customer_id) == (
        stored.pk, stored.conversation_id, stored.conversation.customer_id,
    )  # fmt: skip
    assert received.new_conversation and received.channel_kind == "sms"

    domain_events_seen.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_record_inbound_message(channel=channel, message=sms("Again", "m2"))
    assert names(domain_events_seen) == ["message.received"]
    assert not domain_events_seen[0].new_conversation


def test_the_batch_path_announces_the_same_events(django_capture_on_commit_callbacks, domain_events_seen):
    channel = Channel.objects.create(kind="sms", name="SMS")
    items = [
        InboundItem(channel=channel, message=sms("One", "b1")),
        InboundItem(channel=channel, message=sms("Two", "b2")),
        InboundItem(channel=channel, message=sms("Other", "b3", phone="+48601234999")),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        rows = do_record_inbound_batch(items=items)
    assert names(domain_events_seen) == [
        "conversation.created", "message.received", "message.received",
        "conversation.created", "message.received",
    ]  # fmt: skip
    assert [e.message_id for e in domain_events_seen if e.name == "message.received"] == [r.pk for r in rows]
    assert [e.name for e in domain_events_seen].count("customer.created") == 2
    # The pipeline reaches the same recorder through its interception point, not by importing tickets.
    assert events.interceptors(RecordInboundRun)


def test_resolve_reopen_and_assign_are_announced_with_their_actor(
    make_user, django_capture_on_commit_callbacks, domain_events_seen
):
    channel = Channel.objects.create(kind="sms", name="SMS")
    conversation = do_record_inbound_message(channel=channel, message=sms("Hi", "r1")).conversation
    agent = make_user(Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        do_assign(conversation=conversation, actor=agent, assignee=agent)
        do_set_status(conversation=conversation, actor=agent, status=ConversationStatus.RESOLVED)
        do_set_status(conversation=conversation, actor=agent, status=ConversationStatus.OPEN)
    assert names(domain_events_seen) == [
        "conversation.assigned",
        "conversation.resolved",
        "conversation.reopened",
    ]
    assert {e.actor_id for e in domain_events_seen} == {agent.pk}
    assert (
        domain_events_seen[0].assignee_id == agent.pk and domain_events_seen[0].previous_assignee_id is None
    )


def test_a_customer_writing_to_a_pending_conversation_reopens_it(
    make_user, django_capture_on_commit_callbacks, domain_events_seen
):
    channel = Channel.objects.create(kind="sms", name="SMS")
    conversation = do_record_inbound_message(channel=channel, message=sms("Hi", "c1")).conversation
    do_set_status(conversation=conversation, actor=make_user(Role.ADMIN), status=ConversationStatus.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        do_record_inbound_message(channel=channel, message=sms("Still broken", "c2"))
    assert names(domain_events_seen) == ["conversation.reopened", "message.received"]
    assert domain_events_seen[0].actor_id is None


def test_a_status_callback_announces_the_change_once(django_capture_on_commit_callbacks, domain_events_seen):
    channel = Channel.objects.create(kind="sms", name="SMS")
    OutboundMessage.objects.create(
        channel=channel, recipient="+48601234567", payload={"text": "hi"}, provider_message_id="SM1"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert do_apply_status_update(channel=channel, update=StatusUpdate("SM1", OutboundStatus.DELIVERED))
        assert not do_apply_status_update(channel=channel, update=StatusUpdate("SM1", OutboundStatus.SENT))
    assert names(domain_events_seen) == ["outbound.status_changed"]
    assert (domain_events_seen[0].previous_status, domain_events_seen[0].status) == ("queued", "delivered")


def test_the_live_update_is_a_subscriber_of_the_message_events():
    assert announce_messages in events.subscribers(events.MessageReceived)
    assert announce_messages in events.subscribers(events.MessageSent)


def test_the_batch_path_announces_its_messages_without_reading_them_back(
    monkeypatch, django_capture_on_commit_callbacks, django_assert_num_queries
):
    """The recorder hands its final rows to the commit's subscribers; only a miss costs a query."""
    from tickets import events as live

    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(live.realtime, "publish", lambda groups, kind, payload: sent.append((kind, payload)))
    channel = Channel.objects.create(kind="sms", name="SMS")
    items = [InboundItem(channel=channel, message=sms(text, f"r{i}")) for i, text in enumerate(["A", "B"])]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rows = do_record_inbound_batch(items=items)
    # The channel's teams are the one query left: the messages themselves are not read again.
    with django_assert_num_queries(1):
        for callback in callbacks:
            callback()
    first, second = rows[0].pk, rows[1].pk
    assert [(kind, p["message_id"]) for kind, p in sent] == [
        ("conversation.created", first), ("message.created", first), ("message.created", second),
    ]  # fmt: skip

    # A message nobody remembered (stored by another thread, say) is read from the database.
    sent.clear()
    event = events.MessageReceived(
        message_id=rows[1].pk, conversation_id=rows[1].conversation_id, customer_id=None,
        channel_id=channel.pk, channel_kind="sms", new_conversation=False, sent_at=rows[1].created_at,
    )  # fmt: skip
    with django_assert_num_queries(2):
        announce_messages([event])
    assert [(kind, p["message_id"], p["preview"]) for kind, p in sent] == [("message.created", second, "B")]
