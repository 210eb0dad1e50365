"""Ranges into rollup periods: edge hours + whole UTC days + whole UTC months, exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics import buckets
from analytics.periods import decompose, local_buckets, whole_hour_zone

WARSAW = ZoneInfo("Europe/Warsaw")


def u(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_warsaw_month_is_edge_hours_and_days():
    # March 2026 in Warsaw: 1 March 00:00 CET = 28 Feb 23:00Z; 1 April 00:00 CEST = 31 March 22:00Z.
    start = datetime(2026, 3, 1, tzinfo=WARSAW)
    end = datetime(2026, 4, 1, tzinfo=WARSAW)
    assert decompose(start, end) == [
        ("hour", u(2026, 2, 28, 23), u(2026, 3, 1)),
        ("day", u(2026, 3, 1), u(2026, 3, 31)),
        ("hour", u(2026, 3, 31), u(2026, 3, 31, 22)),
    ]


def test_a_long_utc_range_uses_months():
    runs = decompose(u(2025, 1, 15, 6), u(2026, 3, 2, 1))
    assert runs == [
        ("hour", u(2025, 1, 15, 6), u(2025, 1, 16)),
        ("day", u(2025, 1, 16), u(2025, 2, 1)),
        ("month", u(2025, 2, 1), u(2026, 3, 1)),
        ("day", u(2026, 3, 1), u(2026, 3, 2)),
        ("hour", u(2026, 3, 2), u(2026, 3, 2, 1)),
    ]


def test_within_one_day_only_hours_and_empty_ranges_are_empty():
    assert decompose(u(2026, 3, 5, 3), u(2026, 3, 5, 9)) == [("hour", u(2026, 3, 5, 3), u(2026, 3, 5, 9))]
    assert decompose(u(2026, 3, 5), u(2026, 3, 5)) == []


def test_ranges_off_the_whole_hour_are_refused():
    with pytest.raises(ValueError):
        decompose(u(2026, 3, 5, 3) + timedelta(minutes=30), u(2026, 3, 6))
    assert not whole_hour_zone(ZoneInfo("Asia/Kolkata"), u(2026, 1, 1), u(2026, 2, 1))
    assert whole_hour_zone(WARSAW, u(2026, 1, 1), u(2026, 12, 1))


def _hours(runs):
    """Every UTC hour the runs cover, expanded."""
    covered = []
    for grain, lo, hi in runs:
        step = lo
        while step < hi:
            if grain == "hour":
                nxt = step + timedelta(hours=1)
            elif grain == "day":
                nxt = step + timedelta(days=1)
            else:
                nxt = (step.replace(day=28) + timedelta(days=4)).replace(day=1)
            covered.append((step, nxt))
            step = nxt
    return covered


@given(
    st.integers(min_value=0, max_value=24 * 800),
    st.integers(min_value=0, max_value=24 * 800),
)
def test_decomposition_tiles_the_range_exactly(a, b):
    lo, hi = sorted((a, b))
    start = u(2025, 1, 1) + timedelta(hours=lo)
    end = u(2025, 1, 1) + timedelta(hours=hi)
    runs = decompose(start, end)
    pieces = _hours(runs)
    assert sum(((p[1] - p[0]) for p in pieces), timedelta()) == end - start
    for (_, first_end), (second_start, _) in pairwise(pieces):
        assert first_end == second_start
    # A handful of runs, never one row per hour for a long range.
    assert len(runs) <= 5
    assert sum(1 for g, *_ in runs if g == "hour") <= 2


def test_local_buckets_follow_the_zone_across_dst():
    start = datetime(2026, 3, 28, tzinfo=WARSAW)
    end = datetime(2026, 3, 31, tzinfo=WARSAW)
    days = local_buckets(start, end, WARSAW, "day")
    # Compared in UTC: Python subtracts datetimes of one zone by their wall clocks.
    assert [(lo.astimezone(UTC), hi.astimezone(UTC) - lo.astimezone(UTC)) for lo, hi in days] == [
        (u(2026, 3, 27, 23), timedelta(hours=24)),
        (u(2026, 3, 28, 23), timedelta(hours=23)),  # the night the clocks go forward
        (u(2026, 3, 29, 22), timedelta(hours=24)),
    ]
    weeks = local_buckets(datetime(2026, 3, 4, tzinfo=WARSAW), end, WARSAW, "week")
    assert [lo.date().isoformat() for lo, _ in weeks] == [
        "2026-03-04",
        "2026-03-09",
        "2026-03-16",
        "2026-03-23",
        "2026-03-30",
    ]
    months = local_buckets(datetime(2026, 1, 15, tzinfo=WARSAW), end, WARSAW, "month")
    assert [(lo.date().isoformat(), hi.date().isoformat()) for lo, hi in months] == [
        ("2026-01-15", "2026-02-01"),
        ("2026-02-01", "2026-03-01"),
        ("2026-03-01", "2026-03-31"),
    ]


def test_histogram_quantiles_interpolate_inside_the_bucket():
    assert buckets.bucket_of(0) == 1
    assert buckets.bucket_of(29.9) == 1
    assert buckets.bucket_of(30) == 2
    assert buckets.bucket_of(10**9) == buckets.SIZE
    # 3 values in [60, 120): ranks 1..3 interpolate to 80, 100, 120; the median (rank 2) is 100.
    counts = buckets.histogram([61, 70, 110])
    assert buckets.quantile(counts, 0.5) == pytest.approx(100.0)
    assert buckets.quantile(counts, 0.9) == pytest.approx(120.0)
    assert buckets.quantile([0] * buckets.SIZE, 0.5) is None
