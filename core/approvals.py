"""Reviewers' decisions on a task, and what they lead to."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.audit import Actor, record
from core.engine.recorder import Recorder
from core.errors import ConflictError, HoistError
from core.status import Decision, TaskStatus
from core.store.models import Approval, DeployTask, Environment


class NotAllowed(HoistError):
    """The person may not do this; the message says why."""

    exit_code = 2


@dataclass(frozen=True)
class Outcome:
    task: DeployTask
    changed: bool
    """False when the click changed nothing (a reviewer's second click)."""
    approvals: int
    required: int


async def decide(
    task_id: int,
    actor: Actor,
    decision: Decision,
    recorder: Recorder,
    *,
    reviewers: frozenset[str],
    comment: str = "",
) -> Outcome:
    """Store one reviewer's decision; enough approvals queue the task, a rejection ends it."""
    task = await DeployTask.get(id=task_id)
    env = await Environment.get(id=task.environment_id)
    if actor.name == task.requester:
        raise NotAllowed("you requested this release, so you cannot approve or reject it")
    if actor.name not in reviewers:
        raise NotAllowed("only this environment's reviewers can approve or reject")
    if task.status != TaskStatus.PENDING_APPROVAL:
        raise ConflictError(f"task #{task_id} is {task.status}: it no longer needs a review")
    if task.scheduled_at is not None and task.scheduled_at <= recorder.clock():
        raise ConflictError(
            f"task #{task_id} was to start at {task.scheduled_at:%Y-%m-%d %H:%M} UTC and was not "
            "approved in time: it will not run"
        )
    try:
        async with in_transaction():
            await Approval.create(
                task=task, reviewer=actor.name, decision=decision, comment=comment
            )
            await record(actor, f"task.{decision}", f"task:{task_id}", comment=comment)
    except IntegrityError:
        count = await _approvals(task)
        return Outcome(task, False, count, env.approvals_required)
    return await _after(task, env, decision, recorder)


async def _approvals(task: DeployTask) -> int:
    return await Approval.filter(task=task, decision=Decision.APPROVE).count()


async def _after(
    task: DeployTask, env: Environment, decision: Decision, recorder: Recorder
) -> Outcome:
    count = await _approvals(task)
    if decision == Decision.REJECT:
        await recorder.move_task(task, TaskStatus.REJECTED, finished_at=recorder.clock())
    elif count >= env.approvals_required:
        status = TaskStatus.SCHEDULED if task.scheduled_at else TaskStatus.QUEUED
        await recorder.move_task(task, status)
    return Outcome(task, True, count, env.approvals_required)
