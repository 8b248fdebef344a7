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

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

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
T = TypeVar("T")

WAITING = (TaskStatus.SCHEDULED, TaskStatus.PENDING_APPROVAL)
DIGEST_LOOKBACK = timedelta(minutes=5)
"""How late a digest timer may fire and still post the digest it was for."""
NOT_APPROVED = "it was not approved by its start time"
TOO_LATE = "Hoist was not running at its start time, and the grace period of {grace} is over"


class ScheduleListener(Protocol):
    """What the scheduler tells the outside world (each call happens in one process only)."""

    async def scheduled(self, task: DeployTask) -> None: ...

    async def reminded(self, task: DeployTask) -> None: ...

    async def started(self, task: DeployTask) -> None:
        """The task is queued at its start time; the listener runs it."""

    async def missed(self, task: DeployTask) -> None: ...

    async def digest(self, project: Project, since: datetime, until: datetime) -> None: ...

    async def resumed(self, task: DeployTask) -> None:
        """A timed pause ended: the task is queued again; the listener runs it."""

    async def pause_waiting(self, task: DeployTask) -> None:
        """A pause has waited `pause_reminder` seconds for someone to continue it."""


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
        self._actions: set[asyncio.Task[Any]] = set()
        self._syncing = asyncio.Lock()

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.recorder.clock

    async def start(self) -> None:
        self._aps.start()
        await self.miss_stale_queued()
        await self.sync()

    async def stop(self, timeout: float = 10.0) -> None:
        """No timer fires after this; an action already claimed gets `timeout` seconds to
        finish (its claim is stored, so no other process would do it)."""
        if self._aps.running:
            self._aps.shutdown(wait=False)
        if self._actions:
            await asyncio.wait(set(self._actions), timeout=timeout)

    def _act(self, action: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run a claimed action in a task of its own, so that cancelling whoever started it
        (a timer at shutdown, the housekeeping round) does not cut it in half."""
        job = asyncio.ensure_future(action)
        self._actions.add(job)
        job.add_done_callback(self._actions.discard)
        return job

    async def _timer(self, task_id: int) -> None:
        self._act(self.fire_task(task_id))

    def jobs(self) -> list[Job]:
        return sorted(
            (Job(j.id, j.next_run_time) for j in self._aps.get_jobs()), key=lambda j: j.id
        )

    async def sync(self) -> None:
        """Rebuild every timer from the database, and act on what is due now."""
        async with self._syncing:
            await self._sync()

    async def _sync(self) -> None:
        wanted: set[str] = set()
        for task in await DeployTask.filter(status__in=WAITING, scheduled_at__not_isnull=True):
            try:
                wanted |= await self._watch(task)
            except Exception:  # one bad task must not stop the others, or the start
                _log.exception("cannot set the timers of task #%s", task.id)
        for task in await DeployTask.filter(status=TaskStatus.PAUSED).prefetch_related(
            "environment"
        ):
            try:
                wanted |= await self._watch_pause(task)
            except Exception:
                _log.exception("cannot set the pause timer of task #%s", task.id)
        for project in await Project.filter(digest_cron__not_isnull=True, enabled=True):
            try:
                wanted.add(self._watch_digest(project))
            except HoistError as error:
                _log.warning("the digest schedule of %s is not valid: %s", project.slug, error)
        for job in self._aps.get_jobs():
            if job.id not in wanted:
                job.remove()

    async def watch(self, task_id: int) -> None:
        """A task was scheduled, approved, moved or paused here: set its timers now."""
        async with self._syncing:
            task = await DeployTask.get(id=task_id).prefetch_related("environment")
            if task.status == TaskStatus.PAUSED:
                await self._watch_pause(task)
            else:
                await self._watch(task)

    async def _watch(self, task: DeployTask) -> set[str]:
        if task.scheduled_at is None:
            return set()
        if task.announced_at is None:
            await asyncio.shield(self._act(self.announce(task.id)))
        now = self.clock()
        if due(_plan(task), now, self.timing) != Due.NOTHING:
            await asyncio.shield(self._act(self.fire_task(task.id)))
            await task.refresh_from_db()
        ids = set()
        for index, when in enumerate(moments(_plan(task), self.timing)):
            job_id = f"task:{task.id}:{index}"
            if when > now:
                ids.add(job_id)
                self._aps.add_job(
                    self._timer,
                    DateTrigger(when),
                    args=[task.id],
                    id=job_id,
                    replace_existing=True,
                    misfire_grace_time=None,
                )
        return ids

    async def _watch_pause(self, task: DeployTask) -> set[str]:
        """A paused rollout: its timed pause ends, or a pause waiting for a person is
        reminded to the channel after the environment's `pause_reminder`."""
        when = pause_moment(task, task.environment.pause_reminder)
        if when is None:
            return set()
        if when <= self.clock():
            await asyncio.shield(self._act(self.fire_pause(task.id)))
            return set()
        job_id = f"pause:{task.id}"
        self._aps.add_job(
            self._pause_timer,
            DateTrigger(when),
            args=[task.id],
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,
        )
        return {job_id}

    async def _pause_timer(self, task_id: int) -> None:
        self._act(self.fire_pause(task_id))

    async def fire_pause(self, task_id: int) -> bool:
        """End a timed pause, or remind the channel of a pause waiting for someone; True if
        this process did it (the claim is a conditional update)."""
        task = await DeployTask.get_or_none(id=task_id).prefetch_related("environment")
        if task is None or task.status != TaskStatus.PAUSED:
            return False
        when = pause_moment(task, task.environment.pause_reminder)
        now = self.clock()
        if when is None or when > now:
            return False
        if task.resume_at is not None:
            try:
                await self.recorder.move_task(
                    task,
                    TaskStatus.QUEUED,
                    unchanged={"resume_at": task.resume_at},
                    paused_at=None,
                    resume_at=None,
                    pause_reminded_at=None,
                    reason="",
                )
            except ConflictError:
                return False
            await self.listener.resumed(task)
            return True
        claimed = await DeployTask.filter(
            id=task.id,
            status=TaskStatus.PAUSED,
            paused_at=task.paused_at,
            pause_reminded_at__isnull=True,
        ).update(pause_reminded_at=now)
        if claimed:
            await self.listener.pause_waiting(task)
        return bool(claimed)

    async def announce(self, task_id: int) -> bool:
        """Tell the channel a release is scheduled, once (whoever scheduled it, from where)."""
        claimed = await DeployTask.filter(
            id=task_id, announced_at__isnull=True, status__in=WAITING
        ).update(announced_at=self.clock())
        if claimed:
            await self.listener.scheduled(await DeployTask.get(id=task_id))
        return bool(claimed)

    async def miss_stale_queued(self) -> list[int]:
        """Scheduled tasks queued at their start that never ran (the process that started
        them stopped) and are now past the grace period: missed, never run silently late."""
        now = self.clock()
        missed = []
        stale = await DeployTask.filter(
            status=TaskStatus.QUEUED,
            scheduled_at__not_isnull=True,
            started_at__isnull=True,
            scheduled_at__lt=now - self.timing.grace,
        )
        for task in stale:
            try:
                await self.recorder.move_task(
                    task, TaskStatus.MISSED, finished_at=now, reason=self._too_late()
                )
            except ConflictError:
                continue
            await self.listener.missed(task)
            missed.append(task.id)
        return missed

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
                await self.recorder.move_task(
                    task, TaskStatus.QUEUED, unchanged={"scheduled_at": task.scheduled_at}
                )
                await self.listener.started(task)
            elif action in (Due.MISSED_APPROVAL, Due.MISSED_LATE):
                reason = NOT_APPROVED if action == Due.MISSED_APPROVAL else self._too_late()
                await self.recorder.move_task(
                    task,
                    TaskStatus.MISSED,
                    unchanged={"scheduled_at": task.scheduled_at},
                    finished_at=now,
                    reason=reason,
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
        self._act(self.fire_digest(project_id, due_at))

    async def fire_digest(self, project_id: int, due_at: datetime) -> bool:
        """Post the digest due at `due_at` unless some process already did; True if this one."""
        project = await Project.get_or_none(id=project_id)
        if project is None or not project.digest_cron:
            return False
        trigger = digest_trigger(project.digest_cron, project.digest_timezone)
        if due_at.astimezone(ZoneInfo(project.digest_timezone)).fold:
            _log.info(
                "digest of %s due %s: the hour repeats tonight; posted once", project.slug, due_at
            )
            return False  # clocks went back: crontab runs it once, in the first of the two hours
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
        scheduled_at=when, reminded_at=None, announced_at=None
    )
    if not moved:
        raise ConflictError(f"task #{task_id} changed meanwhile: look at it again")
    await record(
        actor, "task.reschedule", f"task:{task_id}", before=str(task.scheduled_at), after=str(when)
    )
    await task.refresh_from_db()
    recorder.bus.publish(TaskChanged(task.id, TaskStatus(task.status)))
    return task


def pause_moment(task: DeployTask, reminder: int) -> datetime | None:
    """When a paused task next needs a look: its timed pause's end, or the reminder of a
    pause waiting for a person (once; `reminder` 0 means never)."""
    if task.resume_at is not None:
        return task.resume_at
    if task.paused_at is None or task.pause_reminded_at is not None or reminder <= 0:
        return None
    return task.paused_at + timedelta(seconds=reminder)


def _plan(task: DeployTask) -> Plan:
    assert task.scheduled_at is not None
    return Plan(
        TaskStatus(task.status), task.scheduled_at, task.created_at, task.reminded_at is not None
    )
