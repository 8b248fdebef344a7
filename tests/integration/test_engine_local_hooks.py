"""Local hooks: the task's facts, none of Hoist's secrets, and the lease that outlives a runner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.engine.local_hooks import isolation_command
from core.engine.requests import HookChoice
from core.engine.settings import EngineSettings
from core.status import HookStage, NodeStatus, TaskStatus
from core.store.models import DeployTask
from tests.fleet import ALICE, Fleet, make_fleet, stop_fleet


@pytest.fixture
async def fleet(sqlite_db, tmp_path: Path, monkeypatch) -> AsyncIterator[Fleet]:
    monkeypatch.setenv("HOIST_SECRET_KEY", "very-secret-value")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    fleet = await make_fleet(tmp_path, ["web1"])
    yield fleet
    await stop_fleet(fleet)


async def test_local_hooks_get_facts_but_no_secrets(fleet: Fleet, tmp_path: Path):
    secret_file = tmp_path / "secret.key"
    secret_file.write_text("the-fernet-key\n")
    settings = fleet.engine.settings
    fleet.engine.settings = EngineSettings(
        home=settings.home, hidden_files=(secret_file,), lease_seconds=settings.lease_seconds
    )
    script = f'env; echo "secret=[$(cat {secret_file} 2>&1)]"; ls'
    task = await fleet.deploy(hooks={HookStage.POST_DOWNLOAD: HookChoice(script=script)})
    assert task.status == TaskStatus.SUCCEEDED, await fleet.describe(task)
    output = (await fleet.nodes(task))[("", "post_download")].output
    assert f"HOIST_COMMIT={task.commit_sha}" in output and "HOIST_ENV=prod" in output
    assert "index.html" in output  # it ran in the checked-out workspace
    assert "very-secret-value" not in output and "xoxb-secret" not in output
    assert "HOIST_DATABASE_URL" not in output
    if isolation_command() is not None:
        assert "secret=[]" in output and "the-fernet-key" not in output


async def test_a_failing_local_hook_stops_before_any_server(fleet: Fleet):
    task = await fleet.deploy(hooks={HookStage.PRE_DOWNLOAD: HookChoice(script="exit 4")})
    nodes = await fleet.nodes(task)
    assert task.status == TaskStatus.FAILED
    assert nodes[("", "pre_download")].exit_status == 4
    assert nodes[("web1", "upload")].status == NodeStatus.SKIPPED
    assert fleet.hosts["web1"].sessions == 0


async def test_connections_are_closed_after_the_task(fleet: Fleet):
    await fleet.deploy()
    await fleet.hosts["web1"].wait_idle()
    assert fleet.hosts["web1"].open_connections == set()


async def test_a_task_whose_runner_died_is_marked_interrupted(fleet: Fleet):
    task = await fleet.engine.deploy(fleet.request(), ALICE)
    past = fleet.engine.recorder.clock() - timedelta(minutes=5)
    await DeployTask.filter(id=task.id).update(
        status=TaskStatus.RUNNING, lease_owner="gone:1", lease_until=past
    )
    assert await fleet.engine.reap() == [task.id]
    await task.refresh_from_db()
    assert task.status == TaskStatus.INTERRUPTED
    await fleet.engine.retry(task.id, ALICE)
    assert await fleet.engine.run(task.id) == TaskStatus.SUCCEEDED


async def test_a_local_hook_cannot_read_hoist_through_proc(fleet: Fleet):
    if isolation_command() is None:
        pytest.skip("no mount and PID namespaces on this machine")
    script = 'cat "/proc/$PPID/environ" 2>&1 | tr "\\0" "\\n" | head -50; echo "ppid=$PPID"'
    task = await fleet.deploy(hooks={HookStage.PRE_DOWNLOAD: HookChoice(script=script)})
    output = (await fleet.nodes(task))[("", "pre_download")].output
    assert "very-secret-value" not in output and "xoxb-secret" not in output
    assert "HOIST_SECRET_KEY" not in output
