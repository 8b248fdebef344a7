"""What a scheduled task needs at a given moment: a pure decision, so every rule is testable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.status import TaskStatus


class Due(StrEnum):
    NOTHING = "nothing"
    REMIND = "remind"
    START = "start"
    MISSED_APPROVAL = "missed_approval"
    """Its start time came and it was still waiting for approvals: it does not run."""
    MISSED_LATE = "missed_late"
    """Hoist was not running at its start time, and the grace period is over: it does not run."""


@dataclass(frozen=True)
class Timing:
    reminder_lead: timedelta = timedelta(minutes=15)
    """How long before its start the channel is reminded of a scheduled release."""
    grace: timedelta = timedelta(minutes=10)
    """How late a start may still happen (the bot was down at the time); later is missed."""


@dataclass(frozen=True)
class Plan:
    """One scheduled task's facts, as the decision needs them."""

    status: TaskStatus
    scheduled_at: datetime
    created_at: datetime
    reminded: bool


def wants_reminder(plan: Plan, timing: Timing) -> bool:
    """A reminder is sent only if the task was scheduled further ahead than the lead time."""
    return not plan.reminded and plan.scheduled_at - timing.reminder_lead > plan.created_at


def due(plan: Plan, now: datetime, timing: Timing) -> Due:
    """What to do for `plan` at `now`."""
    if plan.status not in (TaskStatus.SCHEDULED, TaskStatus.PENDING_APPROVAL):
        return Due.NOTHING
    if now >= plan.scheduled_at:
        if plan.status == TaskStatus.PENDING_APPROVAL:
            return Due.MISSED_APPROVAL
        return Due.START if now - plan.scheduled_at <= timing.grace else Due.MISSED_LATE
    if wants_reminder(plan, timing) and now >= plan.scheduled_at - timing.reminder_lead:
        return Due.REMIND
    return Due.NOTHING


def moments(plan: Plan, timing: Timing) -> list[datetime]:
    """When `plan` next needs a look: its reminder (if any) and its start."""
    if plan.status not in (TaskStatus.SCHEDULED, TaskStatus.PENDING_APPROVAL):
        return []
    times = [plan.scheduled_at]
    if wants_reminder(plan, timing):
        times.insert(0, plan.scheduled_at - timing.reminder_lead)
    return times
