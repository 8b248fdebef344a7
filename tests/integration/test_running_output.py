"""A running node's output is stored as it goes, so a page opened mid-stage shows it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from core.audit import Actor
from core.engine import steps
from core.engine.events import LogLine
from core.engine.requests import HookChoice
from core.status import HookStage, NodeStatus, Stage
from core.store.models import StageRun
from tests.fleet import make_fleet


async def test_the_output_so_far_is_in_the_database_while_the_node_runs(
    sqlite_db, tmp_path: Path, monkeypatch
):
    monkeypatch.setattr(steps, "SAVE_SECONDS", 0.05)
    fleet = await make_fleet(tmp_path, ["web1"])
    gate = tmp_path / "go"
    os.mkfifo(gate)
    hook = f'echo "before the gate on $HOIST_SERVER"\nread go < {gate}\necho "after: $go"'
    try:
        task = await fleet.engine.deploy(
            fleet.request(hooks={HookStage.PRE_DEPLOY: HookChoice(script=hook)}),
            Actor("alice", via="cli"),
        )
        watch = fleet.bus.subscribe(task.id)
        run = asyncio.create_task(fleet.engine.run(task.id))
        while not (isinstance(e := await watch.get(), LogLine) and "before the gate" in e.line):
            pass
        node = await StageRun.get(task=task, stage=Stage.PRE_DEPLOY, server_name="web1")
        async with asyncio.timeout(10):  # the saver stores it within a few of its rounds
            while "before the gate" not in node.output:
                await node.refresh_from_db()
                await asyncio.sleep(0.05)
        assert node.status == NodeStatus.RUNNING
        await asyncio.to_thread(gate.write_text, "go\n")
        await run
        await node.refresh_from_db()
        assert node.status == NodeStatus.SUCCEEDED and "after: go" in node.output
    finally:
        for host in fleet.hosts.values():
            await host.stop()
