"""A send whose task was lost is queued again once even its last retry should have run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_app.models import OutboundMessage, OutboundStatus
from channels_app.outbound_sweep import GRACE, overdue_outbound_ids
from channels_app.services import do_create_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    return do_create_channel(kind="telegram", name="Bot", credentials={"bot_token": "1:x"})


def _outbound(channel, *, age: timedelta, attempts: int = 0, **extra) -> OutboundMessage:
    row = OutboundMessage.objects.create(
        channel=channel, recipient="42", payload={}, attempts=attempts, **extra
    )
    OutboundMessage.objects.filter(pk=row.pk).update(created_at=timezone.now() - age)
    return row


def test_only_overdue_queued_rows_are_swept(channel):
    lost = _outbound(channel, age=GRACE + timedelta(seconds=30))
    fresh = _outbound(channel, age=timedelta(seconds=10))
    # One attempt earned a 5 s backoff: overdue only after 5 s + grace.
    retrying = _outbound(channel, age=GRACE + timedelta(seconds=3), attempts=1)
    retry_lost = _outbound(channel, age=GRACE + timedelta(seconds=6), attempts=1)
    # Five attempts: 5 + 20 + 80 + 320 + 1200 = 1625 s of backoff before the sixth.
    late = _outbound(channel, age=GRACE + timedelta(seconds=1700), attempts=5)
    waiting = _outbound(channel, age=GRACE + timedelta(seconds=1600), attempts=5)
    sent = _outbound(channel, age=timedelta(hours=1), status=OutboundStatus.SENT, provider_message_id="9")
    failed = _outbound(channel, age=timedelta(hours=1), status=OutboundStatus.FAILED)

    swept = set(overdue_outbound_ids())

    assert {lost.pk, retry_lost.pk, late.pk} <= swept
    assert swept.isdisjoint({fresh.pk, retrying.pk, waiting.pk, sent.pk, failed.pk})


def test_the_periodic_sweep_puts_the_send_back_on_the_queue(channel):
    from channels_app.tasks import sweep_outbound
    from core.redis import get_redis

    assert sweep_outbound.apply().get() == 0
    _outbound(channel, age=timedelta(hours=1))
    before = get_redis().llen("realtime")
    assert sweep_outbound.apply().get() == 1
    assert get_redis().llen("realtime") == before + 1


def test_the_sweep_is_scheduled(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("sweep_outbound"))
    assert entry["schedule"] <= 60
