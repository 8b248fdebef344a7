"""A project's release digest: what each environment released in a period, and what is live.

Read from the database into frozen data; drawing it (Slack, text) and posting it happen
elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Count

from core.engine.requests import live_version
from core.engine.views import seconds_between
from core.errors import NotFoundError
from core.status import TaskKind, TaskStatus
from core.store.models import DeployTask, Environment, Project

TASKS_PER_ENV = 20
"""Tasks listed per environment; the rest are only counted."""
SHORT_SHA = 7
_FAILED = frozenset({TaskStatus.FAILED, TaskStatus.INTERRUPTED})


@dataclass(frozen=True)
class DigestTask:
    """A task that ended in the period."""

    id: int
    kind: TaskKind
    version: str
    """The release deployed, or the one a rollback went back to."""
    status: TaskStatus
    requester: str
    """A Slack user id when requested from Slack, else a name."""
    ref: str
    commit: str
    """The commit's short SHA."""
    finished_at: datetime
    seconds: float | None
    """From start to end; None for a task that never started (rejected, cancelled early)."""


@dataclass(frozen=True)
class EnvDigest:
    name: str
    live_version: str | None
    tasks: tuple[DigestTask, ...]
    """Newest first, at most `TASKS_PER_ENV`."""
    more: int
    """Tasks that ended in the period beyond `tasks` (earlier ones)."""
    releases: int
    """Deploy tasks that ended in the period, whatever their outcome."""
    rollbacks: int
    succeeded: int
    failed: int
    """Failed or interrupted."""

    @property
    def ended(self) -> int:
        return self.releases + self.rollbacks


@dataclass(frozen=True)
class Digest:
    project: str
    channel: str | None
    since: datetime
    """Start of the period (exclusive)."""
    until: datetime
    """End of the period (inclusive)."""
    envs: tuple[EnvDigest, ...]
    """The project's enabled environments, by name."""

    @property
    def releases(self) -> int:
        return sum(env.releases for env in self.envs)

    @property
    def rollbacks(self) -> int:
        return sum(env.rollbacks for env in self.envs)


async def build_digest(
    project_id: int, since: datetime, until: datetime, *, limit: int = TASKS_PER_ENV
) -> Digest:
    """The digest of tasks that ended in (since, until], per enabled environment."""
    project = await Project.get_or_none(id=project_id)
    if project is None:
        raise NotFoundError(f"no project with id {project_id}")
    envs = await Environment.filter(project_id=project_id, enabled=True).order_by("name")
    return Digest(
        project=project.slug,
        channel=project.channel,
        since=since,
        until=until,
        envs=tuple([await _env_digest(env, since, until, limit) for env in envs]),
    )


async def _env_digest(env: Environment, since: datetime, until: datetime, limit: int) -> EnvDigest:
    ended = DeployTask.filter(environment_id=env.id, finished_at__gt=since, finished_at__lte=until)
    rows = await ended.order_by("-finished_at", "-id").limit(limit)
    counts = await _counts(env.id, since, until)
    total = sum(counts.values())
    return EnvDigest(
        name=env.name,
        live_version=await live_version(env),
        tasks=tuple(_task(row) for row in rows),
        more=total - len(rows),
        releases=sum(n for (kind, _), n in counts.items() if kind == TaskKind.DEPLOY),
        rollbacks=sum(n for (kind, _), n in counts.items() if kind == TaskKind.ROLLBACK),
        succeeded=sum(n for (_, status), n in counts.items() if status == TaskStatus.SUCCEEDED),
        failed=sum(n for (_, status), n in counts.items() if status in _FAILED),
    )


async def _counts(
    env_id: int, since: datetime, until: datetime
) -> dict[tuple[TaskKind, TaskStatus], int]:
    """How many tasks of each kind and outcome ended in the period, counted by the database."""
    grouped = (
        await DeployTask.filter(
            environment_id=env_id, finished_at__gt=since, finished_at__lte=until
        )
        .annotate(count=Count("id"))
        .group_by("kind", "status")
        .values_list("kind", "status", "count")
    )
    return {(TaskKind(kind), TaskStatus(status)): int(count) for kind, status, count in grouped}


def _task(task: DeployTask) -> DigestTask:
    assert task.finished_at is not None  # filtered on it
    return DigestTask(
        id=task.id,
        kind=TaskKind(task.kind),
        version=task.version,
        status=TaskStatus(task.status),
        requester=task.requester,
        ref=task.ref,
        commit=task.commit_sha[:SHORT_SHA],
        finished_at=task.finished_at,
        seconds=seconds_between(task.started_at, task.finished_at),
    )
