"""Reading start times and deciding what a scheduled task needs: pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import tzlocal

from core.cli.deploy import local_zone
from core.errors import UsageError
from core.scheduling.due import Due, Plan, Timing, due, moments
from core.scheduling.times import parse_start
from core.status import TaskStatus

NOW = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("17:30", BERLIN, datetime(2031, 3, 3, 16, 30, tzinfo=UTC)),
        ("9:00", BERLIN, datetime(2031, 3, 4, 8, 0, tzinfo=UTC)),  # 10:00 there now: tomorrow
        ("tomorrow 9:00", NEW_YORK, datetime(2031, 3, 4, 14, 0, tzinfo=UTC)),
        ("today 23:59", UTC, datetime(2031, 3, 3, 23, 59, tzinfo=UTC)),
        ("2031-03-10 08:15", BERLIN, datetime(2031, 3, 10, 7, 15, tzinfo=UTC)),
        ("2031-03-10T08:15+05:30", BERLIN, datetime(2031, 3, 10, 2, 45, tzinfo=UTC)),
        ("2031-03-10T08:15Z", NEW_YORK, datetime(2031, 3, 10, 8, 15, tzinfo=UTC)),
        ("+30m", BERLIN, NOW + timedelta(minutes=30)),
        ("in 2h", BERLIN, NOW + timedelta(hours=2)),
        ("+1d2h", BERLIN, NOW + timedelta(days=1, hours=2)),
    ],
)
def test_start_times_people_type(text: str, zone: ZoneInfo, expected: datetime):
    assert parse_start(text, NOW, zone) == expected


def test_a_summer_time_offset_is_applied_for_that_date():
    assert parse_start("2031-04-01 12:00", NOW, BERLIN) == datetime(2031, 4, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("soon", "cannot read the time"),
        ("2031-03-01 10:00", "in the past"),
        ("2031-02-30 10:00", "is not a date"),
        ("24:00", "hours go to 23"),
        ("12:60", "minutes to 59"),
        ("+0m", "in the past"),
        ("+2x", "is not a duration"),
        ("2031-09-01 10:00", "more than 90 days"),
        ("2031-03-30 02:30", "does not exist in Europe/Berlin"),
        ("2031-03-10T08:15:00.x+01:00", "cannot read the time"),
    ],
)
def test_bad_times_say_what_is_wrong(text: str, reason: str):
    with pytest.raises(UsageError, match=reason):
        parse_start(text, NOW, BERLIN)


AT = NOW + timedelta(hours=1)
TIMING = Timing(reminder_lead=timedelta(minutes=15), grace=timedelta(minutes=10))


def plan(status: TaskStatus = TaskStatus.SCHEDULED, *, reminded: bool = False) -> Plan:
    return Plan(status, AT, NOW, reminded)


@pytest.mark.parametrize(
    ("status", "reminded", "offset", "expected"),
    [
        (TaskStatus.SCHEDULED, False, timedelta(minutes=-16), Due.NOTHING),
        (TaskStatus.SCHEDULED, False, timedelta(minutes=-15), Due.REMIND),
        (TaskStatus.SCHEDULED, True, timedelta(minutes=-5), Due.NOTHING),
        (TaskStatus.PENDING_APPROVAL, False, timedelta(minutes=-5), Due.REMIND),
        (TaskStatus.SCHEDULED, True, timedelta(0), Due.START),
        (TaskStatus.SCHEDULED, False, timedelta(minutes=10), Due.START),
        (TaskStatus.SCHEDULED, True, timedelta(minutes=10, seconds=1), Due.MISSED_LATE),
        (TaskStatus.PENDING_APPROVAL, False, timedelta(0), Due.MISSED_APPROVAL),
        (TaskStatus.QUEUED, False, timedelta(0), Due.NOTHING),
        (TaskStatus.CANCELLED, False, timedelta(minutes=-5), Due.NOTHING),
    ],
)
def test_what_is_due(status: TaskStatus, reminded: bool, offset: timedelta, expected: Due):
    assert due(plan(status, reminded=reminded), AT + offset, TIMING) == expected


def test_no_reminder_for_a_release_scheduled_closer_than_the_lead():
    close = Plan(TaskStatus.SCHEDULED, AT, AT - timedelta(minutes=10), False)
    assert due(close, AT - timedelta(minutes=5), TIMING) == Due.NOTHING
    assert moments(close, TIMING) == [AT]
    assert moments(plan(), TIMING) == [AT - timedelta(minutes=15), AT]
    assert moments(plan(TaskStatus.SUCCEEDED), TIMING) == []


def test_the_cli_reads_times_in_the_machines_named_zone(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    tzlocal.reload_localzone()
    try:
        zone = local_zone()
        # After the March change Berlin is UTC+2, whatever the offset is today.
        assert parse_start("2031-04-02 09:00", NOW, zone) == datetime(2031, 4, 2, 7, tzinfo=UTC)
        with pytest.raises(UsageError, match="does not exist"):
            parse_start("2031-03-30 02:30", NOW, zone)
    finally:
        monkeypatch.delenv("TZ")
        tzlocal.reload_localzone()
