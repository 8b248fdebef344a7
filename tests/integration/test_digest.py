"""A project's release digest read from real rows, on every database backend."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from core.config import Settings
from core.errors import NotFoundError
from core.scheduling.digest import build_digest
from core.status import TaskKind, TaskStatus
from core.store.models import DeployTask, Environment, Project

SINCE = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
UNTIL = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
_numbers = itertools.count(1)


async def env(project: Project, name: str, *, enabled: bool = True) -> Environment:
    return await Environment.create(
        project=project, name=name, deploy_path=f"/data/{name}/", enabled=enabled
    )


async def task(
    environment: Environment,
    version: str,
    status: TaskStatus,
    finished: datetime | None,
    *,
    took: timedelta | None = timedelta(minutes=3, seconds=10),
    kind: TaskKind = TaskKind.DEPLOY,
    requester: str = "U0ALICE001",
    ref: str = "main",
) -> DeployTask:
    started = finished - took if finished is not None and took is not None else None
    return await DeployTask.create(
        environment=environment,
        number=next(_numbers),
        kind=kind,
        version=version,
        ref=ref,
        commit_sha=f"{next(_numbers):07x}" + "f" * 33,
        requester=requester,
        status=status,
        started_at=started,
        finished_at=finished,
        rollback_to=version if kind == TaskKind.ROLLBACK else None,
    )


@pytest.fixture
async def shop(db: Settings) -> Project:
    """Three environments with releases in and out of the period, and noise around them."""
    project = await Project.create(slug="shop", repo_url="git@x:shop.git", channel="#shop")
    prod, staging = await env(project, "prod"), await env(project, "staging")
    await env(project, "test")
    await task(prod, "shop-v1", TaskStatus.SUCCEEDED, SINCE - timedelta(days=1))
    await task(prod, "shop-v2", TaskStatus.SUCCEEDED, SINCE)  # on the boundary: before
    await task(prod, "shop-v3", TaskStatus.SUCCEEDED, SINCE + timedelta(hours=1))
    await task(
        prod,
        "shop-v4",
        TaskStatus.FAILED,
        SINCE + timedelta(hours=2),
        took=timedelta(seconds=42),
        requester="bob",
        ref="v4.0.0",
    )
    await task(
        prod,
        "shop-v3",
        TaskStatus.SUCCEEDED,
        UNTIL,  # on the boundary: inside
        took=timedelta(seconds=12),
        kind=TaskKind.ROLLBACK,
        requester="U0CAROL001",
    )
    await task(prod, "shop-v6", TaskStatus.FAILED, UNTIL + timedelta(seconds=1))
    await task(prod, "shop-v7", TaskStatus.RUNNING, None)
    await task(staging, "shop-v1", TaskStatus.SUCCEEDED, SINCE - timedelta(hours=1))
    await task(staging, "shop-v2", TaskStatus.REJECTED, SINCE + timedelta(hours=3), took=None)
    await task(staging, "shop-v3", TaskStatus.INTERRUPTED, SINCE + timedelta(hours=5))
    hidden = await env(project, "legacy", enabled=False)
    await task(hidden, "shop-v1", TaskStatus.SUCCEEDED, SINCE + timedelta(hours=1))
    other = await Project.create(slug="blog", repo_url="git@x:blog.git")
    await task(
        await env(other, "prod"), "blog-v1", TaskStatus.SUCCEEDED, SINCE + timedelta(hours=1)
    )
    return project


async def test_digest_lists_what_ended_in_the_period_per_environment(shop: Project):
    digest = await build_digest(shop.id, SINCE, UNTIL)
    assert (digest.project, digest.channel) == ("shop", "#shop")
    assert (digest.since, digest.until) == (SINCE, UNTIL)
    assert [e.name for e in digest.envs] == ["prod", "staging", "test"]
    prod, staging, test = digest.envs

    assert [(t.version, t.kind, t.status) for t in prod.tasks] == [
        ("shop-v3", TaskKind.ROLLBACK, TaskStatus.SUCCEEDED),
        ("shop-v4", TaskKind.DEPLOY, TaskStatus.FAILED),
        ("shop-v3", TaskKind.DEPLOY, TaskStatus.SUCCEEDED),
    ]
    rollback, failed, deployed = prod.tasks
    assert (rollback.requester, rollback.seconds, rollback.finished_at) == ("U0CAROL001", 12, UNTIL)
    assert (failed.requester, failed.ref, failed.seconds) == ("bob", "v4.0.0", 42)
    assert deployed.seconds == 190 and len(deployed.commit) == 7
    assert (prod.releases, prod.rollbacks, prod.succeeded, prod.failed, prod.more) == (
        2,
        1,
        2,
        1,
        0,
    )
    assert prod.live_version == "shop-v3"  # the rollback went back to it

    assert [(t.version, t.status, t.seconds) for t in staging.tasks] == [
        ("shop-v3", TaskStatus.INTERRUPTED, 190),
        ("shop-v2", TaskStatus.REJECTED, None),
    ]
    assert (staging.releases, staging.rollbacks, staging.succeeded, staging.failed) == (2, 0, 0, 1)
    assert staging.live_version == "shop-v1"

    assert (test.tasks, test.ended, test.live_version) == ((), 0, None)
    assert (digest.releases, digest.rollbacks) == (4, 1)


async def test_digest_is_bounded_but_counts_everything(shop: Project):
    digest = await build_digest(shop.id, SINCE, UNTIL, limit=1)
    prod = digest.envs[0]
    assert [t.kind for t in prod.tasks] == [TaskKind.ROLLBACK]
    assert prod.more == 2 and prod.ended == 3 and prod.releases == 2


async def test_an_empty_period_has_no_tasks_but_shows_what_is_live(shop: Project):
    digest = await build_digest(shop.id, UNTIL + timedelta(days=1), UNTIL + timedelta(days=2))
    assert [(e.name, e.ended, e.live_version) for e in digest.envs] == [
        ("prod", 0, "shop-v3"),
        ("staging", 0, "shop-v1"),
        ("test", 0, None),
    ]
    assert digest.releases == digest.rollbacks == 0


async def test_an_unknown_project_is_refused(db: Settings):
    with pytest.raises(NotFoundError, match="no project with id 999"):
        await build_digest(999, SINCE, UNTIL)
