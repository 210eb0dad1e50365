"""When a weekly digest is due: Monday morning in the subscriber's own time zone.

The beat task runs every quarter of an hour; a subscription is due from ``SEND_HOUR`` local time on
Monday until the end of that Monday, once per week. Missing a whole Monday (workers down) skips that
week rather than mailing "last week" on a Thursday.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

SEND_HOUR = 7


def zone_or_utc(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_zone(name: str) -> bool:
    return name in available_timezones()


def due_week(now: datetime, *, time_zone: str, last_week: date | None) -> date | None:
    """The Monday (local date) of the week starting now, if its digest is due and not yet sent."""
    local = now.astimezone(zone_or_utc(time_zone))
    if local.weekday() != 0 or local.hour < SEND_HOUR:
        return None
    monday = local.date()
    if last_week is not None and last_week >= monday:
        return None
    return monday


def reported_week(monday: date, time_zone: str) -> tuple[datetime, datetime]:
    """The week the digest of ``monday`` reports on: the seven local days before it, as aware moments."""
    zone = zone_or_utc(time_zone)
    end = datetime.combine(monday, time(0), tzinfo=zone)
    start = datetime.combine(monday - timedelta(days=7), time(0), tzinfo=zone)
    return start, end
