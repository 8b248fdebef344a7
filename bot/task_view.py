"""Building the view data of a task's message from the database (and git, once per task)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.blocks.data import ApprovalView, NodeView, TaskView
from core.engine.requests import live_version
from core.engine.rollout import Step
from core.engine.views import seconds_between
from core.errors import HoistError
from core.source.git import GitSource
from core.store.models import Approval, DeployTask, StageRun

CHANGES_SHOWN = 10


@dataclass
class ChangeCache:
    """Commit subjects since the live release, computed once per task (git is not free)."""

    git: GitSource
    _cache: dict[int, tuple[tuple[str, ...], int, str | None]] = field(default_factory=dict)

    async def changes(self, task: DeployTask) -> tuple[tuple[str, ...], int, str | None]:
        if task.id not in self._cache:
            self._cache[task.id] = await self._compute(task)
        return self._cache[task.id]

    async def fresh(self, task: DeployTask) -> tuple[tuple[str, ...], int, str | None]:
        """Computed now: the live release may have moved since the task was created."""
        return await self._compute(task)

    async def _compute(self, task: DeployTask) -> tuple[tuple[str, ...], int, str | None]:
        env = task.environment
        live = await live_version(env)
        live_task = await DeployTask.filter(environment=env, version=live).first() if live else None
        if live_task is None or live_task.commit_sha == task.commit_sha:
            return (), 0, live
        try:
            commits, total = await self.git.log_between(
                env.project.slug, live_task.commit_sha, task.commit_sha, CHANGES_SHOWN
            )
        except HoistError:
            return (), 0, live
        return tuple(c.subject for c in commits), max(0, total - len(commits)), live


async def task_view(task_id: int, changes: ChangeCache, *, log_url: str | None = None) -> TaskView:
    """Everything the task's message shows."""
    task = await DeployTask.get(id=task_id).prefetch_related("environment__project")
    env = task.environment
    approvals = await Approval.filter(task=task).order_by("id")
    nodes = await StageRun.filter(task=task).order_by("id")
    subjects, more, live = await changes.changes(task)
    return TaskView(
        id=task.id,
        project=env.project.slug,
        env=env.name,
        version=task.version,
        kind=str(task.kind),
        ref=task.ref,
        commit=task.commit_sha,
        subject=task.commit_subject,
        requester=task.requester,
        status=str(task.status),
        mode=str(task.mode),
        canary_servers=tuple(task.canary_servers),
        servers=tuple(dict.fromkeys(n.server_name for n in nodes if n.server_name)),
        note=task.note,
        scheduled_at=task.scheduled_at,
        reason=task.reason,
        started_at=task.started_at,
        finished_at=task.finished_at,
        approvals_required=env.approvals_required,
        reviewers=tuple(env.reviewers),
        approvals=tuple(ApprovalView(a.reviewer, str(a.decision), a.comment) for a in approvals),
        hooks={s: getattr(task, f"hook_{s}") for s in _HOOKS if getattr(task, f"hook_{s}")},
        hook_sources=dict(task.hook_sources),
        changes=subjects,
        more_changes=more,
        live_version=live,
        log_url=log_url,
        rollback_to=task.rollback_to,
        plan_name=task.plan_name,
        plan=tuple(Step.load(s) for s in task.plan_steps),
        step=task.step,
        paused_at=task.paused_at,
        resume_at=task.resume_at,
        nodes=tuple(
            NodeView(
                str(n.stage),
                n.server_name,
                str(n.status),
                seconds_between(n.started_at, n.finished_at),
                n.error,
                n.bytes_sent,
                n.files_sent,
                n.transfer,
            )
            for n in nodes
        ),
    )


_HOOKS = ("pre_download", "post_download", "pre_deploy", "post_deploy")
