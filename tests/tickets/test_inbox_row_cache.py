"""Cached inbox rows: reused while nothing shown changes, rendered again the moment anything does."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone, translation

from accounts.roles import Role
from profiles.models import Customer
from tickets import inbox_row_cache
from tickets.models import Conversation, Label

pytestmark = pytest.mark.django_db


def fresh(conversation) -> Conversation:
    return (
        Conversation.objects.select_related("customer", "channel", "assignee")
        .prefetch_related("labels")
        .get(pk=conversation.pk)
    )


def renders(conversation) -> int:
    """How many times the row template ran to show this conversation's row once more."""
    real = inbox_row_cache.get_template
    with mock.patch.object(inbox_row_cache, "get_template", side_effect=real) as spy:
        inbox_row_cache.render_row(fresh(conversation))
    return spy.call_count


def test_unchanged_rows_come_from_the_cache_and_any_change_renders_again(sms_conversation, make_user):
    conversation = sms_conversation
    inbox_row_cache._rows.clear()
    assert renders(conversation) == 1
    assert renders(conversation) == 0
    conversation.labels.add(Label.objects.create(name="vip", color="purple"))
    assert renders(conversation) == 1
    Customer.objects.filter(pk=conversation.customer_id).update(name="Anna Nowak")
    assert renders(conversation) == 1
    agent = make_user(Role.AGENT, first_name="Ewa", last_name="Lis")
    Conversation.objects.filter(pk=conversation.pk).update(assignee=agent, priority="high")
    assert renders(conversation) == 1
    with translation.override("pl"):
        assert renders(conversation) == 1
    assert renders(conversation) == 0
    html = inbox_row_cache.render_row(fresh(conversation))
    assert "Anna Nowak" in html and "vip" in html and "Ewa Lis" in html


def test_the_sla_badge_turning_amber_is_a_change(sms_conversation):
    conversation = sms_conversation
    now = timezone.now()
    Conversation.objects.filter(pk=conversation.pk).update(
        created_at=now - timedelta(minutes=50), first_response_due_at=now + timedelta(minutes=50)
    )
    inbox_row_cache._rows.clear()
    assert 'data-sla-state="on_track"' in inbox_row_cache.render_row(fresh(conversation))
    Conversation.objects.filter(pk=conversation.pk).update(first_response_due_at=now + timedelta(minutes=5))
    assert 'data-sla-state="at_risk"' in inbox_row_cache.render_row(fresh(conversation))
