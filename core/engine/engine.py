"""The engine's front door: create, run, retry, promote, cancel and roll back tasks.

One task runs per environment at a time. A task is claimed in the database (inside a
transaction that locks the environment row) before it runs, and the claiming process holds a
lease it renews while running; the lease is how another process, or the next start, knows the
runner died. Cancels are written to the database first, so any process can cancel any task;
the runner notices at its next heartbeat, or at once when it is in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from tortoise.exceptions import DoesNotExist
from tortoise.transactions import in_transaction

from core.audit import Actor, record
from core.engine import requests
from core.engine.context import TaskContext
from core.engine.events import EventBus
from core.engine.plan import NOTHING_TO_RUN, nodes_to_retry
from core.engine.recorder import Clock, Recorder, utcnow
from core.engine.runner import TaskRun, release_task
from core.engine.settings import EngineSettings
from core.errors import ConflictError, NotFoundError
from core.inventory.lookup import get_environment
from core.locks import current_lock
from core.secrets import SecretBox
from core.source.git import GitSource
from core.status import NodeStatus, Stage, TaskStatus
from core.store.models import DeployTask, Environment, StageRun

POLL_SECONDS = 2.0


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
    ) -> None:
        self.settings = settings
        self.box = box
        self.bus = bus or EventBus()
        self.git = git or GitSource(settings.mirrors)
        self.recorder = Recorder(self.bus, clock)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self._runs: dict[int, asyncio.Task[TaskStatus]] = {}
        self._changed = asyncio.Event()

    async def deploy(self, request: requests.DeployRequest, actor: Actor) -> DeployTask:
        """Check and store a new deploy task (it runs when `run` is called)."""
        return await requests.create_deploy(
            request, actor, git=self.git, box=self.box, clock=self.recorder.clock
        )

    async def run(self, task_id: int) -> TaskStatus:
        """Wait for the environment to be free, claim the task, and run it to rest."""
        task = await self._task(task_id)
        while not await self._claim(task):
            await task.refresh_from_db()
            if task.status != TaskStatus.QUEUED:
                return TaskStatus(task.status)
            await self._wait_for_change()
        return await self._execute(task_id)

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
        if task.status not in (TaskStatus.FAILED, TaskStatus.INTERRUPTED):
            raise ConflictError(
                f"task #{task_id} is {task.status}: only failed or interrupted tasks can be retried"
            )
        ctx = await TaskContext.load(task_id)
        again = nodes_to_retry({k: node_done(n) for k, n in ctx.nodes.items()})
        for key in sorted(again):
            if ctx.nodes[key].status != NodeStatus.PENDING:
                await self.recorder.reset_node(ctx.nodes[key])
        await self.recorder.move_task(task, TaskStatus.QUEUED, finished_at=None)
        await record(actor, "task.retry", f"task:{task_id}", nodes=len(again))
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
        """Mark tasks whose runner's lease ran out as interrupted (their runner died)."""
        now = self.recorder.clock()
        stale = await DeployTask.filter(status=TaskStatus.RUNNING, lease_until__lt=now)
        for task in stale:
            with contextlib.suppress(ConflictError):
                await self.recorder.move_task(task, TaskStatus.INTERRUPTED, lease_owner=None)
        return [t.id for t in stale]

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

    def _lease(self) -> dict[str, object]:
        until = self.recorder.clock() + timedelta(seconds=self.settings.lease_seconds)
        return {"lease_owner": self.owner, "lease_until": until}

    async def _claim(self, task: DeployTask) -> bool:
        """Move the task to running if it is its environment's turn (oldest queued, env free)."""
        async with in_transaction():
            await Environment.select_for_update().get(id=task.environment_id)
            busy = await DeployTask.filter(
                environment_id=task.environment_id,
                status__in=[TaskStatus.RUNNING, TaskStatus.CANARY],
            ).exists()
            first = (
                await DeployTask.filter(
                    environment_id=task.environment_id, status=TaskStatus.QUEUED
                )
                .order_by("id")
                .first()
            )
            if busy or first is None or first.id != task.id:
                return False
            if await current_lock(task.environment_id, self.recorder.clock()) is not None:
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
        run = TaskRun(ctx, self.settings, self.recorder, self.git, self.box, promote=promote)
        job = asyncio.create_task(run.execute())
        self._runs[task_id] = job
        heartbeat = asyncio.create_task(self._heartbeat(task_id, job))
        try:
            return await asyncio.shield(job)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            if job.done():
                self._runs.pop(task_id, None)
            self._notify()

    async def _heartbeat(self, task_id: int, job: asyncio.Task[TaskStatus]) -> None:
        """Renew the lease; stop the run if someone cancelled the task in the database."""
        while not job.done():
            await asyncio.sleep(self.settings.heartbeat_seconds)
            renewed = await DeployTask.filter(id=task_id, status=TaskStatus.RUNNING).update(
                **self._lease()
            )
            if renewed or job.done():
                continue
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


def node_done(node: StageRun) -> bool:
    """Succeeded, or skipped because it had nothing to run."""
    return node.status == NodeStatus.SUCCEEDED or (
        node.status == NodeStatus.SKIPPED and node.error == NOTHING_TO_RUN
    )
