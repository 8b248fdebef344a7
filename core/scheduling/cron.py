"""Digest schedules: a standard crontab line and an IANA time zone, as an APScheduler trigger.

APScheduler 3 counts weekdays from Monday = 0, while crontab counts from Sunday = 0 (and 7), so
`CronTrigger.from_crontab("0 17 * * 1-5")` would fire Tuesday to Saturday. The line is parsed
here instead and APScheduler is given weekday *names*, so `1-5` means Monday to Friday.

Crontab runs a job when *either* a restricted day of month or a restricted weekday matches;
APScheduler needs both. Rather than fire on other days than the line says, a line that
restricts both is refused.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apscheduler.triggers.cron import CronTrigger

from core.errors import UsageError
from core.inventory.names import closest

EXAMPLE = "`0 17 * * 1-5` (weekdays at 17:00)"
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
"""Crontab order: Sunday is 0 (and 7)."""
_APS_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""APScheduler order: Monday is 0."""
_ITEM = re.compile(r"^(?P<body>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")
_FIRST_WINDOW = timedelta(hours=1)
_MAX_STEPS = 64
"""Bisection steps: 2**64 seconds is far beyond any window searched."""
MAX_LOOKBACK = timedelta(days=366 * 9)
"""Far enough back for any line accepted here (the 29th of February recurs within 8 years)."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0
    star_high: int | None = None
    """The top of `*` when it differs from the top of a typed value (weekday 7 is Sunday)."""

    def value(self, text: str) -> int | None:
        if text.isdigit():
            number = int(text)
            return number if self.low <= number <= self.high else None
        if text in self.names:
            return self.names.index(text) + self.name_base
        return None

    def accepted(self) -> str:
        names = f" or {self.names[0]}–{self.names[-1]}" if self.names else ""
        return f"{self.low}–{self.high}{names}"


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, MONTH_NAMES, name_base=1),
    _Field("weekday", 0, 7, WEEKDAY_NAMES, star_high=6),
)
_MINUTE, _HOUR, _DAY, _MONTH, _WEEKDAY = _FIELDS


def normalize(expr: str) -> str:
    """The crontab line with single spaces, as it is stored and shown."""
    return " ".join(expr.split())


def describe(expr: str, timezone: str) -> str:
    """Short text for listings: `0 17 * * 1-5 (Europe/Berlin)`."""
    return f"{normalize(expr)} ({timezone})"


def check_timezone(name: str) -> tzinfo:
    """The IANA time zone called `name`, or a `UsageError` saying what is wrong with it."""
    if name == "UTC":
        return UTC
    if name == "localtime":
        raise UsageError(
            "time zone `localtime` depends on the machine Hoist runs on: "
            "name the zone, e.g. `Europe/Berlin` or `UTC`"
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        near = closest(name, _zone_names())
        hint = f" (did you mean {', '.join(f'`{n}`' for n in near)}?)" if near else ""
        raise UsageError(
            f"unknown time zone `{name}`{hint}: use an IANA name such as `Europe/Berlin` or `UTC`"
        ) from None


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def digest_trigger(expr: str, timezone: str) -> CronTrigger:
    """A trigger for the crontab line `expr` (minute hour day month weekday) in `timezone`."""
    zone = check_timezone(timezone)
    parts = expr.split()
    if len(parts) != len(_FIELDS):
        raise UsageError(
            f"digest schedule `{normalize(expr)}` has {len(parts)} "
            f"field{'s' if len(parts) != 1 else ''}, a crontab line has 5 "
            f"(minute hour day-of-month month weekday), e.g. {EXAMPLE}"
        )
    values = [_values(field, text, expr) for field, text in zip(_FIELDS, parts, strict=True)]
    minutes, hours, days, months, weekdays = values
    weekdays = frozenset(d % 7 for d in weekdays)
    _check_days(expr, days, months, weekdays)
    return CronTrigger(
        minute=_ranges(_MINUTE, minutes),
        hour=_ranges(_HOUR, hours),
        day=_ranges(_DAY, days),
        month=_ranges(_MONTH, months),
        day_of_week=_weekdays(weekdays),
        timezone=zone,
    )


def _values(field: _Field, text: str, expr: str) -> frozenset[int]:
    """Every value one crontab field allows: `*`, `5`, `1-5`, `*/15`, `0-30/10`, lists of them."""
    found: set[int] = set()
    for item in text.split(","):
        found |= _item(field, item, expr)
    return frozenset(found)


def _item(field: _Field, item: str, expr: str) -> set[int]:
    def wrong(why: str) -> UsageError:
        return UsageError(f"digest schedule `{normalize(expr)}`: {field.name} `{item}` {why}")

    match = _ITEM.match(item.lower())
    if not match:
        raise wrong("is not valid: use a number, a range like 1-5, `*`, or a step like */15")
    body, step_text = match.group("body"), match.group("step")
    step = int(step_text) if step_text else 1
    if step < 1:
        raise wrong("has a step of 0")
    if body == "*":
        return set(range(field.low, (field.star_high or field.high) + 1, step))
    first_text, _, last_text = body.partition("-")
    first = field.value(first_text)
    last = field.value(last_text) if last_text else (field.high if step_text else first)
    if field is _WEEKDAY and last_text == "sun":
        last = 7  # `fri-sun`: Sunday ends a range as 7
    if first is None or last is None:
        raise wrong(f"is out of range: use {field.accepted()}")
    if first > last:
        raise wrong("goes backwards: write the smaller value first")
    return set(range(first, last + 1, step))


def _check_days(
    expr: str, days: frozenset[int], months: frozenset[int], weekdays: frozenset[int]
) -> None:
    every_day = frozenset(range(_DAY.low, _DAY.high + 1))
    if days != every_day and weekdays != frozenset(range(7)):
        raise UsageError(
            f"digest schedule `{normalize(expr)}` names both days of the month and weekdays: "
            "crontab would run on either, which a digest schedule does not support; "
            "keep one and put `*` in the other"
        )
    longest = max(calendar.monthrange(2000, m)[1] for m in months)  # 2000: 29 February
    if min(days) > longest:
        raise UsageError(
            f"digest schedule `{normalize(expr)}` never fires: "
            f"no month it names has a day {min(days)}"
        )


def _ranges(field: _Field, values: frozenset[int]) -> str:
    """`0,1,2,3,7` → `0-3,7`: the compact form APScheduler reads (`*` for every value)."""
    if len(values) == field.high - field.low + 1:
        return "*"
    return ",".join(
        str(first) if first == last else f"{first}-{last}" for first, last in _runs(values)
    )


def _weekdays(days: frozenset[int]) -> str:
    """Crontab weekday numbers (Sunday 0) as APScheduler weekday names (Monday first)."""
    if len(days) == 7:
        return "*"
    positions = frozenset((day - 1) % 7 for day in days)
    return ",".join(
        _APS_WEEKDAYS[first] if first == last else f"{_APS_WEEKDAYS[first]}-{_APS_WEEKDAYS[last]}"
        for first, last in _runs(positions)
    )


def _runs(values: frozenset[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for value in sorted(values):
        if runs and runs[-1][1] == value - 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def next_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The first fire time strictly after `now` (an aware datetime), in UTC."""
    return _at_or_after(trigger, _utc(now) + timedelta(microseconds=1))


def previous_fire(trigger: CronTrigger, at: datetime) -> datetime | None:
    """The latest fire time strictly before `at`, in UTC, searched back in growing windows."""
    at = _utc(at)
    window = _FIRST_WINDOW
    while True:
        found = _latest_in(trigger, at - window, at)
        if found is not None or window >= MAX_LOOKBACK:
            return found
        window = min(window * 2, MAX_LOOKBACK)


def fire_at_or_before(trigger: CronTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """The latest fire time in [now - lookback, now], in UTC: the run that is due, if any."""
    now = _utc(now)
    return _latest_in(trigger, now - lookback, now + timedelta(microseconds=1))


def _latest_in(trigger: CronTrigger, start: datetime, end: datetime) -> datetime | None:
    """The latest fire time in [start, end), by bisection on APScheduler's forward search.

    Everything is compared in UTC: Python compares two times of the same zone by their wall
    clock, so the two 02:30s of a night that turns the clocks back would look equal.
    """
    latest = _at_or_after(trigger, start)
    if latest is None or latest >= end:
        return None
    bound = end  # no fire time in [bound, end)
    for _ in range(_MAX_STEPS):
        if bound - latest <= timedelta(seconds=1):
            break
        middle = latest + (bound - latest) / 2
        found = _at_or_after(trigger, middle)
        if found is not None and latest < found < end:
            latest = found
        else:
            bound = middle
    return latest


def _at_or_after(trigger: CronTrigger, when: datetime) -> datetime | None:
    found: Any = trigger.get_next_fire_time(None, when)
    return None if found is None else cast(datetime, found).astimezone(UTC)


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("schedule times must be timezone-aware")
    return when.astimezone(UTC)
