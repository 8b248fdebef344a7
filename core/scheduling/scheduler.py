"""Firing scheduled releases, their reminders and the release digests, exactly once.

APScheduler (3.x, asyncio) holds the timers; the database is the source of truth. `sync()`
rebuilds every job from the database (at start and every housekeeping round, which is also how
a process learns of tasks another process scheduled), and acts at once on whatever is already
due, within the grace period or as missed. Every action is claimed in the database before it
happens — a conditional status move, a conditional `reminded_at` stamp, a unique digest row —
so several bot processes sharing one database each fire their timers, and one of them acts.

Slack is not known here: what happened goes to a `ScheduleListener` (the bot renders it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from tortoise.exceptions import IntegrityError

from core.audit import Actor, record
from core.engine.events import TaskChanged
from core.engine.recorder import Recorder
from core.errors import ConflictError, HoistError, NotFoundError
from core.scheduling.cron import digest_trigger, fire_at_or_before, previous_fire
from core.scheduling.due import Due, Plan, Timing, due, moments
from core.status import TaskStatus
from core.store.models import DeployTask, DigestRun, Project

_log = logging.getLogger(__name__)

WAITING = (TaskStatus.SCHEDULED, TaskStatus.PENDING_APPROVAL)
DIGEST_LOOKBACK = timedelta(minutes=5)
"""How late a digest timer may fire and still post the digest it was for."""
NOT_APPROVED = "it was not approved by its start time"
TOO_LATE = "Hoist was not running at its start time, and the grace period of {grace} is over"


class ScheduleListener(Protocol):
    """What the scheduler tells the outside world (each call happens in one process only)."""

    async def reminded(self, task: DeployTask) -> None: ...

    async def started(self, task: DeployTask) -> None:
        """The task is queued at its start time; the listener runs it."""

    async def missed(self, task: DeployTask) -> None: ...

    async def digest(self, project: Project, since: datetime, until: datetime) -> None: ...


@dataclass(frozen=True)
class Job:
    id: str
    next_run: datetime | None


class Scheduler:
    """The timers of one process; claims in the database make each action happen once."""

    def __init__(
        self,
        listener: ScheduleListener,
        recorder: Recorder,
        *,
        owner: str,
        timing: Timing | None = None,
    ) -> None:
        self.listener = listener
        self.recorder = recorder
        self.owner = owner
        self.timing = timing or Timing()
        self._aps = AsyncIOScheduler(timezone=UTC)

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.recorder.clock

    async def start(self) -> None:
        self._aps.start()
        await self.sync()

    def stop(self) -> None:
        """No timer fires after this (an action already running finishes)."""
        if self._aps.running:
            self._aps.shutdown(wait=False)

    def jobs(self) -> list[Job]:
        return sorted(
            (Job(j.id, j.next_run_time) for j in self._aps.get_jobs()), key=lambda j: j.id
        )

    async def sync(self) -> None:
        """Rebuild every timer from the database, and act on what is due now."""
        wanted: set[str] = set()
        for task in await DeployTask.filter(status__in=WAITING, scheduled_at__not_isnull=True):
            wanted |= await self._watch(task)
        for project in await Project.filter(digest_cron__not_isnull=True, enabled=True):
            try:
                wanted.add(self._watch_digest(project))
            except HoistError as error:
                _log.warning("the digest schedule of %s is not valid: %s", project.slug, error)
        for job in self._aps.get_jobs():
            if job.id not in wanted:
                job.remove()

    async def watch(self, task_id: int) -> None:
        """A task was scheduled, approved or moved here: set its timers now."""
        task = await DeployTask.get(id=task_id)
        await self._watch(task)

    async def _watch(self, task: DeployTask) -> set[str]:
        if task.scheduled_at is None:
            return set()
        now = self.clock()
        if due(_plan(task), now, self.timing) != Due.NOTHING:
            await self.fire_task(task.id)
            await task.refresh_from_db()
        ids = set()
        for index, when in enumerate(moments(_plan(task), self.timing)):
            job_id = f"task:{task.id}:{index}"
            if when > now:
                ids.add(job_id)
                self._aps.add_job(
                    self.fire_task,
                    DateTrigger(when),
                    args=[task.id],
                    id=job_id,
                    replace_existing=True,
                    misfire_grace_time=None,
                )
        return ids

    def _watch_digest(self, project: Project) -> str:
        assert project.digest_cron
        trigger = digest_trigger(project.digest_cron, project.digest_timezone)
        job_id = f"digest:{project.id}"
        existing = self._aps.get_job(job_id)
        if existing is None or repr(existing.trigger) != repr(trigger):
            self._aps.add_job(
                self._digest_timer,
                trigger,
                args=[project.id, trigger],
                id=job_id,
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=True,
            )
        return job_id

    async def run_due(self) -> None:
        """Act on every scheduled task that is due by the clock (the timers' safety net)."""
        for task in await DeployTask.filter(status__in=WAITING, scheduled_at__not_isnull=True):
            if due(_plan(task), self.clock(), self.timing) != Due.NOTHING:
                await self.fire_task(task.id)

    async def fire_task(self, task_id: int) -> Due:
        """Do what the task needs now, if this process wins the claim; returns what it did."""
        task = await DeployTask.get_or_none(id=task_id)
        if task is None or task.scheduled_at is None:
            return Due.NOTHING
        now = self.clock()
        action = due(_plan(task), now, self.timing)
        _log.info("task #%s: timer at %s finds it %s (%s)", task.id, now, task.status, action)
        try:
            if action == Due.REMIND:
                claimed = await DeployTask.filter(
                    id=task.id, reminded_at__isnull=True, scheduled_at=task.scheduled_at
                ).update(reminded_at=now)
                if not claimed:
                    return Due.NOTHING
                task.reminded_at = now
                await self.listener.reminded(task)
            elif action == Due.START:
                await self.recorder.move_task(task, TaskStatus.QUEUED)
                await self.listener.started(task)
            elif action in (Due.MISSED_APPROVAL, Due.MISSED_LATE):
                reason = NOT_APPROVED if action == Due.MISSED_APPROVAL else self._too_late()
                await self.recorder.move_task(
                    task, TaskStatus.MISSED, finished_at=now, reason=reason
                )
                await self.listener.missed(task)
        except ConflictError:
            _log.info("task #%s: %s was done by another process", task.id, action)
            return Due.NOTHING  # another process acted first, or someone cancelled it
        _log.info("task #%s: %s done here", task.id, action)
        return action

    def _too_late(self) -> str:
        minutes = int(self.timing.grace.total_seconds() // 60)
        return TOO_LATE.format(grace=f"{minutes} minutes")

    async def _digest_timer(self, project_id: int, trigger: CronTrigger) -> None:
        due_at = fire_at_or_before(trigger, self.clock(), DIGEST_LOOKBACK)
        if due_at is None:
            _log.warning("digest timer of project %s fired with no fire time near", project_id)
            return
        await self.fire_digest(project_id, due_at)

    async def fire_digest(self, project_id: int, due_at: datetime) -> bool:
        """Post the digest due at `due_at` unless some process already did; True if this one."""
        project = await Project.get_or_none(id=project_id)
        if project is None or not project.digest_cron:
            return False
        trigger = digest_trigger(project.digest_cron, project.digest_timezone)
        try:
            await DigestRun.create(project=project, due_at=due_at, owner=self.owner)
        except IntegrityError:
            _log.info(
                "digest of %s due %s: already posted by another process", project.slug, due_at
            )
            return False
        since = previous_fire(trigger, due_at) or due_at - timedelta(days=1)
        _log.info("digest of %s due %s: posting", project.slug, due_at)
        await self.listener.digest(project, since, due_at)
        return True


async def reschedule(task_id: int, when: datetime, actor: Actor, recorder: Recorder) -> DeployTask:
    """Move a task's start time; only until it starts. Its reminder will be sent again."""
    task = await DeployTask.get_or_none(id=task_id)
    if task is None:
        raise NotFoundError(f"unknown task #{task_id}")
    if task.status not in WAITING or task.scheduled_at is None:
        raise ConflictError(
            f"task #{task_id} is {task.status}: only a scheduled release that has not started "
            "can be moved"
        )
    moved = await DeployTask.filter(id=task_id, status=task.status).update(
        scheduled_at=when, reminded_at=None
    )
    if not moved:
        raise ConflictError(f"task #{task_id} changed meanwhile: look at it again")
    await record(
        actor, "task.reschedule", f"task:{task_id}", before=str(task.scheduled_at), after=str(when)
    )
    await task.refresh_from_db()
    recorder.bus.publish(TaskChanged(task.id, TaskStatus(task.status)))
    return task


def _plan(task: DeployTask) -> Plan:
    assert task.scheduled_at is not None
    return Plan(
        TaskStatus(task.status), task.scheduled_at, task.created_at, task.reminded_at is not None
    )
