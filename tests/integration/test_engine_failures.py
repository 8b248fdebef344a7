"""What the user sees when things go wrong, on three in-process hosts with separate roots."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from core.engine.events import NodeChanged
from core.engine.requests import HookChoice
from core.errors import ConflictError, NotFoundError
from core.sandbox.ssh_host import isolation_available
from core.status import DeployMode, HookStage, NodeStatus, Stage, TaskKind, TaskStatus
from core.store.models import DeployTask, Server
from tests.fleet import ALICE, Fleet, make_fleet, stop_fleet

SERVERS = ["web1", "web2", "web3"]

pytestmark = pytest.mark.skipif(
    isolation_available() is not None,
    reason=f"these cases need hosts with separate disks: {isolation_available()}",
)


@pytest.fixture
async def fleet(sqlite_db, tmp_path: Path) -> AsyncIterator[Fleet]:
    fleet = await make_fleet(tmp_path, SERVERS)
    yield fleet
    await stop_fleet(fleet)


async def wait_for_node(events, stage: Stage, server: str, status: NodeStatus) -> None:
    async for event in events:
        if (
            isinstance(event, NodeChanged)
            and event.stage == stage
            and event.server == server
            and event.status == status
        ):
            return


async def test_three_servers_get_the_release_each_on_its_own_disk(fleet: Fleet):
    task = await fleet.deploy()
    assert task.status == TaskStatus.SUCCEEDED, await fleet.describe(task)
    for name in SERVERS:
        assert fleet.live(name) == task.version
        assert (fleet.release(name) / "index.html").read_text() == "v1\n"
    if fleet.roots:
        assert not (fleet.data / "prod").exists()  # nothing landed outside the hosts' roots


async def test_a_server_that_is_down_fails_alone(fleet: Fleet):
    await fleet.hosts["web2"].stop()
    task = await fleet.deploy()
    assert task.status == TaskStatus.FAILED
    nodes = await fleet.nodes(task)
    upload = nodes[("web2", "upload")]
    assert upload.status == NodeStatus.FAILED
    assert "cannot connect to `web2`" in upload.error
    assert nodes[("web2", "deploy")].status == NodeStatus.SKIPPED
    assert fleet.live("web1") == fleet.live("web3") == task.version
    await fleet.hosts["web2"].start()
    await fleet.engine.retry(task.id, ALICE)
    assert await fleet.engine.run(task.id) == TaskStatus.SUCCEEDED
    assert fleet.live("web2") == task.version


async def test_a_host_key_mismatch_refuses_and_sends_nothing(fleet: Fleet):
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh")
    port = fleet.hosts["web3"].port
    await Server.filter(name="web3").update(host_key=f"[127.0.0.1]:{port} {impostor.decode()}")
    task = await fleet.deploy()
    upload = (await fleet.nodes(task))[("web3", "upload")]
    assert upload.status == NodeStatus.FAILED
    assert "does not match the pinned key" in upload.error and "nothing was sent" in upload.error
    assert fleet.hosts["web3"].sessions == 0
    assert fleet.live("web3") is None and fleet.live("web1") == task.version


async def test_a_hook_failing_on_one_server_then_retry_fixes_it(fleet: Fleet):
    hook = (
        '[ "$HOIST_SERVER" != web2 ] || test -e "$(dirname "$HOIST_DEPLOY_LINK")/ok"'
        ' || { echo "web2 not ready" >&2; exit 3; }'
    )
    task = await fleet.deploy(hooks={HookStage.POST_DEPLOY: HookChoice(script=hook)})
    assert task.status == TaskStatus.FAILED
    nodes = await fleet.nodes(task)
    assert nodes[("web2", "post_deploy")].status == NodeStatus.FAILED
    assert "web2 not ready" in nodes[("web2", "post_deploy")].output
    assert {nodes[(s, "post_deploy")].status for s in ("web1", "web3")} == {NodeStatus.SUCCEEDED}
    finished = {s: nodes[(s, "deploy")].finished_at for s in SERVERS}
    fleet.on_disk("web2", fleet.data / "prod" / "ok").touch()
    await fleet.engine.retry(task.id, ALICE)
    assert await fleet.engine.run(task.id) == TaskStatus.SUCCEEDED
    nodes = await fleet.nodes(task)
    assert {s: nodes[(s, "deploy")].finished_at for s in SERVERS} == finished


async def test_an_unknown_ref_is_refused_before_anything_runs(fleet: Fleet):
    with pytest.raises(NotFoundError, match="unknown ref `nope`"):
        await fleet.engine.deploy(fleet.request("nope"), ALICE)
    assert await DeployTask.all().count() == 0


async def test_a_ref_with_shell_metacharacters_is_just_an_unknown_ref(fleet: Fleet, tmp_path: Path):
    marker = tmp_path / "pwned"
    with pytest.raises(NotFoundError):
        await fleet.engine.deploy(fleet.request(f"$(touch {marker})"), ALICE)
    assert not marker.exists()


async def test_a_read_only_release_dir_fails_that_server_clearly(fleet: Fleet):
    codes = fleet.on_disk("web3", fleet.data / "codes")
    codes.parent.mkdir(parents=True, exist_ok=True)
    codes.write_text("not a folder")  # nothing can be written below it
    task = await fleet.deploy()
    upload = (await fleet.nodes(task))[("web3", "upload")]
    assert task.status == TaskStatus.FAILED and upload.status == NodeStatus.FAILED
    assert "Not a directory" in upload.output + upload.error
    assert fleet.live("web1") == task.version


async def test_cancel_during_upload_keeps_the_old_release(fleet: Fleet):
    first = await fleet.deploy()
    fleet.repo.commit({"index.html": "v2\n"}, "second")
    task = await fleet.engine.deploy(fleet.request(), ALICE)
    manifest = fleet.on_disk(
        "web1", fleet.data / f"codes/shop/prod/.hoist-manifests/{first.version}/manifest"
    )
    manifest.unlink()
    os.mkfifo(manifest)  # web1's upload blocks reading the live release's manifest
    events = fleet.bus.subscribe(task.id)
    run = asyncio.create_task(fleet.engine.run(task.id))
    await wait_for_node(events, Stage.UPLOAD, "web1", NodeStatus.RUNNING)
    report = await fleet.engine.cancel(task.id, ALICE)
    with pytest.raises(asyncio.CancelledError):
        await run
    await task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    nodes = await fleet.nodes(task)
    assert nodes[("web1", "upload")].status == NodeStatus.SKIPPED
    assert fleet.live("web1") == first.version
    # the others may or may not have switched before the cancel; the report says which did
    live = {s: fleet.live(s) for s in SERVERS}
    assert sorted(s for s, v in live.items() if v == task.version) == report.switched
    assert set(live.values()) <= {first.version, task.version}


async def test_canary_then_promote(fleet: Fleet):
    task = await fleet.deploy(mode=DeployMode.CANARY, canary=("web2",))
    assert task.status == TaskStatus.CANARY
    assert fleet.live("web2") == task.version and fleet.live("web1") is None
    assert await fleet.engine.promote(task.id, ALICE) == TaskStatus.SUCCEEDED
    assert {fleet.live(s) for s in SERVERS} == {task.version}


async def test_canary_rolled_back(fleet: Fleet):
    first = await fleet.deploy()
    fleet.repo.commit({"index.html": "v2\n"}, "second")
    task = await fleet.deploy(mode=DeployMode.CANARY, canary=("web1",))
    assert fleet.live("web1") == task.version
    report = await fleet.engine.cancel(task.id, ALICE, rollback=True)
    assert report.switched == ["web1"] and len(report.rollbacks) == 1
    rollback = await DeployTask.get(id=report.rollbacks[0])
    assert rollback.kind == TaskKind.ROLLBACK and rollback.status == TaskStatus.SUCCEEDED
    assert {fleet.live(s) for s in SERVERS} == {first.version}


async def test_a_second_task_waits_for_the_first(fleet: Fleet):
    gate = fleet.data / "gate"
    for name in SERVERS:
        os.mkfifo(fleet.on_disk(name, gate))
    hook = f'[ "$HOIST_SERVER" != web1 ] || cat {gate} >/dev/null'
    first = await fleet.engine.deploy(
        fleet.request(hooks={HookStage.PRE_DEPLOY: HookChoice(script=hook)}), ALICE
    )
    second = await fleet.engine.deploy(fleet.request(), ALICE)
    events = fleet.bus.subscribe()
    runs = [asyncio.create_task(fleet.engine.run(t.id)) for t in (first, second)]
    await wait_for_node(events, Stage.PRE_DEPLOY, "web1", NodeStatus.RUNNING)
    await second.refresh_from_db()
    assert second.status == TaskStatus.QUEUED
    await asyncio.to_thread(fleet.on_disk("web1", gate).write_text, "go\n")
    assert await asyncio.gather(*runs) == [TaskStatus.SUCCEEDED, TaskStatus.SUCCEEDED]
    await first.refresh_from_db()
    await second.refresh_from_db()
    assert second.started_at and first.finished_at
    assert second.started_at >= first.finished_at


async def test_rollback_switches_back_and_reruns_that_releases_hook(fleet: Fleet):
    hook = 'echo "$HOIST_VERSION" > "$HOIST_DEPLOY_LINK.hook"'
    first = await fleet.deploy(hooks={HookStage.POST_DEPLOY: HookChoice(script=hook)})
    fleet.repo.commit({"index.html": "v2\n"}, "second")
    second = await fleet.deploy()
    assert fleet.live("web1") == second.version
    rollback = await fleet.engine.rollback("shop", "prod", ALICE)
    assert await fleet.engine.run(rollback.id) == TaskStatus.SUCCEEDED
    assert {fleet.live(s) for s in SERVERS} == {first.version}
    hook_file = fleet.on_disk("web2", fleet.data / "prod" / "shop.hook")
    assert hook_file.read_text().strip() == first.version
    nodes = await fleet.nodes(rollback)
    assert nodes[("web1", "upload")].bytes_sent == 0  # still there: nothing uploaded


async def test_rollback_to_a_release_a_server_lost_uploads_it_again(fleet: Fleet):
    first = await fleet.deploy()
    fleet.repo.commit({"index.html": "v2\n"}, "second")
    await fleet.deploy()
    lost = fleet.on_disk("web3", fleet.data / "codes/shop/prod" / first.version)
    for path in sorted(lost.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    lost.rmdir()
    rollback = await fleet.engine.rollback("shop", "prod", ALICE, to=first.version)
    assert await fleet.engine.run(rollback.id) == TaskStatus.SUCCEEDED
    assert (fleet.release("web3") / "index.html").read_text() == "v1\n"
    nodes = await fleet.nodes(rollback)
    assert nodes[("web3", "upload")].bytes_sent > 0 and nodes[("web1", "upload")].bytes_sent == 0


async def test_nothing_to_roll_back_to(fleet: Fleet):
    await fleet.deploy()
    with pytest.raises(ConflictError, match="no earlier good release"):
        await fleet.engine.rollback("shop", "prod", ALICE)


async def test_old_releases_are_cleaned_up_but_live_and_previous_stay(sqlite_db, tmp_path: Path):
    fleet = await make_fleet(tmp_path, ["web1"], keep=2)
    try:
        versions = []
        for n in range(4):
            fleet.repo.commit({"index.html": f"v{n}\n"}, f"release {n}")
            versions.append((await fleet.deploy()).version)
        codes = fleet.on_disk("web1", fleet.data / "codes/shop/prod")
        kept = sorted(p.name for p in codes.iterdir() if not p.name.startswith("."))
        assert kept == sorted(versions[-2:])
    finally:
        await stop_fleet(fleet)


async def test_a_cancel_from_another_process_stops_the_runner(fleet: Fleet):
    from core.engine.engine import Engine

    gate = fleet.data / "gate"
    for name in SERVERS:
        os.mkfifo(fleet.on_disk(name, gate))
    hook = f"cat {gate} >/dev/null"
    task = await fleet.engine.deploy(
        fleet.request(hooks={HookStage.PRE_DEPLOY: HookChoice(script=hook)}), ALICE
    )
    events = fleet.bus.subscribe(task.id)
    run = asyncio.create_task(fleet.engine.run(task.id))
    await wait_for_node(events, Stage.PRE_DEPLOY, "web1", NodeStatus.RUNNING)
    elsewhere = Engine(fleet.engine.settings, fleet.engine.box, owner="other-host:1")
    report = await elsewhere.cancel(task.id, ALICE)
    with pytest.raises(asyncio.CancelledError):
        await run
    await task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED and task.lease_owner is None
    assert report.switched == []
    nodes = await fleet.nodes(task)
    assert {nodes[(s, "pre_deploy")].status for s in SERVERS} == {NodeStatus.SKIPPED}
    assert {nodes[(s, "deploy")].status for s in SERVERS} == {NodeStatus.SKIPPED}
    assert {fleet.live(s) for s in SERVERS} == {None}


def forget_package(fleet: Fleet, task: DeployTask) -> None:
    """This Hoist loses a release's package and manifest (pruned, or another machine's)."""
    settings = fleet.engine.settings
    for path in (settings.package_path(task.id), settings.compressed_path(task.id)):
        path.unlink(missing_ok=True)
    settings.manifest_path(task.id).unlink()


async def test_a_base_this_hoist_has_no_manifest_of_gets_the_whole_release(fleet: Fleet):
    first = await fleet.deploy()
    forget_package(fleet, first)
    fleet.repo.commit({"index.html": "v2\n"}, "second")

    second = await fleet.deploy()

    assert second.status == TaskStatus.SUCCEEDED, await fleet.describe(second)
    uploads = [n for (_, stage), n in (await fleet.nodes(second)).items() if stage == "upload"]
    assert {(n.transfer, n.transfer_note) for n in uploads} == {
        ("full", f"this Hoist has no manifest of {first.version}")
    }
    assert {fleet.live(s) for s in SERVERS} == {second.version}


async def test_a_rollback_to_a_release_gone_here_and_there_says_so(fleet: Fleet):
    first = await fleet.deploy()
    fleet.repo.commit({"index.html": "v2\n"}, "second")
    await fleet.deploy()
    forget_package(fleet, first)
    shutil.rmtree(fleet.on_disk("web1", fleet.data / "codes/shop/prod" / first.version))

    rollback = await fleet.engine.rollback("shop", "prod", ALICE, to=first.version)
    assert await fleet.engine.run(rollback.id) == TaskStatus.FAILED

    upload = (await fleet.nodes(rollback))[("web1", "upload")]
    assert upload.status == NodeStatus.FAILED
    assert f"the package of {first.version} is gone from this Hoist machine" in upload.error
    assert fleet.live("web1") != first.version  # nothing half-done there
