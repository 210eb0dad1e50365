"""What a dashboard shows: the date range, time zone and dimension filters, read from and written to
the URL so a view can be shared. Malformed values are dropped, never raised: a shared link with a stale
id still opens."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from analytics.periods import is_whole_hour, whole_hour_zone

DEFAULT_DAYS = 30
_LISTS = {
    "channel": "channel_ids",
    "team": "team_ids",
    "agent": "agent_ids",
    "survey": "survey_ids",
    "label": "label_ids",
}


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _values(params: Mapping[str, Any], key: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(key)]
    value = params.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _ids(params: Mapping[str, Any], key: str) -> tuple[int, ...]:
    found = []
    for raw in _values(params, key):
        for part in raw.split(","):
            if part.strip().isdigit():
                found.append(int(part.strip()))
    return tuple(sorted(set(found)))


def _day(params: Mapping[str, Any], key: str) -> date | None:
    values = _values(params, key)
    try:
        return date.fromisoformat(values[-1]) if values else None
    except ValueError:
        return None


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


# Named ranges (`range=7d`), relative to today in the viewer's zone: a shared "last 7 days" link stays
# the last 7 days. "custom" means the `from`/`to` days.
PRESETS = ("today", "7d", "30d", "this_month", "last_month", "quarter", "year", "custom")


def preset_days(name: str, today: date) -> tuple[date, date] | None:
    """The inclusive local days of a named range, or None for "custom" and unknown names."""
    month_start = today.replace(day=1)
    if name == "today":
        return today, today
    if name == "7d":
        return today - timedelta(days=6), today
    if name == "30d":
        return today - timedelta(days=29), today
    if name == "this_month":
        return month_start, today
    if name == "last_month":
        last = month_start - timedelta(days=1)
        return last.replace(day=1), last
    if name == "quarter":
        return today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1), today
    if name == "year":
        return today.replace(month=1, day=1), today
    return None


@dataclass(frozen=True)
class DashboardFilters:
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive
    tz: str = "UTC"
    channel_ids: tuple[int, ...] = ()
    team_ids: tuple[int, ...] = ()  # 0 = no team
    agent_ids: tuple[int, ...] = ()  # 0 = unassigned
    survey_ids: tuple[int, ...] = ()
    label_ids: tuple[int, ...] = ()
    segment_id: int | None = None
    language: str = ""
    # A name of PRESETS when the range came from one; written back while it still fits. Not part of
    # equality: the same days are the same filters, however they were chosen.
    preset: str = dataclasses.field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("filters need aware datetimes")
        if self.end < self.start:
            raise ValueError("the range ends before it starts")

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.tz) or ZoneInfo("UTC")

    @property
    def needs_facts(self) -> bool:
        """Whether the numbers must be read from facts: labels and segments are not rollup dimensions,
        and cells answer only ranges of whole UTC hours."""
        return bool(
            self.label_ids
            or self.segment_id is not None
            or not (is_whole_hour(self.start) and is_whole_hour(self.end))
            or not whole_hour_zone(self.zone, self.start, self.end)
        )

    def replace(self, **changes: Any) -> DashboardFilters:
        return dataclasses.replace(self, **changes)

    def previous(self) -> DashboardFilters:
        """The period of the same length just before this one."""
        return self.replace(start=self.start - (self.end - self.start), end=self.start)

    @classmethod
    def from_query(cls, params: Mapping[str, Any], user: Any = None) -> DashboardFilters:
        """Parse `from`/`to` (inclusive local days), `tz`, and the repeated id parameters."""
        zone_name = (_values(params, "tz") or [""])[-1]
        tz = _zone(zone_name) or ZoneInfo("UTC")
        today = timezone.now().astimezone(tz).date()
        preset = (_values(params, "range") or [""])[-1]
        preset = preset if preset in PRESETS else ""
        if not preset and not _values(params, "from") and not _values(params, "to"):
            preset = f"{DEFAULT_DAYS}d"  # the default range, named so the filter bar says what it is
        named = preset_days(preset, today)
        if named is not None:
            first, last = named
        else:
            last = _day(params, "to") or today
            first = _day(params, "from") or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            first, last = last, first
        segment = (_values(params, "segment") or [""])[-1]
        return cls(
            start=_midnight(first, tz),
            end=_midnight(last + timedelta(days=1), tz),
            tz=tz.key,
            segment_id=int(segment) if segment.isdigit() else None,
            language=(_values(params, "language") or [""])[-1][:16],
            preset=preset,
            **{field: _ids(params, key) for key, field in _LISTS.items()},
        )

    def to_query(self) -> str:
        """The URL query `from_query` reads back (ranges are whole local days)."""
        tz = self.zone
        last = (self.end.astimezone(tz) - timedelta(microseconds=1)).date()
        first = self.start.astimezone(tz).date()
        named = preset_days(self.preset, timezone.now().astimezone(tz).date())
        pairs: list[tuple[str, Any]]
        if named is not None and named == (first, last):
            pairs = [("range", self.preset), ("tz", self.tz)]
        else:
            pairs = [("from", first.isoformat()), ("to", last.isoformat()), ("tz", self.tz)]
        for key, field in _LISTS.items():
            pairs += [(key, value) for value in getattr(self, field)]
        if self.segment_id is not None:
            pairs.append(("segment", self.segment_id))
        if self.language:
            pairs.append(("language", self.language))
        return urlencode(pairs)
