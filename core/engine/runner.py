"""One run of a task: the local chain, then the servers in batches, then the outcome.

A run can be told to stop starting nodes (the engine is draining for a shutdown): the nodes
running then finish, no further node starts, and the task rests as interrupted with its
remaining nodes pending, so a retry runs exactly those. A drain that runs out of time cancels
the run as an interruption: the running nodes are stopped (skipped) and the task is still
interrupted, not cancelled; a cancel is a person's decision.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from core.engine import rollout, scripts
from core.engine.connections import TaskConnections
from core.engine.context import TaskContext
from core.engine.early import EarlyStagings
from core.engine.local_stages import LocalStages
from core.engine.payloads import Payloads, live_releases
from core.engine.plan import LOCAL, NOTHING_TO_RUN, batches
from core.engine.pool import ConnectionPool
from core.engine.recorder import Recorder
from core.engine.rollout import Step
from core.engine.server_stages import ServerStages
from core.engine.settings import EngineSettings
from core.engine.steps import Work, run_node
from core.errors import ConflictError
from core.secrets import SecretBox
from core.source.git import GitSource
from core.status import DeployMode, NodeStatus, TaskKind, TaskStatus
from core.store.models import DeployTask, StageRun
from core.transport.ssh import PendingScript

_log = logging.getLogger(__name__)

STOPPED_NODE = "stopped: Hoist shut down while it ran"
"""The error of a node that a drain past its grace cut short."""


class TaskRun:
    """Runs the pending nodes of a task that this process has claimed (status running)."""

    def __init__(
        self,
        ctx: TaskContext,
        settings: EngineSettings,
        recorder: Recorder,
        git: GitSource,
        box: SecretBox,
        *,
        promote: bool = False,
        roll_back: Callable[[DeployTask], Awaitable[str]] | None = None,
        pool: ConnectionPool | None = None,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.recorder = recorder
        self.git = git
        self.box = box
        self.promote = promote
        self.connections = TaskConnections(box, settings.connect, pool)
        self.semaphore = asyncio.Semaphore(settings.max_parallel)
        self.stop_reason: str | None = None
        """Set by `stop_starting`: no further node starts; the task ends interrupted."""
        self.cut_short = False
        """Set by `interrupt_on_cancel`: a cancel of this run interrupts the task."""
        self.settled = False
        """The run stored the task's resting state itself (or found it changed elsewhere)."""
        self.interrupted = False
        """The run stored the task as interrupted."""
        self.roll_back = roll_back
        """Undoes a failed rollout step (the engine's), returning a note for the pause."""
        self.payloads: Payloads | None = None
        """What servers are sent, once the package exists."""
        self.bases: dict[str, str] = {}
        """The release each server was last switched to (as far as this Hoist knows)."""
        self.early = EarlyStagings()

    def stop_starting(self, reason: str) -> None:
        """Start no further node; once the running ones end, the task rests interrupted."""
        self.stop_reason = reason

    def interrupt_on_cancel(self, reason: str) -> None:
        """Make the next cancel of this run interrupt the task (with `reason`), not cancel it."""
        self.stop_reason = reason
        self.cut_short = True

    async def execute(self) -> TaskStatus:
        """Run to the next resting state and store it."""
        try:
            status = await self._run()
        except asyncio.CancelledError:
            if self.cut_short:  # the engine stopped us for a shutdown: not a person's cancel
                current = asyncio.current_task()
                if current is not None:
                    current.uncancel()
                status = await asyncio.shield(self._interrupted())
            else:
                await asyncio.shield(self._cancelled())
                raise
        except Exception:
            _log.exception("task #%s stopped on an unexpected error", self.ctx.task.id)
            await asyncio.shield(self._finish(failed=True))
            raise
        finally:
            await asyncio.shield(self._let_go())
        return status

    async def _let_go(self) -> None:
        await self.early.abandon_all()
        await self.connections.close()

    async def _run(self) -> TaskStatus:
        servers = self._servers_now()
        self.connections.warm(
            self.ctx.servers[name] for name in servers[: self.settings.max_parallel]
        )
        await self._skip_idle(servers)
        await self._stage_early(servers)
        if not await self._local_chain():
            return await self._finish(failed=True)
        if self.stop_reason is not None and self.ctx.pending(LOCAL):
            return await self._interrupted()
        await self._prepare_payloads()
        steps = self._steps()
        if steps:
            return await self._rollout(steps)
        for group in batches(servers, self.ctx.env.batch_size):
            if self.stop_reason is not None:
                return await self._interrupted()
            results = await asyncio.gather(*(self._server_chain(name) for name in group))
            if not all(results):
                return await self._finish(failed=True)
        if self.stop_reason is not None and any(self.ctx.pending(n) for n in servers):
            return await self._interrupted()
        return await self._finish(failed=False)

    def _steps(self) -> list[Step]:
        """The rollout plan of a full deploy (canary deploys and rollbacks have none)."""
        task = self.ctx.task
        if task.kind != TaskKind.DEPLOY or task.mode != DeployMode.FULL:
            return []
        return [Step.load(s) for s in task.plan_steps]

    async def _rollout(self, steps: list[Step]) -> TaskStatus:
        """Run the plan from the task's current step, in batches within a step; pause after a
        step that failed more servers than allowed (rolling back first, if the environment
        says so), or that asks for a pause. Nothing after it runs by itself. A step whose
        servers were all done before this run (a retry went back past it) does not pause
        again."""
        allowed = self.ctx.env.max_failed
        done_before = {n for n in self.ctx.server_names() if self._done(n)}
        for index in range(self.ctx.task.step, len(steps)):
            step = steps[index]
            names = [n for n in step.servers if self.ctx.pending(n)]
            for group in batches(names, self.ctx.env.batch_size):
                if self.stop_reason is not None:
                    return await self._interrupted()
                if len(self._failed(step.servers)) > allowed:
                    break  # no further batch once the step has failed
                await asyncio.gather(*(self._server_chain(n) for n in group))
            if self.stop_reason is not None:
                return await self._interrupted()
            failed = self._failed(step.servers)
            for name in failed:
                await self._skip_chain(name, "an earlier stage failed")
            await self._at_step(index + 1)
            if len(failed) > allowed:
                reason = rollout.failed_reason(index, len(steps), failed, allowed)
                if self.ctx.env.auto_rollback and self.roll_back is not None:
                    reason += " — " + await self.roll_back(self.ctx.task)
                return await self._pause(reason)
            last = index == len(steps) - 1
            if last or step.pause is None or set(step.servers) <= done_before:
                continue
            return await self._pause(
                rollout.pause_reason(index, len(steps), step.pause),
                resume_in=None if step.pause == rollout.WAIT else int(step.pause),
            )
        return await self._finish(failed=bool(self._failed(self.ctx.server_names())))

    def _done(self, server: str) -> bool:
        return all(
            node.status == NodeStatus.SUCCEEDED
            or (node.status == NodeStatus.SKIPPED and node.error == NOTHING_TO_RUN)
            for node in self.ctx.chain(server)
        )

    def _failed(self, servers: Iterable[str]) -> list[str]:
        """Servers that ran and are not done: a node failed, or was undone (rolled back)."""
        return [
            n
            for n in servers
            if not self._done(n)
            and not self.ctx.pending(n)
            or any(node.status == NodeStatus.FAILED for node in self.ctx.chain(n))
        ]

    async def _skip_chain(self, server: str, reason: str) -> None:
        for node in self.ctx.chain(server):
            if node.status == NodeStatus.PENDING:
                await self.recorder.skip_node(node, reason)

    async def _at_step(self, step: int) -> None:
        await DeployTask.filter(id=self.ctx.task.id).update(step=step)
        self.ctx.task.step = step

    async def _pause(self, reason: str, *, resume_in: int | None = None) -> TaskStatus:
        now = self.recorder.clock()
        resume_at = now + timedelta(seconds=resume_in) if resume_in is not None else None
        await self._move(
            TaskStatus.PAUSED,
            reason=reason,
            paused_at=now,
            resume_at=resume_at,
            pause_reminded_at=None,
        )
        return TaskStatus(self.ctx.task.status)

    def _servers_now(self) -> list[str]:
        """Servers with pending nodes that may run now (canary servers first, until promoted)."""
        names = [n for n in self.ctx.server_names() if self.ctx.pending(n)]
        if self.ctx.task.mode == DeployMode.CANARY and not (self.promote or self.ctx.promoted()):
            canary = set(self.ctx.task.canary_servers)
            names = [n for n in names if n in canary]
        return names

    async def _skip_idle(self, servers: list[str]) -> None:
        """Skip, in one go, every pending node with nothing to run (an empty hook, no
        health check) of the local chain and of `servers` (those this run may start): what
        each chain would skip when it reached them."""
        local = LocalStages(self.ctx, self.settings, self.git, self.box)
        idle = [n for n in self.ctx.chain(LOCAL) if n.status == NodeStatus.PENDING]
        idle = [n for n in idle if local.work(n.stage) is None]
        for name in servers:
            server = self.ctx.servers[name]
            stages = ServerStages(self.ctx, server, self.connections, self.settings, None)
            chain = [n for n in self.ctx.chain(name) if n.status == NodeStatus.PENDING]
            idle += [n for n in chain if stages.work(n.stage) is None]
        await self.recorder.skip_nodes(idle, NOTHING_TO_RUN)

    async def _stage_early(self, servers: list[str]) -> None:
        """While the release is packaged, start staging the delta on the servers that run
        first and have a release this Hoist knows the manifest of (a deploy's first run)."""
        task = self.ctx.task
        if task.kind != TaskKind.DEPLOY or not self.ctx.pending(LOCAL):
            return  # a retry after the package: the uploads can start at once
        payloads = await self._deploy_payloads()
        for name in self._first(servers):
            base = self.bases.get(name)
            manifest = await payloads.base_manifest(base) if base else None
            if base is None or base == task.version or manifest is None:
                continue
            check = scripts.DeltaBase(base, manifest.digest)
            script = scripts.prepare_delta(self.ctx.paths(), check)
            self.early.start(name, base, partial(self._open_script, name, script))

    async def _open_script(self, name: str, script: str) -> PendingScript:
        server = self.ctx.servers[name]
        return await self.connections.call(server, lambda conn: conn.open_script(script))

    def _first(self, servers: list[str]) -> list[str]:
        """The servers whose chains start first: the first batch (of the rollout's current
        step), at most `max_parallel`."""
        steps = self._steps()
        if steps and self.ctx.task.step < len(steps):
            current = steps[self.ctx.task.step].servers
            servers = [n for n in current if n in servers]
        first = next(iter(batches(servers, self.ctx.env.batch_size)), [])
        return first[: self.settings.max_parallel]

    async def _prepare_payloads(self) -> None:
        """What servers are sent: this task's release, or for a rollback the release's own;
        the deltas from the releases the servers were last switched to start building now."""
        task = self.ctx.task
        if task.kind == TaskKind.ROLLBACK:
            self.payloads = Payloads(
                self.settings, await release_task(task.environment_id, task.version)
            )
            return
        payloads = await self._deploy_payloads()
        payloads.prepare(set(self.bases.values()) - {task.version})

    async def _deploy_payloads(self) -> Payloads:
        """A deploy's payloads, and the release each server was last switched to (once)."""
        if self.payloads is None:
            task = self.ctx.task
            self.payloads = Payloads(self.settings, task)
            names = self.ctx.server_names()
            self.bases = await live_releases(task.environment_id, names, task.id)
        return self.payloads

    async def _local_chain(self) -> bool:
        return await self._chain(LOCAL, LocalStages(self.ctx, self.settings, self.git, self.box))

    async def _server_chain(self, name: str) -> bool:
        server = self.ctx.servers[name]
        base = self.bases.get(name)
        stages = ServerStages(
            self.ctx, server, self.connections, self.settings, self.payloads, base, self.early
        )
        async with self.semaphore:
            return await self._chain(name, stages)

    async def _chain(self, server: str, stages: LocalStages | ServerStages) -> bool:
        """Run a chain's pending nodes in order; False at the first failure. While draining,
        no further node starts: the rest stays pending."""
        for node in self.ctx.chain(server):
            if node.status != NodeStatus.PENDING:
                continue
            if self.stop_reason is not None:
                return True
            work = stages.work(node.stage)
            if work is None:
                await self.recorder.skip_node(node, NOTHING_TO_RUN)
                continue
            if not await self._run_node(node, work):
                return False
        return True

    async def _run_node(self, node: StageRun, work: Work) -> bool:
        return await run_node(
            self.recorder,
            node,
            work,
            timeout=self.settings.stage_timeout,
            cancel_note=lambda: STOPPED_NODE if self.cut_short else "cancelled",
        )

    async def _finish(self, *, failed: bool) -> TaskStatus:
        """Store the resting state: failed, waiting as a canary, or succeeded (then clean up)."""
        if failed:
            await self._skip_pending("an earlier stage failed")
            await self._move(TaskStatus.FAILED)
            return TaskStatus.FAILED
        if any(self.ctx.pending(n) for n in self.ctx.server_names()):
            await self._move(TaskStatus.CANARY)
            return TaskStatus.CANARY
        if self.stop_reason is None:
            await self._cleanup()
        else:  # shutting down: the next good release cleans up
            _log.info("task #%s: old packages are left for the next release", self.ctx.task.id)
        await self._move(TaskStatus.SUCCEEDED)
        return TaskStatus.SUCCEEDED

    async def _interrupted(self) -> TaskStatus:
        """Rest as interrupted: nodes that did not start stay pending, for a retry."""
        reason = self.stop_reason or "Hoist stopped before this release finished"
        if await self._move(TaskStatus.INTERRUPTED, reason=reason):
            self.interrupted = True
        elif self.ctx.task.status == TaskStatus.CANCELLED:  # a person cancelled it meanwhile
            await self._skip_pending("cancelled")
        return TaskStatus(self.ctx.task.status)

    async def _cancelled(self) -> None:
        await self._skip_pending("cancelled")
        await self.ctx.task.refresh_from_db()
        if self.ctx.task.status == TaskStatus.RUNNING:
            await self._move(TaskStatus.CANCELLED)
        else:  # cancelled elsewhere: let go of the task so the canceller knows we stopped
            await DeployTask.filter(id=self.ctx.task.id).update(lease_owner=None, lease_until=None)

    async def _move(self, status: TaskStatus, **extra: Any) -> bool:
        """Store the task's resting state; False if it was changed elsewhere meanwhile."""
        fields: dict[str, Any] = {"lease_owner": None, "lease_until": None, **extra}
        if status not in (TaskStatus.CANARY, TaskStatus.PAUSED):
            fields["finished_at"] = self.recorder.clock()
        self.settled = True
        try:
            await self.recorder.move_task(self.ctx.task, status, **fields)
        except ConflictError:  # cancelled elsewhere meanwhile: that decision stands
            await DeployTask.filter(id=self.ctx.task.id).update(lease_owner=None, lease_until=None)
            return False
        return True

    async def _skip_pending(self, reason: str) -> None:
        for node in self.ctx.nodes.values():
            if node.status == NodeStatus.PENDING:
                await self.recorder.skip_node(node, reason)

    async def _cleanup(self) -> None:
        """Keep the packages of the last good releases only (each server removed its own old
        releases when it switched)."""
        if self.ctx.task.kind == TaskKind.DEPLOY:
            await _prune_packages(self.settings, self.ctx.task, self.ctx.project.keep_releases)


async def release_task(env_id: int, version: str) -> DeployTask:
    """The deploy task that made release `version` of an environment."""
    return await DeployTask.get(environment_id=env_id, version=version, kind=TaskKind.DEPLOY)


async def _prune_packages(settings: EngineSettings, task: DeployTask, keep: int) -> None:
    """Keep the packages and manifests of the environment's last `keep` good releases (for
    rollbacks, and deltas from them)."""
    good = (
        await DeployTask.filter(
            environment_id=task.environment_id, kind=TaskKind.DEPLOY, status=TaskStatus.SUCCEEDED
        )
        .order_by("-id")
        .limit(keep)
    )
    keep_ids = {t.id for t in good} | {task.id}
    packages = settings.packages
    for path in [*packages.glob("task-*.tar"), *packages.glob("task-*.gz")]:
        task_id = int(path.name.split("-")[1].split(".")[0])
        others = await DeployTask.filter(id=task_id, environment_id=task.environment_id).exists()
        if others and task_id not in keep_ids:
            path.unlink(missing_ok=True)
