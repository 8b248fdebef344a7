"""Digest schedules: crontab lines read the way crontab reads them, in the project's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import UsageError
from core.scheduling.cron import (
    check_timezone,
    describe,
    digest_trigger,
    fire_at_or_before,
    next_fire,
    previous_fire,
)

BERLIN = ZoneInfo("Europe/Berlin")
# 2026-11-23 is a Monday.
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)


def fires(expr: str, start: datetime = MONDAY, count: int = 7, tz: str = "UTC") -> list[datetime]:
    trigger = digest_trigger(expr, tz)
    found: list[datetime] = []
    at = start - timedelta(microseconds=1)
    while len(found) < count:
        upcoming = next_fire(trigger, at)
        assert upcoming is not None
        found.append(upcoming)
        at = upcoming
    return found


def weekdays(expr: str) -> set[str]:
    """The weekdays a daily-at-noon line fires on over two weeks, as names."""
    return {d.strftime("%a") for d in fires(expr, count=14)}


def test_weekdays_one_to_five_are_monday_to_friday():
    found = fires("0 17 * * 1-5", count=5)
    assert [d.strftime("%a %H:%M") for d in found] == [
        "Mon 17:00",
        "Tue 17:00",
        "Wed 17:00",
        "Thu 17:00",
        "Fri 17:00",
    ]
    after_friday = next_fire(digest_trigger("0 17 * * 1-5", "UTC"), found[-1])
    assert after_friday is not None and after_friday.strftime("%a %d") == "Mon 30"


@pytest.mark.parametrize(
    ("weekday", "expected"),
    [
        ("0", {"Sun"}),
        ("7", {"Sun"}),
        ("0,6", {"Sat", "Sun"}),
        ("6,7", {"Sat", "Sun"}),
        ("5-7", {"Fri", "Sat", "Sun"}),
        ("0-2", {"Sun", "Mon", "Tue"}),
        ("*/2", {"Sun", "Tue", "Thu", "Sat"}),
        ("1-5/2", {"Mon", "Wed", "Fri"}),
        ("mon-fri", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("fri-sun", {"Fri", "Sat", "Sun"}),
        ("SUN", {"Sun"}),
        ("*", {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}),
    ],
)
def test_weekday_numbers_count_from_sunday_like_crontab(weekday: str, expected: set[str]):
    assert weekdays(f"0 12 * * {weekday}") == expected


def test_minutes_hours_months_and_days_of_month():
    assert [d.strftime("%H:%M") for d in fires("*/20 9-10 * * *", count=7)] == [
        "09:00",
        "09:20",
        "09:40",
        "10:00",
        "10:20",
        "10:40",
        "09:00",
    ]
    found = fires("30 8 1,15 jan,jul *", count=4)
    assert [d.strftime("%Y-%m-%d %H:%M") for d in found] == [
        "2027-01-01 08:30",
        "2027-01-15 08:30",
        "2027-07-01 08:30",
        "2027-07-15 08:30",
    ]


def test_times_are_read_in_the_projects_zone():
    [first] = fires("0 17 * * 1-5", count=1, tz="Europe/Berlin")
    assert first.astimezone(BERLIN).strftime("%a %H:%M") == "Mon 17:00"
    assert first.astimezone(UTC).hour == 16  # CET is UTC+1 in November
    [summer] = fires(
        "0 17 * * *", start=datetime(2026, 7, 1, tzinfo=UTC), count=1, tz="Europe/Berlin"
    )
    assert summer.astimezone(UTC).hour == 15  # CEST is UTC+2


@pytest.mark.parametrize(
    ("expr", "fragments"),
    [
        ("0 17 * *", ["has 4 fields", "a crontab line has 5", "0 17 * * 1-5"]),
        ("0 17 * * 1-5 *", ["has 6 fields"]),
        ("", ["has 0 fields"]),
        ("60 17 * * *", ["minute `60` is out of range: use 0–59"]),
        ("0 24 * * *", ["hour `24` is out of range: use 0–23"]),
        ("0 17 0 * *", ["day of month `0` is out of range: use 1–31"]),
        ("0 17 * 13 *", ["month `13` is out of range: use 1–12 or jan–dec"]),
        ("0 17 * * 8", ["weekday `8` is out of range: use 0–7 or sun–sat"]),
        ("0 17 * * funday", ["weekday `funday` is out of range"]),
        ("0 17 * * 5-1", ["weekday `5-1` goes backwards"]),
        ("*/0 17 * * *", ["minute `*/0` has a step of 0"]),
        ("0 17 * * 1,,2", ["weekday `` is not valid"]),
        ("0 17 * * L", ["weekday `L` is out of range"]),
        ("0 17 ? * *", ["day of month `?` is not valid"]),
        ("0 17 1 * 1", ["names both days of the month and weekdays"]),
        ("0 17 31 2,4 *", ["never fires", "no month it names has a day 31"]),
    ],
)
def test_wrong_lines_are_refused_naming_what_is_wrong(expr: str, fragments: list[str]):
    with pytest.raises(UsageError) as caught:
        digest_trigger(expr, "UTC")
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("zone", "fragment"),
    [
        ("Europe/Berln", "unknown time zone `Europe/Berln` (did you mean `Europe/Berlin`"),
        ("utc", "unknown time zone `utc`"),
        ("", "unknown time zone ``"),
        ("../../etc/passwd", "use an IANA name"),
        ("localtime", "depends on the machine"),
    ],
)
def test_unknown_time_zones_are_refused(zone: str, fragment: str):
    with pytest.raises(UsageError) as caught:
        digest_trigger("0 17 * * *", zone)
    assert fragment in str(caught.value)


def test_known_time_zones_are_accepted():
    assert check_timezone("UTC") is UTC
    assert check_timezone("America/New_York") == ZoneInfo("America/New_York")


def test_previous_fire_is_strictly_before():
    trigger = digest_trigger("0 17 * * 1-5", "Europe/Berlin")
    monday_17 = datetime(2026, 11, 23, 17, tzinfo=BERLIN)
    friday_17 = datetime(2026, 11, 20, 17, tzinfo=BERLIN)
    assert previous_fire(trigger, monday_17) == friday_17
    assert previous_fire(trigger, monday_17 + timedelta(microseconds=1)) == monday_17
    tuesday_9 = datetime(2026, 11, 24, 9, tzinfo=BERLIN)
    assert previous_fire(trigger, tuesday_9) == monday_17


def test_previous_fire_searches_back_years():
    trigger = digest_trigger("0 0 29 2 *", "UTC")
    assert previous_fire(trigger, MONDAY) == datetime(2024, 2, 29, tzinfo=UTC)


def test_previous_fire_of_a_frequent_line_is_exact():
    trigger = digest_trigger("* * * * *", "UTC")
    at = datetime(2026, 11, 23, 10, 30, 0, 500, tzinfo=UTC)
    assert previous_fire(trigger, at) == datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    assert previous_fire(trigger, at.replace(microsecond=0)) == datetime(
        2026, 11, 23, 10, 29, tzinfo=UTC
    )


def test_fire_at_or_before_finds_the_due_run_within_the_lookback():
    trigger = digest_trigger("0 17 * * 1-5", "Europe/Berlin")
    fire = datetime(2026, 11, 23, 17, tzinfo=BERLIN)
    assert fire_at_or_before(trigger, fire, timedelta(minutes=5)) == fire
    late = fire + timedelta(minutes=3)
    assert fire_at_or_before(trigger, late, timedelta(minutes=5)) == fire
    assert fire_at_or_before(trigger, late, timedelta(minutes=2)) is None
    assert fire_at_or_before(trigger, fire - timedelta(seconds=1), timedelta(hours=1)) is None
    assert fire_at_or_before(trigger, late, timedelta(days=4)) == fire


def test_next_fire_is_strictly_after():
    trigger = digest_trigger("0 17 * * 1-5", "Europe/Berlin")
    fire = datetime(2026, 11, 23, 17, tzinfo=BERLIN)
    assert next_fire(trigger, fire) == datetime(2026, 11, 24, 17, tzinfo=BERLIN)
    assert next_fire(trigger, fire - timedelta(seconds=1)) == fire


def test_naive_times_are_a_programming_error():
    trigger = digest_trigger("0 17 * * *", "UTC")
    with pytest.raises(ValueError, match="timezone-aware"):
        previous_fire(trigger, datetime(2026, 11, 23))


def test_describe_is_short_and_normalized():
    assert describe("0  17 * *   1-5", "Europe/Berlin") == "0 17 * * 1-5 (Europe/Berlin)"


@pytest.mark.timeout(5)
def test_the_night_the_clocks_go_back_is_searched_in_utc():
    # 2026-10-25 in Berlin: 02:30 happens twice, at 00:30 and 01:30 UTC.
    trigger = digest_trigger("30 2 * * *", "Europe/Berlin")
    after = datetime(2026, 10, 25, 3, tzinfo=UTC)
    assert previous_fire(trigger, after) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    between = datetime(2026, 10, 25, 1, tzinfo=UTC)
    assert previous_fire(trigger, between) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert fire_at_or_before(trigger, after, timedelta(hours=2)) == datetime(
        2026, 10, 25, 1, 30, tzinfo=UTC
    )
    found = previous_fire(trigger, after)
    assert found is not None and found.tzinfo is UTC


@pytest.mark.timeout(5)
def test_a_time_the_clocks_skip_still_fires_once():
    # 2026-03-29 in Berlin: 02:30 does not exist; it fires at 01:30 UTC (03:30 CEST).
    trigger = digest_trigger("30 2 * * *", "Europe/Berlin")
    day = datetime(2026, 3, 29, tzinfo=UTC)
    assert next_fire(trigger, day) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert previous_fire(trigger, day + timedelta(days=1)) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )
