"""Reading the start time a person typed (`--at`), in their own time zone.

Accepted forms, all read in the person's zone unless they carry an offset:
`17:30` (the next 17:30), `today 17:30`, `tomorrow 9:00`, `2026-12-01 17:30`,
`2026-12-01T17:30+01:00` (ISO 8601 with an offset or `Z`), and `+30m` / `in 2h` (from now).
The result is an aware UTC datetime. A time in the past, one that does not exist in the zone
(skipped by a daylight-saving change), or one too far ahead is refused with the reason.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from core.errors import UsageError

FURTHEST_AHEAD = timedelta(days=90)
EXAMPLES = "`17:30`, `tomorrow 9:00`, `2026-12-01 17:30`, `2026-12-01T17:30+01:00` or `+30m`"

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})$")


def parse_duration(text: str) -> timedelta:
    """`2h`, `30m`, `1d12h`, `90s` → a timedelta."""
    found = _DURATION.match(text.strip().lower())
    if not text.strip() or not found or not any(found.groups()):
        raise UsageError(f"`{text}` is not a duration: use e.g. 30m, 2h or 1d")
    days, hours, minutes, seconds = (int(g or 0) for g in found.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def parse_start(text: str, now: datetime, zone: tzinfo) -> datetime:
    """The moment `text` names, in UTC; `zone` is the person's time zone."""
    words = text.strip()
    lowered = words.lower()
    if lowered.startswith(("+", "in ")):
        when = now + parse_duration(lowered.removeprefix("in ").removeprefix("+").strip())
    elif lowered.startswith(("today ", "tomorrow ")):
        day_word, _, clock = lowered.partition(" ")
        today = now.astimezone(zone).date()
        day = today + timedelta(days=1 if day_word == "tomorrow" else 0)
        when = _local(day, _clock(clock.strip(), text), zone, text)
    elif _CLOCK.match(lowered):
        local_now = now.astimezone(zone)
        when = _local(local_now.date(), _clock(lowered, text), zone, text)
        if when <= now:
            when = _local(local_now.date() + timedelta(days=1), _clock(lowered, text), zone, text)
    elif found := _DATE_TIME.match(lowered):
        day = _date(found.group(1), text)
        when = _local(day, _clock(found.group(2), text), zone, text)
    else:
        when = _iso(words)
    return check_start(when.astimezone(UTC), now)


def _iso(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise UsageError(f"cannot read the time `{text}`: use e.g. {EXAMPLES}") from None
    if parsed.tzinfo is None:
        raise UsageError(f"cannot read the time `{text}`: use e.g. {EXAMPLES}")
    return parsed


def _clock(text: str, original: str) -> time:
    found = _CLOCK.match(text)
    if not found:
        raise UsageError(f"cannot read the time of day in `{original}`: use e.g. 17:30")
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if hour > 23 or minute > 59:
        raise UsageError(f"`{original}` is not a time of day: hours go to 23, minutes to 59")
    return time(hour, minute)


def _date(text: str, original: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"`{original}` is not a date: use YYYY-MM-DD, e.g. 2026-12-01") from None


def _local(day: date, clock: time, zone: tzinfo, original: str) -> datetime:
    """A wall-clock time in `zone`; refused if the zone skips it (clocks go forward)."""
    naive = datetime.combine(day, clock)
    when = naive.replace(tzinfo=zone)
    if when.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise UsageError(
            f"`{original}` does not exist in {zone}: the clocks change then; pick another time"
        )
    return when


def check_start(when: datetime, now: datetime) -> datetime:
    """`when`, if it is a start time Hoist accepts (ahead, and not too far)."""
    if when <= now:
        raise UsageError(
            f"{when:%Y-%m-%d %H:%M} UTC is in the past (it is {now:%Y-%m-%d %H:%M} UTC now)"
        )
    if when - now > FURTHEST_AHEAD:
        raise UsageError(
            f"{when:%Y-%m-%d %H:%M} UTC is more than {FURTHEST_AHEAD.days} days ahead: "
            "schedule releases closer to their time"
        )
    return when
