"""A deadline that passes while the conversation waits is announced once as `SlaBreached`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.events import SlaBreached
from tickets.models import ConversationStatus, SlaBreachNotice
from tickets.sla_breaches import WINDOW, do_announce_sla_breaches

pytestmark = pytest.mark.django_db


def announce(capture, now=None) -> int:
    with capture(execute=True):
        return do_announce_sla_breaches(now=now)


def breaches(seen) -> list[tuple[int, str]]:
    return [(event.conversation_id, event.target) for event in seen if isinstance(event, SlaBreached)]


def test_a_passed_deadline_is_announced_once(
    sms_conversation, django_capture_on_commit_callbacks, domain_events_seen
):
    now = timezone.now()
    due = now - timedelta(minutes=5)
    sms_conversation.first_response_due_at = due
    sms_conversation.resolution_due_at = now + timedelta(hours=4)  # still ahead: nothing to say
    sms_conversation.save()

    assert announce(django_capture_on_commit_callbacks, now) == 1
    assert breaches(domain_events_seen) == [(sms_conversation.pk, "first_response")]
    assert domain_events_seen[-1].due_at == due
    # Twice (another worker, the next minute): the notice row says it was already announced.
    assert announce(django_capture_on_commit_callbacks, now + timedelta(minutes=1)) == 0
    assert len(breaches(domain_events_seen)) == 1
    assert SlaBreachNotice.objects.get().target == "first_response"


def test_answered_resolved_or_long_past_deadlines_are_not_announced(
    sms_conversation, django_capture_on_commit_callbacks, domain_events_seen
):
    now = timezone.now()
    sms_conversation.first_response_due_at = now - timedelta(minutes=5)
    sms_conversation.first_response_at = now - timedelta(minutes=10)  # answered in time
    sms_conversation.resolution_due_at = now - WINDOW - timedelta(minutes=1)  # before the window
    sms_conversation.save()
    assert announce(django_capture_on_commit_callbacks, now) == 0

    sms_conversation.first_response_at = None
    sms_conversation.status = ConversationStatus.RESOLVED
    sms_conversation.save()
    assert announce(django_capture_on_commit_callbacks, now) == 0
    assert breaches(domain_events_seen) == []


def test_a_new_deadline_after_the_customer_wrote_again_is_a_new_breach(
    sms_conversation, django_capture_on_commit_callbacks, domain_events_seen
):
    now = timezone.now()
    sms_conversation.first_response_at = now - timedelta(hours=1)
    sms_conversation.waiting_since = now - timedelta(minutes=30)
    sms_conversation.next_response_due_at = now - timedelta(minutes=2)
    sms_conversation.save()
    assert announce(django_capture_on_commit_callbacks, now) == 1

    sms_conversation.next_response_due_at = now + timedelta(minutes=8)
    sms_conversation.save()
    later = now + timedelta(minutes=10)
    assert announce(django_capture_on_commit_callbacks, later) == 1
    assert breaches(domain_events_seen) == [(sms_conversation.pk, "next_response")] * 2
