"""Business-time arithmetic against hand-computed deadlines and a minute-by-minute reference."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.business_time import Schedule, add_business_minutes, business_minutes_between, parse_intervals

WARSAW, NEW_YORK, MOSCOW = ZoneInfo("Europe/Warsaw"), ZoneInfo("America/New_York"), ZoneInfo("Europe/Moscow")
OFFICE = {str(day): [["09:00", "13:00"], ["14:00", "18:00"]] for day in range(1, 6)}
ALL_DAY = {str(day): [["00:00", "24:00"]] for day in range(1, 8)}


@dataclass
class Hours:
    timezone: str = "Europe/Warsaw"
    intervals: dict = field(default_factory=lambda: dict(OFFICE))


def at(tz: ZoneInfo, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        ("2026-03-02 10:00", 60, "2026-03-02 11:00"),  # inside the morning
        ("2026-03-02 12:30", 60, "2026-03-02 14:30"),  # across the lunch break
        ("2026-03-02 12:00", 60, "2026-03-02 13:00"),  # ends exactly at a closing, not the next opening
        ("2026-03-02 13:20", 30, "2026-03-02 14:30"),  # starts during lunch
        ("2026-03-02 07:00", 30, "2026-03-02 09:30"),  # before opening: clock starts at 09:00
        ("2026-03-02 17:30", 60, "2026-03-03 09:30"),  # across midnight
        ("2026-03-02 19:00", 0, "2026-03-03 09:00"),  # zero minutes outside hours: the next opening
        ("2026-03-06 17:00", 120, "2026-03-09 10:00"),  # Friday to Monday over the weekend
        ("2026-03-07 11:00", 15, "2026-03-09 09:15"),  # written on Saturday
        ("2026-03-02 09:00", 8 * 60 * 5, "2026-03-06 18:00"),  # a whole working week
        ("2026-03-02 09:00", 8 * 60 * 5 * 3 + 1, "2026-03-23 09:01"),  # whole weeks skipped
    ],
)
def test_office_hours_in_warsaw(start, minutes, due):
    assert add_business_minutes(at(WARSAW, start), minutes, Hours()) == at(WARSAW, due)


def test_holidays_are_skipped_like_weekends():
    holidays = {date(2026, 3, 9), date(2026, 3, 10)}
    due = add_business_minutes(at(WARSAW, "2026-03-06 17:30"), 60, Hours(), holidays)
    assert due == at(WARSAW, "2026-03-11 09:30")
    between = business_minutes_between(at(WARSAW, "2026-03-06 17:30"), due, Hours(), holidays)
    assert between == 60


def test_days_without_intervals_and_several_intervals_a_day():
    hours = Hours(intervals={"2": [], "4": [["08:00", "10:00"], ["12:00", "13:00"], ["15:00", "16:00"]]})
    # Monday and Tuesday have no hours; Thursday has three openings.
    due = add_business_minutes(at(WARSAW, "2026-03-02 09:00"), 200, hours)
    assert due == at(WARSAW, "2026-03-05 15:20")
    assert business_minutes_between(at(WARSAW, "2026-03-02 00:00"), due, hours) == 200


def test_a_customer_writing_at_2350_utc_waits_for_the_team_in_warsaw():
    # Monday 23:50 UTC is already Tuesday 00:50 in Warsaw (winter, +01:00).
    assert add_business_minutes(utc("2026-03-02 23:50"), 30, Hours()) == utc("2026-03-03 08:30")
    # In summer (+02:00) Tuesday 09:00 in Warsaw is 07:00 UTC.
    assert add_business_minutes(utc("2026-06-01 23:50"), 30, Hours()) == utc("2026-06-02 07:30")
    # Sunday 23:50 UTC is Monday in Warsaw: the clock starts that very morning, not a day later.
    assert add_business_minutes(utc("2026-03-01 23:50"), 30, Hours()) == utc("2026-03-02 08:30")
    # Friday 23:50 UTC is Saturday in Warsaw: Monday morning.
    assert add_business_minutes(utc("2026-03-06 23:50"), 30, Hours()) == utc("2026-03-09 08:30")


def test_the_result_is_an_instant_whatever_zone_the_start_is_in():
    start = at(NEW_YORK, "2026-03-02 04:00")  # 10:00 in Warsaw
    assert add_business_minutes(start, 60, Hours()) == at(WARSAW, "2026-03-02 11:00")


def test_office_hours_across_the_spring_and_autumn_switches():
    # Friday 17:00 CET + 2 business hours = Monday 10:00 CEST: 64 real hours later, not 65.
    start = at(WARSAW, "2026-03-27 17:00")
    due = add_business_minutes(start, 120, Hours())
    assert due == at(WARSAW, "2026-03-30 10:00") == utc("2026-03-30 08:00")
    assert due - start.astimezone(UTC) == timedelta(hours=64)
    autumn = add_business_minutes(at(WARSAW, "2026-10-23 17:00"), 120, Hours())
    assert autumn == at(WARSAW, "2026-10-26 10:00") == utc("2026-10-26 09:00")


def test_new_york_switches_on_its_own_dates():
    hours = Hours(timezone="America/New_York")
    assert add_business_minutes(at(NEW_YORK, "2026-03-06 17:00"), 120, hours) == utc("2026-03-09 14:00")
    assert add_business_minutes(at(NEW_YORK, "2026-10-30 17:00"), 120, hours) == utc("2026-11-02 15:00")
    # Between the two zones' switches (Mar 8 and Mar 29), New York is five hours behind Warsaw, not six.
    assert add_business_minutes(utc("2026-03-16 08:00"), 0, Hours()) == utc("2026-03-16 08:00")
    assert add_business_minutes(utc("2026-03-16 08:00"), 0, hours) == utc("2026-03-16 13:00")


def test_moscow_has_no_switch():
    hours = Hours(timezone="Europe/Moscow")
    assert add_business_minutes(utc("2026-01-05 05:00"), 30, hours) == utc("2026-01-05 06:30")
    assert add_business_minutes(utc("2026-07-06 05:00"), 30, hours) == utc("2026-07-06 06:30")
    assert add_business_minutes(at(MOSCOW, "2026-03-27 17:00"), 120, hours) == utc("2026-03-30 07:00")


def test_a_working_day_on_switch_days_has_23_or_25_real_hours():
    hours = Hours(intervals=ALL_DAY)
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    for day, length in ((spring, 23), (autumn, 25)):
        start = at(WARSAW, f"{day} 00:00")
        end = at(WARSAW, f"{day + timedelta(days=1)} 00:00")
        assert business_minutes_between(start, end, hours) == length * 60
        assert add_business_minutes(start, length * 60, hours) == end
    # An interval over the missing hour is an hour short.
    night = Hours(intervals={"7": [["01:00", "04:00"]]})
    assert (
        business_minutes_between(at(WARSAW, "2026-03-29 00:00"), at(WARSAW, "2026-03-30 00:00"), night) == 120
    )
    assert (
        business_minutes_between(at(WARSAW, "2026-10-25 00:00"), at(WARSAW, "2026-10-26 00:00"), night) == 240
    )


def test_no_hours_means_around_the_clock_in_real_time():
    start = at(WARSAW, "2026-03-28 12:00")
    assert add_business_minutes(start, 24 * 60, None) == at(WARSAW, "2026-03-29 13:00")
    assert business_minutes_between(start, at(WARSAW, "2026-03-29 13:00"), None) == 24 * 60
    assert add_business_minutes(utc("2026-03-02 23:50"), 30, None) == utc("2026-03-03 00:20")


def test_minutes_between():
    hours = Hours()
    assert (
        business_minutes_between(at(WARSAW, "2026-03-02 08:00"), at(WARSAW, "2026-03-02 20:00"), hours) == 480
    )
    assert (
        business_minutes_between(at(WARSAW, "2026-03-06 17:00"), at(WARSAW, "2026-03-09 10:00"), hours) == 120
    )
    assert (
        business_minutes_between(at(WARSAW, "2026-03-09 10:00"), at(WARSAW, "2026-03-06 17:00"), hours) == 0
    )
    # Four weeks, two of them with a DST switch, one with a holiday.
    start, end = at(WARSAW, "2026-03-16 00:00"), at(WARSAW, "2026-04-13 00:00")
    assert business_minutes_between(start, end, hours) == 4 * 5 * 480
    assert business_minutes_between(start, end, hours, {date(2026, 4, 6)}) == 19 * 480


def _reference_between(start: datetime, end: datetime, schedule: Schedule, holidays: set[date]) -> int:
    """The slow definition: count each real minute whose local wall time is inside an interval."""
    count, moment = 0, start.astimezone(UTC)
    while moment < end:
        local = moment.astimezone(schedule.tz)
        minute = local.hour * 60 + local.minute
        spans = schedule.days.get(local.isoweekday(), ())
        if local.date() not in holidays and any(s <= minute < e for s, e in spans):
            count += 1
        moment += timedelta(minutes=1)
    return count


@pytest.mark.parametrize("zone", ["Europe/Warsaw", "America/New_York", "Europe/Moscow"])
def test_agrees_with_the_minute_by_minute_reference(zone):
    rng = random.Random(zone)
    # Sunday's night shift spans each zone's whole switch hour. (An interval starting inside a repeated
    # hour stays open through its second pass, which a wall-clock reference would not count.)
    intervals = {**OFFICE, "6": [["10:00", "14:00"]], "7": [["00:30", "03:30"]]}
    hours = Hours(timezone=zone, intervals=intervals)
    schedule = Schedule.of(hours)
    holidays = {date(2026, 3, 10), date(2026, 11, 3), date(2026, 10, 27)}
    for _ in range(15):
        base = rng.choice([utc("2026-03-05 00:00"), utc("2026-10-22 00:00"), utc("2026-03-26 00:00")])
        start = base + timedelta(minutes=rng.randrange(0, 6 * 24 * 60))
        # Up to three weeks' worth, so whole weeks are skipped too.
        minutes = rng.randrange(0, 8000)
        due = add_business_minutes(start, minutes, hours, holidays)
        assert _reference_between(start, due, schedule, holidays) == minutes
        assert business_minutes_between(start, due, schedule, holidays) == minutes
        if minutes:
            # Never later than needed: one minute earlier is one working minute short.
            assert _reference_between(start, due - timedelta(minutes=1), schedule, holidays) == minutes - 1


def test_long_targets_are_fast_and_exact():
    hours, holidays = Hours(), {date(2026, 12, 25), date(2027, 1, 1)}
    start = at(WARSAW, "2026-01-05 09:00")
    due = add_business_minutes(start, 250 * 480, hours, holidays)  # about a working year
    assert business_minutes_between(start, due, hours, holidays) == 250 * 480
    assert due.year == 2026 and due.month == 12


def test_parse_intervals_merges_and_validates():
    assert parse_intervals({"1": [["14:00", "18:00"], ["09:00", "13:00"], ["12:00", "14:00"]]}) == {
        1: ((540, 1080),)
    }
    assert parse_intervals({"7": [["22:00", "24:00"]], "3": []}) == {7: ((1320, 1440),)}
    assert parse_intervals(None) == {}
    for bad in (
        {"8": [["09:00", "10:00"]]},
        {"1": [["10:00", "09:00"]]},
        {"1": [["9", "10:00"]]},
        {"1": [["09:00", "24:30"]]},
        {"1": ["09:00-10:00"]},
        ["09:00"],
    ):
        with pytest.raises(ValueError):
            parse_intervals(bad)


def test_unusable_input_is_refused():
    with pytest.raises(ValueError):
        add_business_minutes(datetime(2026, 3, 2, 9), 10, Hours())  # naive
    with pytest.raises(ValueError):
        add_business_minutes(utc("2026-03-02 09:00"), 10, Hours(intervals={}))  # would never end
    with pytest.raises(ValueError):
        add_business_minutes(utc("2026-03-02 09:00"), -1, Hours())
