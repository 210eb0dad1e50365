"""Cached template fragments stay correct per language and time zone."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone, translation

from cxm.templatetags.fragments import timestamp

MOMENT = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)


def test_timestamps_follow_the_viewers_time_zone_and_language():
    with translation.override("en"), timezone.override("UTC"):
        utc = timestamp(MOMENT)
    with translation.override("en"), timezone.override("Europe/Moscow"):
        moscow = timestamp(MOMENT)
    with translation.override("ru"), timezone.override("Europe/Moscow"):
        russian = timestamp(MOMENT)
    assert 'datetime="2026-03-10T23:30:00+00:00"' in utc and "10 Mar 2026, 23:30" in utc
    assert 'datetime="2026-03-11T02:30:00+03:00"' in moscow and "11 Mar 2026, 02:30" in moscow
    assert russian != moscow and "02:30" in russian  # the month name is Russian
    with translation.override("en"), timezone.override("UTC"):
        assert timestamp(MOMENT) == utc  # from the cache, unchanged
    assert "muted" in timestamp(None)
