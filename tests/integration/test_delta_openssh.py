"""Delta releases on three real OpenSSH servers: only changed files travel, the rest are hard
links of the live release, and anything Hoist cannot trust gets the whole release.

Each server's `/data` is a private folder of this machine (see tests/opensshfleet.py), so every
assertion reads the real files, inodes and manifests a server holds.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.engine.requests import HookChoice
from core.sandbox.processes import kill_tree
from core.status import HookStage, NodeStatus, TaskKind, TaskStatus
from core.store.models import DeployTask, StageRun
from tests.opensshfleet import (
    ALICE,
    DATA,
    OpenSSHFleet,
    files_of,
    make_openssh_fleet,
    sessions_of,
    skip_reason,
    tree_of,
)

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")

SERVERS = ("web1", "web2", "web3")
CODES = Path("codes/shop/prod")
BUNDLE = 200_000
"""Bytes of an incompressible asset in the release: what a whole upload cannot avoid."""

FIRST = {
    "index.html": "<h1>shop</h1>\n",
    "shop/__init__.py": "VERSION = 1\n",
    "shop/models.py": "class Order: ...\n" * 50,
    "shop/legacy.py": "moved, not changed\n" * 20,
    "bin/start": "#!/bin/sh\nexec python3 -m shop\n",
    "bin/tool": "#!/bin/sh\necho tool\n",
    "docs/guide.txt": "a file that becomes a directory\n",
    "gone.txt": "deleted by the second release\n",
}
for number in range(40):
    FIRST[f"static/asset_{number:02d}.css"] = f".a{number} {{ color: red; }}\n" * 30


@pytest.fixture
async def fleet(sqlite_db: None, tmp_path: Path) -> AsyncIterator[OpenSSHFleet]:
    fleet = await make_openssh_fleet(tmp_path, SERVERS)
    fleet.repo.git("rm", "-q", "bin/run")
    (fleet.repo.path / "static").mkdir()
    (fleet.repo.path / "static/bundle.bin").write_bytes(random.Random(7).randbytes(BUNDLE))
    fleet.repo.commit(FIRST, "first release", executable=("bin/start", "bin/tool"))
    (fleet.repo.path / "home.html").symlink_to("index.html")
    fleet.repo.git("add", "-A")
    fleet.repo.git("commit", "-q", "-m", "a symlink")
    yield fleet
    await fleet.stop()


def second_commit(fleet: OpenSSHFleet) -> str:
    """Change, add, delete, rename, chmod, retarget a symlink, and replace a file by a
    directory."""
    repo = fleet.repo
    repo.git("rm", "-q", "gone.txt", "docs/guide.txt")
    (repo.path / "shop/old").mkdir()
    repo.git("mv", "shop/legacy.py", "shop/old/legacy.py")
    (repo.path / "bin/tool").chmod(0o644)
    (repo.path / "home.html").unlink()
    (repo.path / "home.html").symlink_to("shop/__init__.py")
    return repo.commit(
        {
            "shop/__init__.py": "VERSION = 2\n",
            "docs/guide.txt/index.txt": "now a directory\n",
            "added.txt": "new\n",
        },
        "second release",
    )


async def uploads(task: DeployTask) -> dict[str, StageRun]:
    nodes = await StageRun.filter(task=task, stage="upload")
    return {node.server_name: node for node in nodes}


def release_dir(fleet: OpenSSHFleet, server: str, task: DeployTask) -> Path:
    return fleet.roots[server] / CODES / task.version


def assert_live(fleet: OpenSSHFleet, task: DeployTask, servers: tuple[str, ...] = SERVERS) -> None:
    expected = tree_of(fleet.repo, task.commit_sha)
    for name in servers:
        assert os.readlink(fleet.link(name)) == f"{DATA}/{CODES}/{task.version}", name
        assert files_of(fleet.release(name)) == expected, name


async def test_a_delta_sends_only_what_changed_and_links_the_rest(fleet: OpenSSHFleet) -> None:
    first = await fleet.deploy()
    assert first.status == TaskStatus.SUCCEEDED, await fleet.describe(first)
    assert {n.transfer for n in (await uploads(first)).values()} == {"full"}
    old_trees = {name: files_of(release_dir(fleet, name, first)) for name in SERVERS}
    leftover = fleet.roots["web1"] / CODES / ".hoist-upload" / "shop-v0-20200101000000.staged"
    leftover.mkdir(parents=True)  # what a task cancelled long ago left behind

    second_commit(fleet)
    second = await fleet.deploy()

    assert second.status == TaskStatus.SUCCEEDED, await fleet.describe(second)
    assert_live(fleet, second)
    assert list(leftover.parent.iterdir()) == []  # cleared when staging began; nothing left
    for name, upload in (await uploads(second)).items():
        # __init__.py changed, added.txt and docs/guide.txt/index.txt are new, bin/tool's
        # mode changed; the rename is a link, the symlink and directories travel as headers
        assert (upload.transfer, upload.files_sent) == ("delta", 4), upload.output
        assert upload.bytes_sent < 16_000, upload.output
        assert (await uploads(first))[name].bytes_sent > BUNDLE
        assert f"delta from {first.version}" in upload.output
        old, new = release_dir(fleet, name, first), release_dir(fleet, name, second)
        assert files_of(old) == old_trees[name]  # the live release was never written to
        assert (new / "shop/models.py").stat().st_ino == (old / "shop/models.py").stat().st_ino
        assert (new / "shop/old/legacy.py").stat().st_ino == (old / "shop/legacy.py").stat().st_ino
        assert (new / "bin/tool").stat().st_ino != (old / "bin/tool").stat().st_ino
        assert (old / "bin/tool").stat().st_mode & 0o777 == 0o755
        assert (new / "bin/tool").stat().st_mode & 0o777 == 0o644
        assert (new / "docs/guide.txt").is_dir() and not (new / "gone.txt").exists()
        manifests = fleet.roots[name] / CODES / ".hoist-manifests"
        assert {str(p.relative_to(manifests)) for p in manifests.glob("*/*")} == {
            f"{task.version}/{kind}"
            for task in (first, second)
            for kind in ("digest", "manifest", "stat")
        }
        assert not list(new.glob(".hoist*")) and not list(new.glob("*.manifest"))
        assert not list((fleet.roots[name] / CODES / ".hoist-upload").iterdir())


async def test_b_a_changed_live_release_gets_the_whole_release(fleet: OpenSSHFleet) -> None:
    first = await fleet.deploy()
    assert first.status == TaskStatus.SUCCEEDED, await fleet.describe(first)
    hot_fixed = release_dir(fleet, "web2", first) / "shop/models.py"
    with hot_fixed.open("a") as handle:
        handle.write("# edited on the server\n")

    second_commit(fleet)
    second = await fleet.deploy()

    assert second.status == TaskStatus.SUCCEEDED, await fleet.describe(second)
    assert_live(fleet, second)
    nodes = await uploads(second)
    assert nodes["web2"].transfer == "full"
    assert nodes["web2"].transfer_note == (
        "the live release cannot be trusted "
        "(files of the live release changed since it was installed)"
    )
    assert "files of the live release changed since it was installed" in nodes["web2"].output
    assert {nodes[n].transfer for n in ("web1", "web3")} == {"delta"}
    assert hot_fixed.read_text().endswith("# edited on the server\n")  # left as it was


async def test_c_a_server_that_lost_its_releases_gets_the_whole_release(
    fleet: OpenSSHFleet,
) -> None:
    first = await fleet.deploy()
    assert first.status == TaskStatus.SUCCEEDED, await fleet.describe(first)
    shutil.rmtree(fleet.roots["web3"] / "codes")
    fleet.link("web3").unlink()
    manifest = fleet.roots["web1"] / CODES / ".hoist-manifests" / first.version / "manifest"
    manifest.write_text(manifest.read_text().replace("index.html", "index.htm"))

    second_commit(fleet)
    second = await fleet.deploy()

    assert second.status == TaskStatus.SUCCEEDED, await fleet.describe(second)
    assert_live(fleet, second)
    nodes = await uploads(second)
    assert (nodes["web3"].transfer, nodes["web3"].transfer_note) == (
        "full",
        "the server has no live release of this environment",
    )
    assert nodes["web1"].transfer == "full"
    assert nodes["web1"].transfer_note == (  # found when the patched manifest is checked
        "the delta did not rebuild the release exactly "
        "(the manifest patched from the live one is not the new one)"
    )
    assert nodes["web2"].transfer == "delta"


async def test_d_a_rollback_to_a_delta_release_and_a_delta_after_it(
    fleet: OpenSSHFleet,
) -> None:
    first = await fleet.deploy()
    second_commit(fleet)
    second = await fleet.deploy()
    fleet.repo.commit({"index.html": "<h1>third</h1>\n"}, "third")
    third = await fleet.deploy()
    for task in (first, second, third):
        assert task.status == TaskStatus.SUCCEEDED, await fleet.describe(task)
    assert {n.transfer for n in (await uploads(third)).values()} == {"delta"}
    shutil.rmtree(fleet.roots["web1"] / CODES / first.version)  # the base of the base

    rollback = await fleet.engine.rollback("shop", "prod", ALICE, to=second.version)
    assert await fleet.engine.run(rollback.id) == TaskStatus.SUCCEEDED
    await rollback.refresh_from_db()
    assert rollback.kind == TaskKind.ROLLBACK
    assert_live(fleet, second)
    assert {n.bytes_sent for n in (await uploads(rollback)).values()} == {0}

    fleet.repo.commit({"added.txt": "changed after the rollback\n"}, "fourth")
    fourth = await fleet.deploy()
    assert fourth.status == TaskStatus.SUCCEEDED, await fleet.describe(fourth)
    assert_live(fleet, fourth)
    for upload in (await uploads(fourth)).values():
        assert (upload.transfer, upload.files_sent) == ("delta", 2), upload.output
        assert f"delta from {second.version}" in upload.output


async def test_e_a_filesystem_that_cannot_hard_link_gets_the_whole_release(
    fleet: OpenSSHFleet,
) -> None:
    first = await fleet.deploy()
    assert first.status == TaskStatus.SUCCEEDED, await fleet.describe(first)
    # on web2 only, the staging folder becomes another filesystem: links across it fail
    pid = fleet.sshds["web2"].pid
    staging = f"{DATA}/{CODES}/.hoist-upload"
    subprocess.run(
        ["nsenter", "-t", str(pid), "-m", "mount", "-t", "tmpfs", "tmpfs", staging], check=True
    )

    second_commit(fleet)
    second = await fleet.deploy()

    assert second.status == TaskStatus.SUCCEEDED, await fleet.describe(second)
    nodes = await uploads(second)
    assert nodes["web2"].transfer == "full"
    assert "refused a hard link" in nodes["web2"].transfer_note
    assert {nodes[n].transfer for n in ("web1", "web3")} == {"delta"}
    assert_live(fleet, second)
    assert nodes["web2"].status == NodeStatus.SUCCEEDED


async def test_f_a_staged_release_lost_before_the_switch_is_staged_again(
    fleet: OpenSSHFleet,
) -> None:
    first = await fleet.deploy()
    assert first.status == TaskStatus.SUCCEEDED, await fleet.describe(first)
    second_commit(fleet)
    wipe = f"rm -rf {DATA}/{CODES}/.hoist-upload"  # between the upload and the switch
    second = await fleet.deploy(hooks={HookStage.PRE_DEPLOY: HookChoice(script=wipe)})

    assert second.status == TaskStatus.SUCCEEDED, await fleet.describe(second)
    assert_live(fleet, second)
    deploys = await StageRun.filter(task=second, stage="deploy")
    assert all("staging again" in node.output for node in deploys)


async def test_g_a_package_without_its_manifest_still_gives_a_delta(fleet: OpenSSHFleet) -> None:
    first = await fleet.deploy()
    assert first.status == TaskStatus.SUCCEEDED, await fleet.describe(first)
    kept = fleet.engine.settings.manifest_path(first.id)
    kept.unlink()  # as a package made before manifests existed

    second_commit(fleet)
    second = await fleet.deploy()

    assert second.status == TaskStatus.SUCCEEDED, await fleet.describe(second)
    assert {n.transfer for n in (await uploads(second)).values()} == {"delta"}
    assert kept.is_file()  # taken from the package, and kept


async def test_h_a_staging_started_early_whose_session_is_lost_starts_again(
    fleet: OpenSSHFleet, tmp_path: Path
) -> None:
    first = await fleet.deploy()
    assert first.status == TaskStatus.SUCCEEDED, await fleet.describe(first)
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    second_commit(fleet)
    hooks = {HookStage.POST_DOWNLOAD: HookChoice(script=f"cat {gate} > /dev/null")}
    task = await fleet.engine.deploy(fleet.request(None, hooks=hooks), ALICE)
    running = asyncio.create_task(fleet.engine.run(task.id))

    writer = await asyncio.to_thread(os.open, gate, os.O_WRONLY)  # the hook is running
    try:
        early = fleet.engine._active[task.id][0].early  # noqa: SLF001 - the run's own
        for name in SERVERS:
            await early.opened(name)
        kill_tree(sessions_of(fleet.sshds["web1"])[0])  # its connection, as a crash would
    finally:
        os.close(writer)  # the hook ends: packaging goes on
    await running
    await task.refresh_from_db()

    assert task.status == TaskStatus.SUCCEEDED, await fleet.describe(task)
    assert_live(fleet, task)
    nodes = await uploads(task)
    assert {node.transfer for node in nodes.values()} == {"delta"}
    assert "the staging started early was lost" in nodes["web1"].output
    for name in ("web2", "web3"):
        assert "while the release was packaged" in nodes[name].output, nodes[name].output


async def test_i_stagings_started_early_stop_when_packaging_fails(fleet: OpenSSHFleet) -> None:
    first = await fleet.deploy()
    assert first.status == TaskStatus.SUCCEEDED, await fleet.describe(first)
    second_commit(fleet)
    failing = {HookStage.POST_DOWNLOAD: HookChoice(script="echo broken build; exit 3")}

    second = await fleet.deploy(hooks=failing)

    assert second.status == TaskStatus.FAILED
    assert {n.status for n in (await uploads(second)).values()} == {NodeStatus.SKIPPED}
    for name in SERVERS:
        assert fleet.live(name) == first.version
        uploads_dir = fleet.roots[name] / CODES / ".hoist-upload"
        # the first part ran (copied the live release) and stopped at the end of its input
        assert [p.name for p in uploads_dir.iterdir()] == [f"{second.version}.staged"]
    third = await fleet.deploy()  # what the stopped stagings left is cleared
    assert third.status == TaskStatus.SUCCEEDED, await fleet.describe(third)
    assert {n.transfer for n in (await uploads(third)).values()} == {"delta"}


async def test_j_a_switch_whose_staging_session_died_runs_in_a_new_one(
    fleet: OpenSSHFleet,
) -> None:
    first = await fleet.deploy()
    assert first.status == TaskStatus.SUCCEEDED, await fleet.describe(first)
    gate = DATA / "gate"
    for name in SERVERS:
        os.mkfifo(fleet.on_disk(name, gate))  # the pre-deploy hooks wait until we let go
    second_commit(fleet)
    hooks = {HookStage.PRE_DEPLOY: HookChoice(script=f"cat {gate} > /dev/null")}
    task = await fleet.engine.deploy(fleet.request(None, hooks=hooks), ALICE)
    running = asyncio.create_task(fleet.engine.run(task.id))

    writers = []
    try:
        for name in SERVERS:  # each open returns once that server's hook runs: it is staged
            writers.append(await asyncio.to_thread(os.open, fleet.on_disk(name, gate), os.O_WRONLY))
        [staging] = [p for p in _below(sessions_of(fleet.sshds["web1"])) if _in_uploads(p)]
        kill_tree(staging)  # the session waiting to switch, as the OOM killer would
    finally:
        for writer in writers:
            os.close(writer)
    await running
    await task.refresh_from_db()

    assert task.status == TaskStatus.SUCCEEDED, await fleet.describe(task)
    assert_live(fleet, task)
    nodes = await fleet.nodes(task)
    assert "the session that staged the release" in nodes[("web1", "deploy")].output
    assert "the session that staged" not in nodes[("web2", "deploy")].output


def _below(roots: list[int]) -> list[int]:
    """Every process under `roots` (their descendants)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(entry.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.parent.name))
    found, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            found.append(child)
            todo.append(child)
    return found


def _in_uploads(pid: int) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/cwd").endswith(".hoist-upload")
    except OSError:
        return False
