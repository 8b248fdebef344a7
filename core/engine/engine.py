"""The engine's front door: create, run, retry, promote, cancel and roll back tasks.

One task runs per environment at a time. A task is claimed in the database (inside a
transaction that locks the environment row) before it runs, and the claiming process holds a
lease it renews while running; the lease is how another process, or the next start, knows the
runner died. Cancels are written to the database first, so any process can cancel any task;
the runner notices at its next heartbeat, or at once when it is in this process.

A shutdown drains the engine (`drain`): no new work is taken, running nodes finish, no further
node starts, and the tasks rest as interrupted with a reason, ready for a retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.exceptions import DoesNotExist
from tortoise.transactions import in_transaction

from core.audit import Actor, record
from core.engine import requests
from core.engine.context import TaskContext
from core.engine.events import EventBus, TaskChanged
from core.engine.local_hooks import KILL_GRACE
from core.engine.plan import NOTHING_TO_RUN, nodes_to_retry
from core.engine.pool import ConnectionPool
from core.engine.recorder import Clock, Recorder, utcnow
from core.engine.rollout import Step
from core.engine.runner import TaskRun, release_task
from core.engine.settings import EngineSettings
from core.errors import ConflictError, NotFoundError
from core.inventory.lookup import get_environment
from core.locks import current_lock
from core.secrets import SecretBox
from core.source.git import GitSource
from core.status import NodeStatus, Stage, TaskStatus
from core.store.models import DeployTask, Environment, StageRun

_log = logging.getLogger(__name__)

POLL_SECONDS = 2.0

STOPPED = "Hoist stopped before this release finished"
"""Why a drained task is interrupted."""

SETTLE_SECONDS = 5.0
"""After a drain cancels what still runs: time for the runs to store their end, beyond
the time it takes to kill their processes (remote and local process groups)."""


@dataclass(frozen=True)
class CancelReport:
    task_id: int
    switched: list[str]
    rollbacks: list[int]


class Engine:
    """Runs tasks in this process and tells the event bus about every change."""

    def __init__(
        self,
        settings: EngineSettings,
        box: SecretBox,
        *,
        bus: EventBus | None = None,
        git: GitSource | None = None,
        clock: Clock = utcnow,
        owner: str | None = None,
        pool: ConnectionPool | None = None,
    ) -> None:
        self.settings = settings
        self.pool = pool
        """Warm connections shared by this engine's tasks (a long-running bot's), or None:
        each task opens its own and closes them when it ends."""
        self.box = box
        self.bus = bus or EventBus()
        self.git = git or GitSource(settings.mirrors)
        self.recorder = Recorder(self.bus, clock)
        self.host = socket.gethostname()
        self.owner = owner or f"{self.host}:{os.getpid()}"
        self._runs: dict[int, asyncio.Task[TaskStatus]] = {}
        self._active: dict[int, tuple[TaskRun, asyncio.Task[TaskStatus]]] = {}
        self._drained: dict[int, tuple[TaskRun, asyncio.Task[TaskStatus]]] = {}
        self._draining = False
        self._changed = asyncio.Event()

    @property
    def draining(self) -> bool:
        """`drain` has begun: this engine takes no new work."""
        return self._draining

    async def deploy(self, request: requests.DeployRequest, actor: Actor) -> DeployTask:
        """Check and store a new deploy task (it runs when `run` is called)."""
        return await requests.create_deploy(
            request, actor, git=self.git, box=self.box, clock=self.recorder.clock
        )

    async def run(self, task_id: int) -> TaskStatus:
        """Wait for the environment to be free, claim the task, and run it to rest.

        Once the engine drains, a task not yet claimed is left queued (for the next start)
        and its status returned.
        """
        task = await self._task(task_id)
        while not self._draining:
            if await self._claim(task):
                return await self._execute(task_id)
            await task.refresh_from_db()
            if task.status != TaskStatus.QUEUED:
                break
            await self._wait_for_change()
        return TaskStatus(task.status)

    def start(self, task_id: int) -> asyncio.Task[TaskStatus]:
        """Run a task in the background."""
        return asyncio.create_task(self.run(task_id))

    async def promote(self, task_id: int, actor: Actor) -> TaskStatus:
        """Deploy a waiting canary to the rest of its servers."""
        await self.begin_promote(task_id, actor)
        return await self.finish_promote(task_id)

    async def begin_promote(self, task_id: int, actor: Actor) -> None:
        """Claim a waiting canary for promotion (a second click finds it running: refused)."""
        task = await self._task(task_id)
        if task.status != TaskStatus.CANARY:
            raise ConflictError(f"task #{task_id} is {task.status}, not a canary waiting")
        if self._draining:
            raise ConflictError(f"Hoist is stopping: promote task #{task_id} once it is back")
        held = await current_lock(task.environment_id, self.recorder.clock())
        if held is not None:
            raise ConflictError(
                f"the environment is locked by {held.holder}: {held.reason or 'no reason given'}"
            )
        await self.recorder.move_task(task, TaskStatus.RUNNING, **self._lease())
        await record(actor, "task.promote", f"task:{task_id}")

    async def finish_promote(self, task_id: int) -> TaskStatus:
        """Run the rest of a canary that `begin_promote` claimed."""
        return await self._execute(task_id, promote=True)

    async def retry(self, task_id: int, actor: Actor) -> DeployTask:
        """Queue a failed or interrupted task again; only nodes that did not succeed rerun."""
        task = await self._task(task_id)
        if task.status not in (TaskStatus.FAILED, TaskStatus.INTERRUPTED, TaskStatus.PAUSED):
            raise ConflictError(
                f"task #{task_id} is {task.status}: only failed, interrupted or paused tasks "
                "can be retried"
            )
        ctx = await TaskContext.load(task_id)
        again = nodes_to_retry({k: node_done(n) for k, n in ctx.nodes.items()})
        redone = {k.server for k in again if ctx.nodes[k].status != NodeStatus.PENDING}
        step = first_step_of([Step.load(s) for s in task.plan_steps], redone, task.step)
        async with in_transaction():  # the task as we read it, and its nodes, change together
            await self.recorder.move_task(
                task,
                TaskStatus.QUEUED,
                unchanged={"step": ctx.task.step, "paused_at": ctx.task.paused_at},
                finished_at=None,
                step=step,
                **UNPAUSED,
            )
            for key in sorted(again):
                if ctx.nodes[key].status != NodeStatus.PENDING:
                    await self.recorder.reset_node(ctx.nodes[key])
        await record(actor, "task.retry", f"task:{task_id}", nodes=len(again))
        return task

    async def continue_(self, task_id: int, actor: Actor) -> DeployTask:
        """A paused rollout goes on with its next step: queued again, `run` takes it on."""
        task = await self._task(task_id)
        if task.status != TaskStatus.PAUSED:
            raise ConflictError(f"task #{task_id} is {task.status}, not paused")
        await self.recorder.move_task(
            task,
            TaskStatus.QUEUED,
            unchanged={"step": task.step, "paused_at": task.paused_at},  # not a late click
            **UNPAUSED,
        )
        await record(actor, "task.continue", f"task:{task_id}", step=task.step + 1)
        return task

    async def rollback(
        self, project: str, env_name: str, actor: Actor, *, to: str | None = None
    ) -> DeployTask:
        """Create a task that points every server back at an earlier good release."""
        env = await get_environment(project, env_name)
        target = await requests.rollback_target(env, to)
        return await requests.create_rollback(env, target, actor, clock=self.recorder.clock)

    async def cancel(self, task_id: int, actor: Actor, *, rollback: bool = False) -> CancelReport:
        """Stop a task; with `rollback`, point the servers it switched back where they were."""
        task = await self._task(task_id)
        if task.status.finished and task.status != TaskStatus.INTERRUPTED:
            raise ConflictError(f"task #{task_id} is already {task.status}")
        await self._stop(task)
        await record(actor, "task.cancel", f"task:{task_id}", rollback=rollback)
        switched = await switched_servers(task_id)
        rollbacks = []
        if rollback:
            for created in await self.rollbacks_for_switched(task, actor):
                await self.run(created.id)
                rollbacks.append(created.id)
        return CancelReport(task_id, switched, rollbacks)

    async def reap(self) -> list[int]:
        """Mark running tasks whose runner is gone as interrupted, so they can be retried.

        A runner is gone when its lease ran out, or, at once, when it was a process on this
        machine that no longer exists (so a bot restarted after a crash finds its task at
        start). Nodes it left running are marked skipped: whether they ended is unknown.
        Returns the ids of the tasks it interrupted.
        """
        now = self.recorder.clock()
        stale_tasks = DeployTask.filter(status=TaskStatus.RUNNING, lease_until__lt=now)
        stale = {t.id for t in await stale_tasks.only("id")}
        reaped = []
        for task in await DeployTask.filter(status=TaskStatus.RUNNING).order_by("id"):
            reason = self._dead_runner(task.lease_owner)
            still: dict[str, Any] = {}
            if reason is None and task.id in stale:
                reason = "its runner stopped renewing its lease"
                still = {"lease_until__lt": now}
            if reason is None:
                continue
            if task.lease_owner is None:
                still["lease_owner__isnull"] = True
            else:
                still["lease_owner"] = task.lease_owner
            # only if no one took it meanwhile: same status, same owner (and still stale); the
            # task and its nodes change together, or a retry could meet a node left running
            async with in_transaction():
                moved = await DeployTask.filter(
                    id=task.id, status=TaskStatus.RUNNING, **still
                ).update(
                    status=TaskStatus.INTERRUPTED,
                    lease_owner=None,
                    lease_until=None,
                    reason=reason,
                )
                if not moved:
                    continue
                for node in await StageRun.filter(task_id=task.id, status=NodeStatus.RUNNING):
                    await self.recorder.skip_node(node, f"stopped: {reason}")
            self.bus.publish(TaskChanged(task.id, TaskStatus.INTERRUPTED))
            reaped.append(task.id)
        return reaped

    def _dead_runner(self, owner: str | None) -> str | None:
        """Why `owner` is gone, if it is another process of this machine that has ended."""
        host, _, pid_text = (owner or "").rpartition(":")
        if host != self.host or not pid_text.isdigit():
            return None
        pid = int(pid_text)
        if pid <= 0 or pid == os.getpid() or _process_alive(pid):
            return None
        return f"its runner stopped (process {pid} on {host} ended)"

    async def drain(self, grace: float) -> list[int]:
        """Stop for a shutdown: take no new work, let running nodes end, start no more.

        Tasks waiting in `run` for their turn return without claiming (they stay queued for
        the next start), and `run` returns at once from now on. Each task this engine runs
        starts no further node (local, or on any server, in any batch); once its running
        nodes end it rests as interrupted, with a reason and its other nodes pending, so
        `retry` runs exactly those. A task whose running nodes were its last comes to rest
        as it would have (succeeded, failed, or a canary waiting). Runs still going after
        `grace` seconds are cancelled as interruptions: their running nodes are stopped
        (process groups killed, remote and local) and the task is interrupted too, not
        cancelled. A canary waiting for promotion is not running and is left alone.

        Returns the ids of the tasks it interrupted. Takes at most `grace`, plus the time to
        kill what still runs and store it (`SETTLE_SECONDS` beyond the kill grace).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(grace, 0.0)
        if not self._draining:
            self._draining = True
            self._drained = dict(self._active)
        for run, _ in self._drained.values():
            run.stop_starting(STOPPED)
        self._notify()  # queued tasks waiting for their turn stop waiting
        await self._wait_drained(deadline)
        late = [(run, job) for run, job in self._drained.values() if not job.done()]
        if late:
            forced = f"{STOPPED}; what still ran after {grace:g} s was stopped"
            for run, job in late:
                run.interrupt_on_cancel(forced)
                job.cancel()
            kill = max(self.settings.connect.kill_grace, 2 * KILL_GRACE)
            await self._wait_drained(loop.time() + kill + SETTLE_SECONDS)
            for task_id, (_, job) in self._drained.items():
                if not job.done():
                    _log.warning(
                        "task #%s did not stop in time; it is reaped at next start", task_id
                    )
        return sorted(task_id for task_id, (run, _) in self._drained.items() if run.interrupted)

    async def _wait_drained(self, deadline: float) -> None:
        """Wait until every drained run ended (runs that began meanwhile too), or `deadline`."""
        loop = asyncio.get_running_loop()
        while True:
            jobs = [job for _, job in self._drained.values() if not job.done()]
            remaining = deadline - loop.time()
            if not jobs or remaining <= 0:
                return
            await asyncio.wait(jobs, timeout=remaining)

    async def shutdown(self) -> list[int]:
        """Cancel this engine's runs (Ctrl-C, shutdown) and wait until they have stored it."""
        stopped = [task_id for task_id, job in self._runs.items() if not job.done()]
        for task_id in stopped:
            self._runs[task_id].cancel()
        await asyncio.gather(*self._runs.values(), return_exceptions=True)
        self._runs.clear()
        return stopped

    async def wait_idle(self) -> None:
        """Wait for every run this engine started (tests and shutdown)."""
        while self._runs:
            await asyncio.gather(*self._runs.values(), return_exceptions=True)

    async def _task(self, task_id: int) -> DeployTask:
        task = await DeployTask.get_or_none(id=task_id)
        if task is None:
            raise NotFoundError(f"unknown task #{task_id}")
        return task

    def _lease(self) -> dict[str, Any]:
        until = self.recorder.clock() + timedelta(seconds=self.settings.lease_seconds)
        return {"lease_owner": self.owner, "lease_until": until}

    async def _claim(self, task: DeployTask, *, beside: int | None = None) -> bool:
        """Move the task to running if it is its environment's turn (oldest queued, env free).

        `beside` is a paused task whose own rollback this is: it may run while that task
        holds the environment, ahead of the queue.
        """
        async with in_transaction():
            await Environment.select_for_update().get(id=task.environment_id)
            busy = (
                await DeployTask.filter(
                    environment_id=task.environment_id,
                    status__in=[s for s in TaskStatus if s.active],
                )
                .exclude(id=beside or 0)
                .exists()
            )
            if beside is not None and not await DeployTask.exists(
                id=beside, status=TaskStatus.RUNNING, lease_owner=self.owner
            ):
                return False  # only the running task itself rolls back beside itself
            first = (
                await DeployTask.filter(
                    environment_id=task.environment_id, status=TaskStatus.QUEUED
                )
                .order_by("id")
                .first()
            )
            if busy or first is None or (first.id != task.id and beside is None):
                return False
            locked = await current_lock(task.environment_id, self.recorder.clock())
            if locked is not None and beside is None:  # undoing a failed step is not blocked
                return False
            if self._draining:
                return False
            await self.recorder.move_task(
                task,
                TaskStatus.RUNNING,
                started_at=task.started_at or self.recorder.clock(),
                **self._lease(),
            )
            return True

    async def _execute(self, task_id: int, *, promote: bool = False) -> TaskStatus:
        ctx = await TaskContext.load(task_id)
        run = TaskRun(
            ctx,
            self.settings,
            self.recorder,
            self.git,
            self.box,
            promote=promote,
            roll_back=self._roll_back_step,
            pool=self.pool,
        )
        if self._draining:  # claimed just as the drain began: it starts nothing
            run.stop_starting(STOPPED)
        job = asyncio.create_task(run.execute())
        self._runs[task_id] = job
        self._active[task_id] = (run, job)
        if self._draining:
            self._drained[task_id] = (run, job)
        heartbeat = asyncio.create_task(self._heartbeat(task_id, run, job))
        try:
            status = await asyncio.shield(job)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            if job.done():
                self._runs.pop(task_id, None)
                self._active.pop(task_id, None)
            self._notify()
        return status

    async def _roll_back_step(self, task: DeployTask) -> str:
        """A rollout step failed: put the servers this task switched back on the release each
        had (their post-deploy hook and health check run again), while the task still runs
        (nothing else can start meanwhile). Servers put back are marked not done, so Retry
        and Continue deploy them again. Returns a note for the task's pause."""
        actor = Actor("hoist", via="auto")
        notes = []
        try:
            created = await self.rollbacks_for_switched(task, actor)
        except Exception as error:  # the pause must still be stored, with why
            _log.exception("task #%s: automatic rollback failed", task.id)
            return f"automatic rollback failed: {error}; use Abort and roll back"
        for rollback in created:
            servers = await switched_targets(rollback.id)
            where = ", ".join(servers)
            try:
                claimed = await self._claim(rollback, beside=task.id)
                status = await self._execute(rollback.id) if claimed else None
            except Exception as error:
                _log.exception("task #%s: rollback #%s failed", task.id, rollback.id)
                notes.append(f"{where} not rolled back: {error}")
                continue
            if status is None:
                await self.recorder.move_task(
                    rollback, TaskStatus.CANCELLED, finished_at=self.recorder.clock()
                )
                notes.append(f"{where} not rolled back: Hoist is stopping; use Abort and roll back")
                continue
            notes.append(f"{where} rolled back to {rollback.version}: {status}")
            if status == TaskStatus.SUCCEEDED:
                await self._mark_rolled_back(task.id, servers, rollback.id)
        left = set(await switched_servers(task.id))
        if left:
            notes.append(f"{', '.join(sorted(left))} not rolled back: no earlier Hoist release")
        return "; ".join(notes) if notes else "nothing this task switched to roll back"

    async def _mark_rolled_back(self, task_id: int, servers: list[str], rollback_id: int) -> None:
        """The servers no longer run this task's release: their switch and what followed it
        are not done any more (the one move a succeeded node makes, recorded as skipped)."""
        note = f"rolled back by task #{rollback_id}"
        for node in await StageRun.filter(
            task_id=task_id,
            server_name__in=servers,
            stage__in=[Stage.DEPLOY, Stage.POST_DEPLOY, Stage.HEALTH],
            status=NodeStatus.SUCCEEDED,
        ):  # a failed node keeps its failure, for the record; a retry resets it anyway
            await StageRun.filter(id=node.id, status=node.status).update(
                status=NodeStatus.SKIPPED, error=note
            )

    async def _heartbeat(self, task_id: int, run: TaskRun, job: asyncio.Task[TaskStatus]) -> None:
        """Renew the lease; stop the run if someone cancelled the task in the database."""
        while not job.done():
            await asyncio.sleep(self.settings.heartbeat_seconds)
            renewed = await DeployTask.filter(id=task_id, status=TaskStatus.RUNNING).update(
                **self._lease()
            )
            if renewed or job.done() or run.settled:
                continue  # a run that stored its own end is left to finish
            current = await DeployTask.get(id=task_id)
            if current.status in (TaskStatus.CANCELLED, TaskStatus.INTERRUPTED):
                job.cancel()  # someone stopped it elsewhere; a finished run is left alone

    async def _stop(self, task: DeployTask) -> None:
        job = self._runs.get(task.id)
        if job is not None and not job.done():
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
            await task.refresh_from_db()
            return
        remote = task.status == TaskStatus.RUNNING and task.lease_owner not in (None, self.owner)
        alive = remote and task.lease_until is not None and task.lease_until > self.recorder.clock()
        await self.recorder.move_task(task, TaskStatus.CANCELLED, finished_at=self.recorder.clock())
        if alive:
            await self._wait_for_release(task)  # its runner stops at its next heartbeat
        else:
            for node in await StageRun.filter(
                task=task, status__in=[NodeStatus.PENDING, NodeStatus.RUNNING]
            ):
                await self.recorder.skip_node(node, "cancelled")
        self._notify()

    async def _wait_for_release(self, task: DeployTask) -> None:
        """Wait until another process's runner has let go of a task it was running."""
        deadline = self.settings.lease_seconds + self.settings.heartbeat_seconds
        waited = 0.0
        while waited < deadline:
            await task.refresh_from_db()
            if task.lease_owner is None:
                return
            await asyncio.sleep(0.2)
            waited += 0.2

    async def rollbacks_for_switched(self, task: DeployTask, actor: Actor) -> list[DeployTask]:
        """Rollback tasks (not yet run) for the servers `task` switched, one per old release."""
        groups: dict[str, list[str]] = {}
        for node in await StageRun.filter(
            task=task, stage=Stage.DEPLOY, status=NodeStatus.SUCCEEDED
        ):
            if node.previous_release:
                version = node.previous_release.rstrip("/").rsplit("/", 1)[-1]
                groups.setdefault(version, []).append(node.server_name)
        env = await Environment.get(id=task.environment_id)
        created = []
        for version, servers in groups.items():
            try:
                target = await release_task(env.id, version)
            except DoesNotExist:
                continue  # a release Hoist did not make: nothing to go back to
            created.append(await requests.create_rollback(env, target, actor, servers=servers))
        return created

    async def _wait_for_change(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), POLL_SECONDS)
        self._changed.clear()

    def wake(self) -> None:
        """Something outside changed (an unlock): queued tasks check their turn again."""
        self._notify()

    def _notify(self) -> None:
        self._changed.set()


