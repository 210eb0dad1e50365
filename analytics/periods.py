"""Periods of the rollups: UTC hours, days and months, and how a range decomposes into them.

Any range whose ends fall on whole UTC hours (every date range in a whole-hour time zone) is the exact
union of edge hours, whole UTC days and whole UTC months, so a rollup read sums a few hundred cells at
most per dimension combination instead of one row per hour.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Grain = Literal["hour", "day", "month"]
GRAIN_CODES: dict[Grain, str] = {"hour": "h", "day": "d", "month": "m"}
# The start of history for "everything before": backlog at a moment sums all deltas before it.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def floor_day(moment: datetime) -> datetime:
    return floor_hour(moment).replace(hour=0)


def floor_month(moment: datetime) -> datetime:
    return floor_day(moment).replace(day=1)


def next_month(moment: datetime) -> datetime:
    return (moment.replace(day=28) + timedelta(days=4)).replace(day=1)


def is_whole_hour(moment: datetime) -> bool:
    return floor_hour(moment) == moment.astimezone(UTC)


def whole_hour_zone(tz: ZoneInfo, start: datetime, end: datetime) -> bool:
    """Whether every offset of `tz` between start and end is a whole number of hours."""
    probe = start
    while probe <= end:
        offset = probe.astimezone(tz).utcoffset() or timedelta()
        if offset % HOUR:
            return False
        probe += timedelta(days=30)
    offset = end.astimezone(tz).utcoffset() or timedelta()
    return not offset % HOUR


def decompose(start: datetime, end: datetime) -> list[tuple[Grain, datetime, datetime]]:
    """[start, end) as (grain, first period start, end) runs: hours up to the first whole day, days up
    to the first whole month, months, then days and hours again. Both ends must be whole UTC hours."""
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)
    if not (is_whole_hour(lo) and is_whole_hour(hi)):
        raise ValueError("rollups answer ranges of whole UTC hours only")
    runs: list[tuple[Grain, datetime, datetime]] = []
    if hi <= lo:
        return runs
    day_lo = floor_day(lo) if floor_day(lo) == lo else floor_day(lo) + DAY
    day_hi = floor_day(hi)
    if day_lo >= day_hi:
        return [("hour", lo, hi)]
    if lo < day_lo:
        runs.append(("hour", lo, day_lo))
    month_lo = floor_month(day_lo) if floor_month(day_lo) == day_lo else next_month(floor_month(day_lo))
    month_hi = floor_month(day_hi)
    if month_lo < month_hi:
        if day_lo < month_lo:
            runs.append(("day", day_lo, month_lo))
        runs.append(("month", month_lo, month_hi))
        if month_hi < day_hi:
            runs.append(("day", month_hi, day_hi))
    else:
        runs.append(("day", day_lo, day_hi))
    if day_hi < hi:
        runs.append(("hour", day_hi, hi))
    return runs


def local_buckets(
    start: datetime, end: datetime, tz: ZoneInfo, step: Literal["day", "week", "month"]
) -> list[tuple[datetime, datetime]]:
    """Consecutive [from, to) buckets of local days, ISO weeks or months covering [start, end),
    clipped to the range, as aware datetimes in `tz`."""
    local = start.astimezone(tz)
    day = local.date()
    if step == "week":
        day -= timedelta(days=day.isoweekday() - 1)
    elif step == "month":
        day = day.replace(day=1)
    buckets: list[tuple[datetime, datetime]] = []
    while True:
        if step == "day":
            following = day + timedelta(days=1)
        elif step == "week":
            following = day + timedelta(days=7)
        else:
            following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        lo = datetime(day.year, day.month, day.day, tzinfo=tz)
        hi = datetime(following.year, following.month, following.day, tzinfo=tz)
        lo_c, hi_c = max(lo, start.astimezone(tz)), min(hi, end.astimezone(tz))
        if lo_c < hi_c:
            buckets.append((lo_c, hi_c))
        if hi >= end:
            return buckets
        day = following
