"""Fixtures shared by the inbox tests."""

from __future__ import annotations

import pytest
from django.utils import timezone

from channels_app.models import Channel
from profiles.models import Customer
from tickets.models import Conversation


@pytest.fixture
def sms_conversation(db) -> Conversation:
    """An open SMS conversation with Anna Kowalska about a parcel, started now."""
    now = timezone.now()
    channel = Channel.objects.create(kind="sms", name="Acme SMS")
    customer = Customer.objects.create(name="Anna Kowalska")
    return Conversation.objects.create(
        customer=customer, channel=channel, subject="Parcel", created_at=now, last_activity_at=now
    )
