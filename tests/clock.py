"""A clock the tests move by hand: scheduled things happen when a test says so, not by waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
"""Years ahead of the real clock, so no timer set from this clock fires by itself."""


class TestClock:
    __test__ = False

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
