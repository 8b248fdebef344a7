"""Rollout plans: which servers each step of a release reaches, and what happens between steps.

A plan is written as steps separated by commas, each a cumulative target and an optional pause:
`1 wait, 10%, 50% 10m, 100%` means one server, then wait until someone continues; then 10% of
the servers; then half, then ten minutes' pause; then all. A target is a count or a percentage
(rounded up); a step that would add no server is dropped, its pause kept on the step before,
and a plan that stops short of every server ends with the rest. Pure functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import UsageError
from core.scheduling.times import parse_duration

WAIT = "wait"
"""A pause that lasts until someone continues."""

_TARGET = re.compile(r"^(\d+)(%?)$")


@dataclass(frozen=True)
class StepSpec:
    target: int
    percent: bool
    pause: str | int | None = None
    """None, `WAIT`, or seconds."""


@dataclass(frozen=True)
class Step:
    servers: tuple[str, ...]
    pause: str | int | None = None

    def stored(self) -> dict[str, Any]:
        return {"servers": list(self.servers), "pause": self.pause}

    @classmethod
    def load(cls, data: dict[str, Any]) -> Step:
        return cls(tuple(data["servers"]), data.get("pause"))


def parse_plan(text: str) -> list[StepSpec]:
    """`1 wait, 10%, 50% 10m, 100%` → steps; errors name the step that is wrong."""
    steps: list[StepSpec] = []
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise UsageError(f"`{text}` is not a rollout plan: use e.g. `1 wait, 10%, 50% 10m, 100%`")
    for number, part in enumerate(parts, start=1):
        words = part.split()
        found = _TARGET.match(words[0])
        if not found:
            raise UsageError(
                f"step {number} (`{part}`) must start with a server count or a percentage, "
                "e.g. `1` or `10%`"
            )
        target, percent = int(found.group(1)), bool(found.group(2))
        if target == 0 or (percent and target > 100):
            raise UsageError(f"step {number} (`{part}`): the target must be 1 or more, up to 100%")
        if len(words) > 2:
            raise UsageError(f"step {number} (`{part}`): a step is a target and one pause at most")
        steps.append(
            StepSpec(target, percent, _pause(words[1], number) if len(words) > 1 else None)
        )
    return steps


def _pause(word: str, number: int) -> str | int:
    if word.lower() == WAIT:
        return WAIT
    try:
        seconds = int(parse_duration(word).total_seconds())
    except UsageError:
        raise UsageError(
            f"step {number}: pause `{word}` is neither `wait` nor a duration like 10m or 1h"
        ) from None
    return seconds


def resolve(specs: Sequence[StepSpec], servers: Sequence[str]) -> list[Step]:
    """The servers each step reaches, in order; the last step always reaches every server."""
    steps: list[Step] = []
    done = 0
    total = len(servers)
    for spec in specs:
        want = math.ceil(total * spec.target / 100) if spec.percent else spec.target
        want = min(max(want, 1), total)
        if want <= done:  # rounding left this step nothing to add: its pause stays
            if steps and _stronger(spec.pause, steps[-1].pause):
                steps[-1] = Step(steps[-1].servers, spec.pause)
            continue
        steps.append(Step(tuple(servers[done:want]), spec.pause))
        done = want
    if done < total:
        steps.append(Step(tuple(servers[done:])))
    if steps:
        steps[-1] = Step(steps[-1].servers)  # nothing to wait for after the last step
    return steps


def _stronger(pause: str | int | None, than: str | int | None) -> bool:
    """`wait` beats a duration; a longer duration beats a shorter one."""
    if pause is None or than == WAIT:
        return False
    return pause == WAIT or than is None or int(pause) > int(than)


def failed_reason(index: int, total: int, failed: Sequence[str], allowed: int) -> str:
    names = ", ".join(failed)
    return (
        f"step {index + 1} of {total} failed on {len(failed)} server"
        f"{'s' if len(failed) != 1 else ''} ({names}); {allowed} allowed"
    )


def pause_reason(index: int, total: int, pause: str | int) -> str:
    if pause == WAIT:
        return f"step {index + 1} of {total} done: waiting for someone to continue"
    return f"step {index + 1} of {total} done: pausing {_duration(int(pause))}"


def describe(steps: Sequence[Step]) -> list[str]:
    """One readable line per step: `1 server, then wait for someone to continue`."""
    lines = []
    for step in steps:
        count = len(step.servers)
        line = f"{count} server{'s' if count != 1 else ''} ({', '.join(step.servers)})"
        if step.pause == WAIT:
            line += ", then wait for someone to continue"
        elif step.pause:
            line += f", then pause {_duration(int(step.pause))}"
        lines.append(line)
    return lines


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts) or "0s"