async def switched_servers(task_id: int) -> list[str]:
    """Servers this task pointed at its release."""
    nodes = await StageRun.filter(task_id=task_id, stage=Stage.DEPLOY, status=NodeStatus.SUCCEEDED)
    return sorted(n.server_name for n in nodes)


def _process_alive(pid: int) -> bool:
    """A process with this id exists on this machine (perhaps another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


UNPAUSED: dict[str, Any] = {
    "paused_at": None,
    "resume_at": None,
    "pause_reminded_at": None,
    "reason": "",
}
"""The fields a task clears when it leaves a pause."""


def first_step_of(steps: list[Step], servers: set[str], current: int) -> int:
    """The earliest rollout step with one of `servers` (a retry goes back to it)."""
    for index, step in enumerate(steps):
        if servers & set(step.servers):
            return min(index, current)
    return current


async def switched_targets(task_id: int) -> list[str]:
    """The servers a (rollback) task is for."""
    nodes = await StageRun.filter(task_id=task_id, stage=Stage.DEPLOY)
    return sorted(n.server_name for n in nodes)


def node_done(node: StageRun) -> bool:
    """Succeeded, or skipped because it had nothing to run."""
    return node.status == NodeStatus.SUCCEEDED or (
        node.status == NodeStatus.SKIPPED and node.error == NOTHING_TO_RUN
    )
