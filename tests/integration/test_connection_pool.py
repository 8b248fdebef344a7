"""Warm SSH connections between tasks, against real OpenSSH servers, and in `hoist serve`.

The engine gets a pool as `hoist serve` gives it one. Between two tasks a pooled connection
is either reused, or killed on the server (its per-connection sshd process, found below the
sshd this test started), or made stale by an inventory change (a different pinned host key).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.demo.render import flatten
from core.config import Settings
from core.engine.connections import TaskConnections
from core.engine.engine import Engine
from core.engine.pool import ConnectionPool
from core.inventory.specs import ServerSpec
from core.inventory.state import write_server
from core.keys import generate_key
from core.sandbox.processes import kill_tree
from core.secrets import generate_secret
from core.status import NodeStatus, TaskStatus
from core.store.db import close_database, open_database
from core.store.models import DeployTask, Server
from tests.opensshfleet import (
    OpenSSHFleet,
    make_openssh_fleet,
    sessions_of,
    skip_reason,
    stop_all,
)
from tests.slackbot import ALICE as SLACK_ALICE
from tests.slackbot import CHANNEL, Story, start_story, stop_story

pytestmark = pytest.mark.timeout(120)

SERVERS = ("web1", "web2")


def sshd_skip() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture
async def fleet(db, tmp_path: Path) -> AsyncIterator[OpenSSHFleet]:
    """Two sshds, and an engine with a warm connection pool (as `hoist serve` runs it)."""
    sshd_skip()
    fleet = await make_openssh_fleet(tmp_path, SERVERS)
    plain = fleet.engine
    pool = ConnectionPool(plain.settings.connect)
    fleet.engine = Engine(plain.settings, plain.box, bus=fleet.bus, pool=pool)
    try:
        yield fleet
    finally:
        try:
            await fleet.engine.wait_idle()
            await pool.close()
        finally:
            await stop_all(fleet.sshds.values())


def pool_of(fleet: OpenSSHFleet) -> ConnectionPool:
    assert fleet.engine.pool is not None
    return fleet.engine.pool


async def deploy(fleet: OpenSSHFleet, content: str):
    """Commit `content` as index.html and deploy it to every server; the task, at rest."""
    sha = fleet.repo.commit({"index.html": content}, f"release {content.strip()}")
    return await fleet.deploy(sha)


async def test_a_second_task_reuses_the_pooled_connections(fleet: OpenSSHFleet):
    pool = pool_of(fleet)
    first = await deploy(fleet, "one\n")
    assert first.status == TaskStatus.SUCCEEDED, await fleet.describe(first)
    kept = {name: pool.pooled(name) for name in SERVERS}
    assert pool.dials == 2 and all(c is not None and not c.closed for c in kept.values())
    assert all(len(sessions_of(fleet.sshds[n])) == 1 for n in SERVERS)  # one login each

    second = await deploy(fleet, "two\n")

    assert second.status == TaskStatus.SUCCEEDED, await fleet.describe(second)
    assert (pool.dials, pool.reused, pool.replaced) == (2, 2, 0)
    assert {name: pool.pooled(name) for name in SERVERS} == kept
    for name in SERVERS:
        assert fleet.live(name) == second.version
        assert (fleet.release(name) / "index.html").read_text() == "two\n"
        assert len(sessions_of(fleet.sshds[name])) == 1  # still that one login


async def test_a_pooled_connection_killed_between_tasks_is_replaced(fleet: OpenSSHFleet):
    pool = pool_of(fleet)
    first = await deploy(fleet, "one\n")
    assert first.status == TaskStatus.SUCCEEDED, await fleet.describe(first)
    dead = pool.pooled("web1")
    assert dead is not None
    serving = sessions_of(fleet.sshds["web1"])
    assert len(serving) == 1
    kill_tree(serving[0])  # the sshd process of that one connection, as a crash would

    second = await deploy(fleet, "two\n")  # at once: the client may not have noticed yet

    assert second.status == TaskStatus.SUCCEEDED, await fleet.describe(second)
    nodes = await fleet.nodes(second)
    for name in SERVERS:
        for stage in ("upload", "deploy"):
            assert nodes[(name, stage)].status == NodeStatus.SUCCEEDED, (name, stage)
    assert dead.closed
    fresh = pool.pooled("web1")
    assert fresh is not None and fresh is not dead and not fresh.closed
    assert (pool.dials, pool.replaced, pool.reused) == (3, 1, 1)  # web2's was reused
    assert fleet.live("web1") == fleet.live("web2") == second.version


async def test_a_command_on_a_connection_killed_an_instant_before_runs_on_a_new_one(
    fleet: OpenSSHFleet,
):
    pool = pool_of(fleet)
    first = await deploy(fleet, "one\n")
    assert first.status == TaskStatus.SUCCEEDED, await fleet.describe(first)
    task = TaskConnections(fleet.engine.box, fleet.engine.settings.connect, pool)
    server = await Server.get(name="web1")
    dead = await task.get(server)
    assert dead is pool.pooled("web1") and (pool.dials, pool.reused) == (2, 1)

    kill_tree(sessions_of(fleet.sshds["web1"])[0])
    result = await task.call(server, lambda conn: conn.run("echo $((6 * 7))"))

    assert result.output == "42\n"
    assert dead.closed
    fresh = await task.get(server)
    assert fresh is not dead and fresh is pool.pooled("web1")
    assert (pool.dials, pool.replaced) == (3, 1)
    await task.close()
    assert not fresh.closed  # given back, kept warm


async def test_a_changed_pinned_host_key_drops_the_pooled_connection(fleet: OpenSSHFleet):
    pool = pool_of(fleet)
    first = await deploy(fleet, "one\n")
    assert first.status == TaskStatus.SUCCEEDED, await fleet.describe(first)
    old = pool.pooled("web1")
    assert old is not None and not old.closed
    sshd = fleet.sshds["web1"]
    other = generate_key("not web1's host key").public.split()
    server = await Server.get(name="web1")
    await write_server(
        server,
        ServerSpec("web1", sshd.address, "deploy", sshd.port, f"{other[0]} {other[1]}"),
    )

    second = await deploy(fleet, "two\n")

    assert second.status == TaskStatus.FAILED, await fleet.describe(second)
    upload = (await fleet.nodes(second))[("web1", "upload")]
    assert upload.status == NodeStatus.FAILED
    assert "host key of `web1`" in upload.error and "does not match the pinned key" in upload.error
    assert "nothing was sent" in upload.error
    assert old.closed and pool.pooled("web1") is None
    assert fleet.live("web1") == first.version  # untouched
    assert fleet.live("web2") == second.version  # its connection was still good
    assert (pool.dials, pool.reused, pool.replaced) == (3, 1, 1)


@pytest.fixture
async def story(hoist_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Story]:
    """The bot as `hoist serve` starts it (prod needs no approvals), on each database."""
    settings = Settings.from_env({"HOIST_SECRET_KEY": generate_secret()} | hoist_env)
    await open_database(settings)
    story = await start_story(settings, tmp_path, approvals=0)
    try:
        yield story
    finally:
        await stop_story(story)  # stopping twice is harmless
        await close_database()


def told(story: Story, fragment: str) -> bool:
    """Alice was told something containing `fragment` (an ephemeral reply)."""
    return any(fragment in e.text + flatten(e.blocks) for e in story.slack.ephemerals(SLACK_ALICE))


async def test_hoist_serve_closes_its_pool_when_it_stops(story: Story):
    pool = story.running.pool
    assert pool is not None and story.running.bot.engine.pool is pool
    assert (pool.max_size, pool.idle_seconds) == (200, 300.0)
    await story.slack.slash_command(SLACK_ALICE, "shop prod", channel=CHANNEL)
    await story.slack.wait_for(lambda: told(story, "Task #1"), timeout=30)
    await story.settle()
    assert (await DeployTask.get(id=1)).status == TaskStatus.SUCCEEDED
    kept = [pool.pooled(name) for name in story.fleet.hosts]
    assert all(c is not None and not c.closed for c in kept) and pool.size == 3
    assert all(host.open_connections for host in story.fleet.hosts.values())

    await story.running.stop()

    assert all(c is not None and c.closed for c in kept) and pool.size == 0
    for host in story.fleet.hosts.values():
        await asyncio.wait_for(host.wait_idle(), 10)  # each server saw its login end
