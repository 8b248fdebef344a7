"""The engine end to end on one in-process SSH host."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.engine.events import NodeChanged, TaskChanged
from core.status import NodeStatus, TaskStatus
from core.store.models import DeployTask
from tests.fleet import ALICE, Fleet, make_fleet, stop_fleet


@pytest.fixture
async def fleet(sqlite_db, tmp_path: Path) -> AsyncIterator[Fleet]:
    fleet = await make_fleet(tmp_path, ["web1"])
    yield fleet
    await stop_fleet(fleet)


async def test_a_deploy_switches_the_link_to_the_exact_commit(fleet: Fleet):
    events = fleet.bus.subscribe()
    task = await fleet.deploy()
    assert task.status == TaskStatus.SUCCEEDED, await fleet.describe(task)
    release = fleet.release("web1")
    assert release.name == task.version
    assert (release / "index.html").read_text() == "v1\n"
    assert (release / "bin/run").stat().st_mode & 0o111
    nodes = await fleet.nodes(task)
    upload = nodes[("web1", "upload")]
    assert upload.transfer == "full" and upload.bytes_sent > gzipped(fleet, task) > 0
    assert upload.transfer_note == "the server has no release of this environment yet"
    statuses = []
    while (event := events.get_nowait()) is not None:
        if isinstance(event, TaskChanged):
            statuses.append(event.status)
    assert statuses == [TaskStatus.RUNNING, TaskStatus.SUCCEEDED]


async def test_a_failing_hook_fails_the_node_and_retry_reruns_only_it(fleet: Fleet):
    from core.engine.requests import HookChoice
    from core.status import HookStage

    marker = fleet.data / "allow"
    hook = f"test -e {marker} || {{ echo 'service did not start' >&2; exit 7; }}"
    task = await fleet.deploy(hooks={HookStage.POST_DEPLOY: HookChoice(script=hook)})
    assert task.status == TaskStatus.FAILED
    nodes = await fleet.nodes(task)
    post = nodes[("web1", "post_deploy")]
    assert post.status == NodeStatus.FAILED and post.exit_status == 7
    assert "service did not start" in post.output
    upload_finished = nodes[("web1", "upload")].finished_at
    fleet.on_disk("web1", marker).touch()
    await fleet.engine.retry(task.id, ALICE)
    assert await fleet.engine.run(task.id) == TaskStatus.SUCCEEDED
    nodes = await fleet.nodes(task)
    assert nodes[("web1", "upload")].finished_at == upload_finished
    assert nodes[("web1", "post_deploy")].status == NodeStatus.SUCCEEDED


async def test_node_events_follow_the_pipeline(fleet: Fleet):
    events = fleet.bus.subscribe()
    await fleet.deploy()
    running = []
    while (event := events.get_nowait()) is not None:
        if isinstance(event, NodeChanged) and event.status == NodeStatus.RUNNING:
            running.append((event.server, str(event.stage)))
    assert running == [
        ("", "start"),
        ("", "download"),
        ("", "package"),
        ("web1", "upload"),
        ("web1", "deploy"),
    ]


def gzipped(fleet: Fleet, task: DeployTask) -> int:
    """Bytes of the gzip'd copy of the task's archive: what a whole upload sends."""
    return fleet.engine.settings.compressed_path(task.id).stat().st_size
