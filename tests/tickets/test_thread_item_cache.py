"""Cached thread items: reused while nothing shown changes, rendered again the moment anything does."""

from __future__ import annotations

from unittest import mock

import pytest
from django.utils import timezone, translation

from accounts.roles import Role
from channels_app.models import Channel
from channels_app.outbound_models import OutboundMessage, OutboundStatus
from profiles.models import Customer
from tickets import thread_item_cache
from tickets.models import Conversation, Direction, InternalNote, Message
from tickets.selectors_conversation import thread

pytestmark = pytest.mark.django_db


def shown(conversation) -> tuple[int, str]:
    """(template runs, html) to show every item of the conversation once more, as the page loads it."""
    conversation = Conversation.objects.select_related("customer").get(pk=conversation.pk)
    real = thread_item_cache.get_template
    with mock.patch.object(thread_item_cache, "get_template", side_effect=real) as spy:
        html = "".join(
            thread_item_cache.render_item(item, conversation, conversation.customer)
            for item in thread(conversation).items
        )
    return spy.call_count, html


def test_unchanged_items_come_from_the_cache_and_any_change_renders_again(sms_conversation, make_user):
    conversation = sms_conversation
    thread_item_cache._items.clear()
    agent = make_user(Role.AGENT, first_name="Ewa", last_name="Lis")
    now = timezone.now()
    Message.objects.create(
        conversation=conversation, channel=conversation.channel, direction=Direction.INBOUND,
        body="Where is my parcel?", created_at=now,
    )  # fmt: skip
    reply = Message.objects.create(
        conversation=conversation, channel=conversation.channel, direction=Direction.OUTBOUND,
        body="On its way.", author=agent, created_at=now,
    )  # fmt: skip
    delivery = OutboundMessage.objects.create(
        channel=conversation.channel, message=reply, recipient="+48600100200"
    )
    InternalNote.objects.create(
        conversation=conversation, author=agent, body="Check the courier", created_at=now
    )

    assert shown(conversation)[0] == 3
    assert shown(conversation)[0] == 0
    OutboundMessage.objects.filter(pk=delivery.pk).update(status=OutboundStatus.DELIVERED)
    runs, html = shown(conversation)
    assert runs == 1 and 'data-delivery-status="delivered"' in html
    Customer.objects.filter(pk=conversation.customer_id).update(name="Anna Nowak")
    runs, html = shown(conversation)
    assert runs == 1 and "Anna Nowak" in html  # only the customer's own message shows the name
    Channel.objects.filter(pk=conversation.channel_id).update(name="Acme SMS PL")
    assert shown(conversation)[0] == 2  # both messages name their channel; the note does not
    InternalNote.objects.filter(conversation=conversation).update(body="Courier called")
    runs, html = shown(conversation)
    assert runs == 1 and "Courier called" in html
    with translation.override("pl"):
        runs, html = shown(conversation)
    assert runs == 3 and "Notatka wewnętrzna" in html
    with timezone.override("Europe/Moscow"):
        assert shown(conversation)[0] == 3


def test_mail_with_an_html_frame_is_rendered_each_time(sms_conversation):
    conversation = sms_conversation
    thread_item_cache._items.clear()
    Message.objects.create(
        conversation=conversation, channel=conversation.channel, direction=Direction.INBOUND,
        body="Invoice", html="<p>Invoice <b>attached</b></p>", created_at=timezone.now(),
    )  # fmt: skip
    assert shown(conversation)[0] == 1
    runs, html = shown(conversation)
    assert runs == 1 and "mail-frame" in html
    assert not len(thread_item_cache._items)
