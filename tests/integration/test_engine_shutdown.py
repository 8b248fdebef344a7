"""A graceful shutdown (drain) and finding the tasks of a runner that died (reap), end to end
on in-process SSH hosts and a real git repo."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.engine.engine import SETTLE_SECONDS, STOPPED, Engine
from core.engine.events import NodeChanged, Subscription, TaskChanged
from core.engine.requests import DeployRequest, HookChoice
from core.engine.runner import STOPPED_NODE
from core.errors import ConflictError
from core.sandbox.ssh_host import isolation_available
from core.status import DeployMode, HookStage, NodeStatus, Stage, TaskStatus
from core.store.models import DeployTask
from tests.fleet import ALICE, Fleet, make_fleet, stop_fleet

SERVERS = ["web1", "web2", "web3"]

needs_separate_disks = pytest.mark.skipif(
    isolation_available() is not None,
    reason=f"this case needs hosts with separate disks: {isolation_available()}",
)


@pytest.fixture
async def fleet(sqlite_db, tmp_path: Path) -> AsyncIterator[Fleet]:
    fleet = await make_fleet(tmp_path, ["web1"])
    yield fleet
    await stop_fleet(fleet)


@pytest.fixture
async def fleet3(sqlite_db, tmp_path: Path) -> AsyncIterator[Fleet]:
    """Three servers in batches of two: web1 and web2 together, then web3."""
    fleet = await make_fleet(tmp_path, SERVERS, batch=2)
    yield fleet
    await stop_fleet(fleet)


def restarted(fleet: Fleet) -> Engine:
    """The engine of a Hoist started again (the fleet's own one has drained)."""
    return Engine(fleet.engine.settings, fleet.engine.box, bus=fleet.bus)


def with_hook(fleet: Fleet, stage: HookStage, script: str) -> DeployRequest:
    return fleet.request(hooks={stage: HookChoice(script=script)})


async def wait_running(events: Subscription, *nodes: tuple[str, Stage]) -> None:
    """Wait until each (server, stage) node has been reported running."""
    waiting = set(nodes)
    async for event in events:
        if isinstance(event, NodeChanged) and event.status == NodeStatus.RUNNING:
            waiting.discard((event.server, event.stage))
            if not waiting:
                return


async def read_fifo(path: Path) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    """Open a fifo for reading (once a writer has opened it) as a stream of the event loop."""
    fd = await asyncio.to_thread(os.open, path, os.O_RDONLY)
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    pipe, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader, pipe


async def statuses(fleet: Fleet, task: DeployTask) -> dict[tuple[str, str], NodeStatus]:
    return {key: NodeStatus(node.status) for key, node in (await fleet.nodes(task)).items()}


@needs_separate_disks
async def test_drain_lets_running_stages_finish_then_retry_runs_the_rest(fleet3: Fleet):
    fleet = fleet3
    gate, runs = fleet.data / "gate", fleet.data / "pre-deploy-runs"
    for name in ("web1", "web2"):
        os.mkfifo(fleet.on_disk(name, gate))  # their pre-deploy hooks wait until we write
    fleet.on_disk("web3", gate).write_text("")
    hook = f"cat {gate} >/dev/null; echo ran >> {runs}"
    task = await fleet.engine.deploy(with_hook(fleet, HookStage.PRE_DEPLOY, hook), ALICE)
    events = fleet.bus.subscribe(task.id)
    run = asyncio.create_task(fleet.engine.run(task.id))
    await wait_running(events, ("web1", Stage.PRE_DEPLOY), ("web2", Stage.PRE_DEPLOY))

    draining = asyncio.create_task(fleet.engine.drain(60))  # begins before the hooks can end
    await asyncio.gather(
        *(asyncio.to_thread(fleet.on_disk(s, gate).write_text, "go\n") for s in ("web1", "web2"))
    )
    assert await draining == [task.id]
    assert await run == TaskStatus.INTERRUPTED
    await task.refresh_from_db()
    assert task.status == TaskStatus.INTERRUPTED, await fleet.describe(task)
    assert task.reason == STOPPED and task.lease_owner is None

    nodes = await statuses(fleet, task)
    for name in ("web1", "web2"):  # what ran finished; what came next did not start
        assert nodes[(name, "upload")] == nodes[(name, "pre_deploy")] == NodeStatus.SUCCEEDED
        assert nodes[(name, "deploy")] == NodeStatus.PENDING
    assert {nodes[("web3", s)] for s in ("upload", "pre_deploy", "deploy")} == {NodeStatus.PENDING}
    for name in SERVERS:  # no post-deploy hook: skipped when the run began
        assert nodes[(name, "post_deploy")] == NodeStatus.SKIPPED
    codes = fleet.data / "codes" / "shop" / "prod"
    for name in ("web1", "web2"):
        assert fleet.on_disk(name, runs).read_text() == "ran\n"
        assert fleet.on_disk(name, codes / ".hoist-upload" / f"{task.version}.staged").is_dir()
        assert not fleet.on_disk(name, codes / task.version).exists()  # never unpacked
        assert fleet.live(name) is None
    assert not fleet.on_disk("web3", fleet.data / "codes").exists()
    assert not fleet.on_disk("web3", runs).exists()

    before = await fleet.nodes(task)
    for name in ("web1", "web2"):  # a pre-deploy hook that ran again would not wait now
        fleet.on_disk(name, gate).unlink()
        fleet.on_disk(name, gate).write_text("")
    engine = restarted(fleet)
    await engine.retry(task.id, ALICE)
    await task.refresh_from_db()
    assert task.status == TaskStatus.QUEUED and task.reason == ""
    assert await engine.run(task.id) == TaskStatus.SUCCEEDED, await fleet.describe(task)
    after = await fleet.nodes(task)
    for name in ("web1", "web2"):
        for stage in ("upload", "pre_deploy"):
            assert after[(name, stage)].finished_at == before[(name, stage)].finished_at
    for name in SERVERS:
        assert fleet.on_disk(name, runs).read_text() == "ran\n"
        assert fleet.live(name) == task.version


async def test_drain_past_its_grace_stops_the_hook_and_interrupts(fleet: Fleet):
    alive = fleet.data / "alive"
    os.mkfifo(fleet.on_disk("web1", alive))
    # holds the fifo open for as long as the hook lives; does nothing once the fifo is gone
    hook = f"if [ -p {alive} ]; then exec 3>{alive}; echo started >&3; sleep 3600; fi"
    task = await fleet.engine.deploy(with_hook(fleet, HookStage.PRE_DEPLOY, hook), ALICE)
    run = asyncio.create_task(fleet.engine.run(task.id))
    reader, pipe = await read_fifo(fleet.on_disk("web1", alive))
    try:
        assert await reader.readline() == b"started\n"
        grace = 0.5
        loop = asyncio.get_running_loop()
        began = loop.time()
        assert await fleet.engine.drain(grace) == [task.id]
        took = loop.time() - began
        assert grace <= took < grace + SETTLE_SECONDS
        # every writer of the fifo (the hook's shell and its sleep) has exited: end of file
        assert await asyncio.wait_for(reader.read(), 10) == b""
    finally:
        pipe.close()
    assert await run == TaskStatus.INTERRUPTED
    await task.refresh_from_db()
    assert task.status == TaskStatus.INTERRUPTED and task.lease_owner is None
    assert task.reason.startswith(STOPPED) and "0.5 s" in task.reason
    nodes = await fleet.nodes(task)
    assert nodes[("web1", "pre_deploy")].status == NodeStatus.SKIPPED
    assert nodes[("web1", "pre_deploy")].error == STOPPED_NODE
    assert nodes[("web1", "deploy")].status == NodeStatus.PENDING
    assert fleet.live("web1") is None

    fleet.on_disk("web1", alive).unlink()
    engine = restarted(fleet)
    await engine.retry(task.id, ALICE)
    assert await engine.run(task.id) == TaskStatus.SUCCEEDED, await fleet.describe(task)
    assert fleet.live("web1") == task.version


async def test_a_queued_task_is_not_claimed_once_draining(fleet: Fleet):
    gate = fleet.data / "gate"
    os.mkfifo(fleet.on_disk("web1", gate))
    first = await fleet.engine.deploy(
        with_hook(fleet, HookStage.PRE_DEPLOY, f"cat {gate} >/dev/null"),
        ALICE,
    )
    second = await fleet.engine.deploy(fleet.request(), ALICE)
    events = fleet.bus.subscribe(first.id)
    runs = [asyncio.create_task(fleet.engine.run(t.id)) for t in (first, second)]
    await wait_running(events, ("web1", Stage.PRE_DEPLOY))
    await second.refresh_from_db()
    assert second.status == TaskStatus.QUEUED

    draining = asyncio.create_task(fleet.engine.drain(60))
    await asyncio.to_thread(fleet.on_disk("web1", gate).write_text, "go\n")
    assert await draining == [first.id]
    assert await asyncio.gather(*runs) == [TaskStatus.INTERRUPTED, TaskStatus.QUEUED]
    assert await fleet.engine.run(second.id) == TaskStatus.QUEUED  # at once, claims nothing
    await second.refresh_from_db()
    assert second.status == TaskStatus.QUEUED
    assert second.started_at is None and second.lease_owner is None
    assert set((await statuses(fleet, second)).values()) == {NodeStatus.PENDING}
    assert fleet.live("web1") is None

    assert await restarted(fleet).run(second.id) == TaskStatus.SUCCEEDED
    assert fleet.live("web1") == second.version


@needs_separate_disks
async def test_drain_leaves_a_waiting_canary_alone(fleet3: Fleet):
    task = await fleet3.deploy(mode=DeployMode.CANARY, canary=("web1",))
    assert task.status == TaskStatus.CANARY
    assert await fleet3.engine.drain(5) == []
    await task.refresh_from_db()
    assert task.status == TaskStatus.CANARY and task.reason == ""
    assert (await statuses(fleet3, task))[("web2", "upload")] == NodeStatus.PENDING
    with pytest.raises(ConflictError, match="Hoist is stopping"):
        await fleet3.engine.begin_promote(task.id, ALICE)
    await task.refresh_from_db()
    assert task.status == TaskStatus.CANARY
    assert fleet3.live("web1") == task.version and fleet3.live("web2") is None


async def test_reap_finds_at_once_a_task_whose_runner_on_this_machine_died(db, tmp_path: Path):
    fleet = await make_fleet(tmp_path, ["web1"])
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        dead = subprocess.Popen(["true"])
        dead.wait()
        host = socket.gethostname()
        now = fleet.engine.recorder.clock()
        soon, past = now + timedelta(minutes=5), now - timedelta(minutes=5)
        leases = {
            "crashed": (f"{host}:{dead.pid}", soon),
            "alive": (f"{host}:{sleeper.pid}", soon),
            "this process": (f"{host}:{os.getpid()}", soon),
            "other machine": (f"elsewhere:{dead.pid}", soon),
            "silent": ("gone:1", past),
        }
        tasks = {}
        for label, (owner, until) in leases.items():
            tasks[label] = await fleet.engine.deploy(fleet.request(), ALICE)
            await DeployTask.filter(id=tasks[label].id).update(
                status=TaskStatus.RUNNING, lease_owner=owner, lease_until=until
            )
        crashed = tasks["crashed"]
        start = (await fleet.nodes(crashed))[("", "start")]
        await fleet.engine.recorder.start_node(start)  # it died during its first stage
        events = fleet.bus.subscribe()

        assert await fleet.engine.reap() == [crashed.id, tasks["silent"].id]
        reported = []
        while (event := events.get_nowait()) is not None:
            if isinstance(event, TaskChanged):
                reported.append((event.task_id, event.status))
        assert reported == [
            (crashed.id, TaskStatus.INTERRUPTED),
            (tasks["silent"].id, TaskStatus.INTERRUPTED),
        ]
        for task in tasks.values():
            await task.refresh_from_db()
        assert crashed.status == TaskStatus.INTERRUPTED and crashed.lease_owner is None
        assert crashed.reason == f"its runner stopped (process {dead.pid} on {host} ended)"
        assert tasks["silent"].status == TaskStatus.INTERRUPTED
        assert tasks["silent"].reason == "its runner stopped renewing its lease"
        for label in ("alive", "this process", "other machine"):
            assert tasks[label].status == TaskStatus.RUNNING, label
            assert tasks[label].lease_owner == leases[label][0] and tasks[label].reason == ""
        node = (await fleet.nodes(crashed))[("", "start")]
        assert node.status == NodeStatus.SKIPPED and "process" in node.error
        assert await fleet.engine.reap() == []

        others = [t.id for label, t in tasks.items() if label != "crashed"]
        await DeployTask.filter(id__in=others).update(
            status=TaskStatus.CANCELLED, lease_owner=None, lease_until=None
        )
        await fleet.engine.retry(crashed.id, ALICE)
        await crashed.refresh_from_db()
        assert crashed.status == TaskStatus.QUEUED and crashed.reason == ""
        assert await fleet.engine.run(crashed.id) == TaskStatus.SUCCEEDED
        assert fleet.live("web1") == crashed.version
    finally:
        sleeper.kill()
        sleeper.wait()
        await stop_fleet(fleet)
