"""Business-time arithmetic: deadlines that only run while the team works.

Everything is computed on real elapsed time (UTC) between wall-clock openings and closings in the
team's own time zone, so a DST switch inside an interval lengthens or shortens it by the real hour.
Days are stepped whole: a closed day costs one lookup, and full weeks without holidays or offset
changes are skipped at once, so even long targets need only a few dozen steps.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
# A schedule with no working time at all would never reach any deadline.
_NO_HOURS = "business hours have no working time in any day"


class HoursLike(Protocol):
    timezone: str
    intervals: Any


@dataclass(frozen=True)
class Schedule:
    """Parsed business hours: openings per ISO weekday as minutes after local midnight."""

    tz: ZoneInfo
    days: Mapping[int, tuple[tuple[int, int], ...]]

    @property
    def week(self) -> timedelta:
        """Working time of a week without holidays or clock changes."""
        return timedelta(minutes=sum(end - start for day in self.days.values() for start, end in day))

    @classmethod
    def of(cls, hours: HoursLike | Schedule) -> Schedule:
        if isinstance(hours, Schedule):
            return hours
        schedule = cls(tz=ZoneInfo(hours.timezone), days=parse_intervals(hours.intervals))
        if not schedule.week:
            raise ValueError(_NO_HOURS)
        return schedule


def _minute_of_day(value: str) -> int:
    hour, _, minute = str(value).partition(":")
    if not (hour.isdigit() and minute.isdigit() and len(minute) == 2):
        raise ValueError(f"not a HH:MM time: {value!r}")
    result = int(hour) * 60 + int(minute)
    # "24:00" closes at midnight; anything later would belong to the next day.
    if int(minute) > 59 or result > 24 * 60:
        raise ValueError(f"not a time of day: {value!r}")
    return result


def parse_intervals(intervals: Mapping[str, Sequence[Sequence[str]]] | None) -> dict[int, tuple]:
    """{"1".."7": [["09:00", "13:00"], ...]} -> {1..7: ((540, 780), ...)}, sorted and with overlaps
    merged, so no minute is counted twice. Raises ValueError on anything malformed."""
    if not isinstance(intervals, Mapping):
        if intervals in (None, [], ""):
            return {}
        raise ValueError("working hours must map weekdays to intervals")
    days: dict[int, tuple] = {}
    for key, pairs in intervals.items():
        weekday = int(key) if str(key).isdigit() else 0
        if not 1 <= weekday <= 7:
            raise ValueError(f"not an ISO weekday (1-7): {key!r}")
        spans = []
        for pair in pairs or ():
            if isinstance(pair, str) or len(pair) != 2:
                raise ValueError(f"an interval is a [start, end] pair: {pair!r}")
            start, end = _minute_of_day(pair[0]), _minute_of_day(pair[1])
            if start >= end:
                raise ValueError(f"an interval must end after it starts: {pair!r}")
            spans.append((start, end))
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        if merged:
            days[weekday] = tuple(merged)
    return days


def _utc(start: datetime) -> datetime:
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("business time needs aware datetimes")
    return start.astimezone(UTC)


def _openings(schedule: Schedule, day: date, holidays: Collection[date]) -> list[tuple[datetime, datetime]]:
    """The day's working intervals as UTC instants. Adding minutes to local midnight is wall-clock
    arithmetic in Python, which is what a "09:00" on a DST switch day means."""
    if day in holidays:
        return []
    spans = schedule.days.get(day.isoweekday(), ())
    if not spans:
        return []
    midnight = datetime.combine(day, time(), tzinfo=schedule.tz)
    return [
        ((midnight + timedelta(minutes=s)).astimezone(UTC), (midnight + timedelta(minutes=e)).astimezone(UTC))
        for s, e in spans
    ]


def _plain_week(schedule: Schedule, day: date, holidays: Collection[date]) -> bool:
    """Whether the week from `day` has exactly the nominal working time: no holiday and no offset change."""
    if any(day + timedelta(days=i) in holidays for i in range(7)):
        return False
    start = datetime.combine(day, time(), tzinfo=schedule.tz).utcoffset()
    end = datetime.combine(day + WEEK, time(), tzinfo=schedule.tz).utcoffset()
    return start == end


def add_business_minutes(
    start: datetime, minutes: float, hours: HoursLike | Schedule | None, holidays: Collection[date] = ()
) -> datetime:
    """The instant (in UTC) `minutes` of working time after `start`; outside hours the clock starts at
    the next opening. `hours=None` means around the clock. Holidays are dates in the team's time zone.
    UTC, because Python subtracts and compares datetimes sharing one zone by their wall clocks."""
    current = _utc(start)
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    if hours is None:
        return current + timedelta(minutes=minutes)
    schedule = Schedule.of(hours)
    remaining = timedelta(minutes=minutes)
    week = schedule.week
    day = current.astimezone(schedule.tz).date()
    first = True
    while True:
        if not first and remaining > week and _plain_week(schedule, day, holidays):
            remaining -= week
            day += WEEK
            continue
        first = False
        for opens, closes in _openings(schedule, day, holidays):
            if closes <= current:
                continue
            begin = max(opens, current)
            if remaining <= closes - begin:
                # A deadline lands exactly at a closing rather than at the next opening.
                return begin + remaining
            remaining -= closes - begin
        day += DAY


def business_minutes_between(
    a: datetime, b: datetime, hours: HoursLike | Schedule | None, holidays: Collection[date] = ()
) -> int:
    """Whole minutes of working time from `a` to `b`; 0 when `b` is not after `a`."""
    return int(business_time_between(a, b, hours, holidays).total_seconds() // 60)


def business_time_between(
    a: datetime, b: datetime, hours: HoursLike | Schedule | None, holidays: Collection[date] = ()
) -> timedelta:
    """Working time from `a` to `b` (exact, for reporting); zero when `b` is not after `a`."""
    begin, end = _utc(a), _utc(b)
    if end <= begin:
        return timedelta()
    if hours is None:
        return end - begin
    schedule = Schedule.of(hours)
    total = timedelta()
    day = begin.astimezone(schedule.tz).date()
    last = end.astimezone(schedule.tz).date()
    first = True
    while day <= last:
        if not first and day + WEEK <= last and _plain_week(schedule, day, holidays):
            total += schedule.week
            day += WEEK
            continue
        first = False
        for opens, closes in _openings(schedule, day, holidays):
            overlap = min(closes, end) - max(opens, begin)
            if overlap > timedelta():
                total += overlap
        day += DAY
    return total
