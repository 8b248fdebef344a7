"""The engine against three real OpenSSH servers, as production runs it.

The servers share the deploy path `/data/prod/` and the codes root `/data/codes` but not a
filesystem: each `sshd` runs in its own mount namespace with a private folder at `/data`, so a
release, a symlink or a hook's file on one server is invisible to the others. Every assertion
reads the real files in those private folders.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.engine.events import NodeChanged
from core.engine.requests import HookChoice
from core.status import HookStage, NodeStatus, TaskKind, TaskStatus
from core.store.models import DeployTask
from tests.opensshfleet import (
    ALICE,
    DATA,
    OpenSSHFleet,
    files_of,
    make_openssh_fleet,
    skip_reason,
    tree_of,
)

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")

SERVERS = ("web1", "web2", "web3")
CODES = f"{DATA}/codes/shop/prod"

# The first release's post-deploy hook: records that it ran, and fails on web2 until the file
# /data/allow exists on web2 (and only there).
FIRST_HOOK = """
echo "$HOIST_VERSION" > /data/hook-ran
[ "$HOIST_SERVER" != web2 ] || test -e /data/allow || {
  echo "web2: /data/allow is missing, refusing to start" >&2
  exit 7
}
"""
SECOND_HOOK = 'echo "second $HOIST_VERSION" > /data/hook-ran\n'


@pytest.fixture
async def fleet(sqlite_db, tmp_path: Path) -> AsyncIterator[OpenSSHFleet]:
    fleet = await make_openssh_fleet(tmp_path, SERVERS)
    fleet.repo.commit(
        {
            "index.html": "<h1>shop, first</h1>\n",
            "bin/start": "#!/bin/sh\nexec python3 -m shop\n",
            "shop/__init__.py": "VERSION = 1\n",
            "old.txt": "removed in the second release\n",
        },
        "first release",
        executable=("bin/start",),
    )
    (fleet.repo.path / "home.html").symlink_to("index.html")
    fleet.repo.git("add", "-A")
    fleet.repo.git("commit", "-q", "-m", "a relative symlink")
    yield fleet
    await fleet.stop()


def assert_release(fleet: OpenSSHFleet, task: DeployTask) -> None:
    """Every server's link names the task's release, which holds exactly its commit's files."""
    expected = tree_of(fleet.repo, task.commit_sha)
    for name in SERVERS:
        assert os.readlink(fleet.link(name)) == f"{CODES}/{task.version}", name
        release = fleet.release(name)
        assert release == fleet.roots[name] / "codes/shop/prod" / task.version
        assert files_of(release) == expected, name


def hook_ran(fleet: OpenSSHFleet, name: str) -> str:
    return fleet.on_disk(name, DATA / "hook-ran").read_text()


async def first_release_with_retry(fleet: OpenSSHFleet) -> DeployTask:
    """(b) The first release's hook fails on web2 only; a retry reruns just that node."""
    sha = fleet.repo.git("rev-parse", "HEAD")
    hooks = {HookStage.POST_DEPLOY: HookChoice(script=FIRST_HOOK)}
    task = await fleet.deploy(sha, hooks=hooks)

    assert task.status == TaskStatus.FAILED, await fleet.describe(task)
    nodes = await fleet.nodes(task)
    post = nodes[("web2", "post_deploy")]
    assert post.status == NodeStatus.FAILED and post.exit_status == 7
    assert "web2: /data/allow is missing, refusing to start" in post.output
    for name in ("web1", "web3"):
        for stage in ("upload", "pre_deploy", "deploy", "post_deploy"):
            assert nodes[(name, stage)].status in (NodeStatus.SUCCEEDED, NodeStatus.SKIPPED)
        assert hook_ran(fleet, name) == f"{task.version}\n"
    # The hook runs after the switch: web2 points at the release too, its hook did not pass.
    assert nodes[("web2", "deploy")].status == NodeStatus.SUCCEEDED
    assert_release(fleet, task)
    before = {key: (n.started_at, n.finished_at) for key, n in nodes.items()}

    fleet.on_disk("web2", DATA / "allow").touch()
    assert not fleet.on_disk("web1", DATA / "allow").exists()
    events = fleet.bus.subscribe(task.id)
    await fleet.engine.retry(task.id, ALICE)
    assert await fleet.engine.run(task.id) == TaskStatus.SUCCEEDED
    await task.refresh_from_db()

    reran = []
    while (event := events.get_nowait()) is not None:
        if isinstance(event, NodeChanged) and event.status == NodeStatus.RUNNING:
            reran.append((event.server, str(event.stage)))
    events.close()
    assert reran == [("web2", "post_deploy")]
    nodes = await fleet.nodes(task)
    for name in ("web1", "web3"):
        for stage in ("upload", "deploy", "post_deploy"):
            node = nodes[(name, stage)]
            assert (node.started_at, node.finished_at) == before[(name, stage)], (name, stage)
    for stage in ("upload", "deploy"):
        assert (nodes[("web2", stage)].finished_at) == before[("web2", stage)][1]
    assert nodes[("web2", "post_deploy")].status == NodeStatus.SUCCEEDED
    assert all(hook_ran(fleet, name) == f"{task.version}\n" for name in SERVERS)
    assert_release(fleet, task)
    return task


async def test_a_full_deploy_puts_the_exact_commit_on_every_server(fleet: OpenSSHFleet):
    first = fleet.repo.git("rev-parse", "HEAD")
    fleet.repo.commit({"index.html": "<h1>not this one</h1>\n"}, "later work on main")

    task = await fleet.deploy(first)

    assert task.status == TaskStatus.SUCCEEDED, await fleet.describe(task)
    assert task.commit_sha == first
    assert_release(fleet, task)
    for name in SERVERS:
        release = fleet.release(name)
        assert (release / "index.html").read_text() == "<h1>shop, first</h1>\n"
        assert (release / "bin/start").stat().st_mode & 0o777 == 0o755
        assert (release / "index.html").stat().st_mode & 0o111 == 0
        assert os.readlink(release / "home.html") == "index.html"
        assert not list((fleet.roots[name] / "codes/shop/prod/.hoist-upload").iterdir())
    nodes = await fleet.nodes(task)
    for name in SERVERS:
        upload = nodes[(name, "upload")]
        assert upload.transfer == "full" and upload.bytes_sent > gzipped(fleet, task) > 0
        assert nodes[(name, "deploy")].previous_release is None


async def test_b_a_hook_failing_on_one_server_is_retried_alone(fleet: OpenSSHFleet):
    await first_release_with_retry(fleet)


async def test_c_rollback_points_every_server_back_and_reruns_the_hook(fleet: OpenSSHFleet):
    first = await first_release_with_retry(fleet)
    fleet.repo.git("rm", "-q", "old.txt")
    fleet.repo.commit({"index.html": "<h1>shop, second</h1>\n", "new.txt": "new\n"}, "second")
    second = await fleet.deploy(hooks={HookStage.POST_DEPLOY: HookChoice(script=SECOND_HOOK)})
    assert second.status == TaskStatus.SUCCEEDED, await fleet.describe(second)
    assert_release(fleet, second)
    for name in SERVERS:
        assert not (fleet.release(name) / "old.txt").exists()
        assert hook_ran(fleet, name) == f"second {second.version}\n"

    rollback = await fleet.engine.rollback("shop", "prod", ALICE)
    assert await fleet.engine.run(rollback.id) == TaskStatus.SUCCEEDED
    await rollback.refresh_from_db()

    assert rollback.kind == TaskKind.ROLLBACK
    assert rollback.status == TaskStatus.SUCCEEDED
    assert rollback.version == rollback.rollback_to == first.version
    assert rollback.commit_sha == first.commit_sha
    assert_release(fleet, rollback)
    nodes = await fleet.nodes(rollback)
    for name in SERVERS:
        assert hook_ran(fleet, name) == f"{first.version}\n", name
        upload = nodes[(name, "upload")]
        assert upload.status == NodeStatus.SUCCEEDED and upload.bytes_sent == 0
        assert "still on the server: no upload" in upload.output
        assert nodes[(name, "deploy")].previous_release == f"{CODES}/{second.version}"
        assert (fleet.roots[name] / "codes/shop/prod" / second.version / "new.txt").is_file()


def gzipped(fleet: OpenSSHFleet, task: DeployTask) -> int:
    """Bytes of the gzip'd copy of the task's archive: what a whole upload sends."""
    return fleet.engine.settings.compressed_path(task.id).stat().st_size
