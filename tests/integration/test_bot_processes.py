"""`hoist serve` as real processes: SIGTERM during a deploy then Retry after a restart, and two
bots on one PostgreSQL database starting each scheduled release and posting each digest once."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import actions as ids
from bot.demo.render import flatten
from bot.sandbox import FakeSlack, MessageRate, Workspace
from core.audit import Actor
from core.config import Settings
from core.engine.recorder import utcnow
from core.engine.requests import HookChoice
from core.secrets import SecretBox, generate_secret
from core.status import HookStage, NodeStatus, Stage, TaskStatus
from core.store.db import close_database, open_database
from core.store.models import DeployTask, DigestRun, Project, StageRun
from tests.botprocess import BotProcess
from tests.databases import backend_url, reset
from tests.fleet import Fleet, make_fleet
from tests.slackbot import ALICE, CHANNEL, SECRET

# The hook tells the test it runs (a write that blocks until the test reads), then waits for
# the test's go-ahead: both are FIFOs, so the test waits on events, never on time.
GATED_HOOK = (
    'echo "pre-deploy on $HOIST_SERVER"\n'
    'echo started > "$GATE/started.$HOIST_SERVER"\n'
    'read go < "$GATE/go.$HOIST_SERVER"\n'
    'echo "released: $go"\n'
)


@dataclass
class Setup:
    settings: Settings
    fleet: Fleet
    slack: FakeSlack


async def setup(settings: Settings, tmp: Path, servers: list[str]) -> AsyncIterator[Setup]:
    await open_database(settings)
    assert settings.secret_key
    fleet = await make_fleet(tmp, servers, box=SecretBox(settings.secret_key))
    await Project.filter(slug="shop").update(channel=CHANNEL)
    slack = FakeSlack(
        workspace=Workspace.sample(), message_rate=MessageRate(50.0, 50), signing_secret=SECRET
    )
    await slack.start()
    try:
        yield Setup(settings, fleet, slack)
    finally:
        await slack.stop()
        for host in fleet.hosts.values():
            await host.stop()
        await close_database()


@pytest.fixture
async def on_sqlite(tmp_path: Path) -> AsyncIterator[Setup]:
    home = tmp_path / "home"
    settings = Settings(home, f"sqlite://{home / 'hoist.sqlite3'}", generate_secret())
    async for ready in setup(settings, tmp_path, ["web1", "web2"]):
        yield ready


@pytest.fixture
async def on_postgres(tmp_path: Path) -> AsyncIterator[Setup]:
    url = backend_url("postgres", "")  # skipped unless HOIST_TEST_POSTGRES_URL is set
    await reset(url)
    settings = Settings(tmp_path / "home", url, generate_secret())
    async for ready in setup(settings, tmp_path, ["web1"]):
        yield ready


async def started_bot(ready: Setup, name: str) -> BotProcess:
    home = replace(ready.settings, home=ready.settings.home.parent / name)
    bot = await BotProcess.start(home, ready.slack, SECRET, HOIST_SHUTDOWN_GRACE="60")
    ready.slack.connect_bot(bot.events_url, SECRET)
    return bot


async def started_bots(ready: Setup, names: list[str]) -> list[BotProcess]:
    """Several bots started at once; if one fails to start, the others are stopped too."""
    results = await asyncio.gather(*(started_bot(ready, n) for n in names), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        for bot in results:
            if isinstance(bot, BotProcess):
                await bot.kill()
        raise failed[0]
    return [r for r in results if isinstance(r, BotProcess)]


async def gated_task(fleet: Fleet, tmp_path: Path) -> tuple[DeployTask, Path]:
    """A queued deploy to web1 and web2 whose pre-deploy hook waits at the gate's FIFOs."""
    gate = tmp_path / "gate"
    gate.mkdir()
    for server in ("web1", "web2"):
        os.mkfifo(gate / f"started.{server}")
        os.mkfifo(gate / f"go.{server}")
    hook = GATED_HOOK.replace("$GATE", str(gate))
    task = await fleet.engine.deploy(
        fleet.request(hooks={HookStage.PRE_DEPLOY: HookChoice(script=hook)}),
        Actor("alice", via="cli"),
    )
    return task, gate


async def read_fifo(path: Path) -> str:
    return await asyncio.to_thread(path.read_text)


async def write_fifo(path: Path, text: str) -> None:
    await asyncio.to_thread(path.write_text, text)


async def test_sigterm_lets_running_stages_finish_then_retry_after_restart(
    on_sqlite: Setup, tmp_path: Path
):
    ready, fleet, slack = on_sqlite, on_sqlite.fleet, on_sqlite.slack
    task, gate = await gated_task(fleet, tmp_path)
    # The bot redraws the task's message as it goes: give the task one, as `/deploy` would.
    client = AsyncWebClient(token=slack.token, base_url=slack.url)
    posted = await client.chat_postMessage(channel=CHANNEL, text=f"task #{task.id}")
    await DeployTask.filter(id=task.id).update(
        slack_channel=posted["channel"], slack_ts=posted["ts"]
    )

    bot = await started_bot(ready, "first")  # it resumes the queued task at start
    try:
        assert await read_fifo(gate / "started.web1") == "started\n"
        assert await read_fifo(gate / "started.web2") == "started\n"
        bot.process.send_signal(signal.SIGTERM)
        await bot.wait_line(lambda line: "hoist is stopping" in line)
        await write_fifo(gate / "go.web1", "go\n")
        await write_fifo(gate / "go.web2", "go\n")
        assert await bot.wait() == 0
    finally:
        await bot.kill()
    assert f"interrupted #{task.id}" in bot.log()

    await task.refresh_from_db()
    assert task.status == TaskStatus.INTERRUPTED
    assert "stopped" in task.reason
    nodes = {(n.stage, n.server_name): n for n in await StageRun.filter(task=task)}
    for server in ("web1", "web2"):
        pre = nodes[(Stage.PRE_DEPLOY, server)]
        assert pre.status == NodeStatus.SUCCEEDED, pre.output
        assert "released: go" in pre.output
        assert nodes[(Stage.DEPLOY, server)].status == NodeStatus.PENDING
        assert not fleet.on_disk(server, fleet.data / "prod" / "shop").exists()
    said = [flatten(m.blocks) for m in slack.messages(CHANNEL)]
    interrupted = next(t for t in said if t.startswith("⚠️"))
    assert f"task #{task.id}" in interrupted and "Retry" in interrupted

    again = await started_bot(ready, "second")
    try:
        notice = next(m for m in slack.messages(CHANNEL) if flatten(m.blocks).startswith("⚠️"))
        await slack.click(ALICE, (CHANNEL, notice.ts), ids.RETRY, str(task.id))
        await slack.wait_for(
            lambda: "Succeeded" in flatten(slack.message(CHANNEL, posted["ts"]).blocks) or None,
            timeout=60,
        )
        assert await again.terminate() == 0
    finally:
        await again.kill()
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED
    for server in ("web1", "web2"):
        pre = await StageRun.get(task=task, stage=Stage.PRE_DEPLOY, server_name=server)
        assert pre.output.count("pre-deploy on") == 1  # retry did not run it again
        assert fleet.on_disk(server, fleet.data / "prod" / "shop").is_symlink()


def next_minute(after: datetime) -> datetime:
    return (after + timedelta(minutes=1)).replace(second=0, microsecond=0)


@pytest.mark.timeout(180)
async def test_two_bots_on_postgres_start_a_release_and_post_a_digest_once(on_postgres: Setup):
    ready, fleet, slack = on_postgres, on_postgres.fleet, on_postgres.slack
    now = utcnow()
    at = next_minute(now + timedelta(seconds=15))  # time for both bots to start and sync
    await Project.filter(slug="shop").update(digest_cron="* * * * *", digest_timezone="UTC")
    task = await fleet.engine.deploy(fleet.request(scheduled_at=at), Actor("alice", via="cli"))
    assert task.status == TaskStatus.SCHEDULED

    bots = await started_bots(ready, ["one", "two"])
    try:
        for bot in bots:  # each bot's own timer fires for the start and for the digest
            await bot.wait_line(lambda line: f"task #{task.id}: timer at" in line, timeout=120)
            await bot.wait_line(lambda line: f"digest of shop due {at}" in line, timeout=120)
        await slack.wait_for(
            lambda: any("Succeeded" in flatten(m.blocks) for m in slack.messages(CHANNEL)) or None,
            timeout=60,
        )
        codes = await asyncio.gather(*(bot.terminate() for bot in bots))
    finally:
        for bot in bots:
            await bot.kill()
    assert codes == [0, 0]

    logs = [bot.log() for bot in bots]
    starts = [log.count(f"task #{task.id}: start done here") for log in logs]
    assert sorted(starts) == [0, 1], logs
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED
    said = [flatten(m.blocks) for m in slack.messages(CHANNEL)]
    assert len([t for t in said if t.startswith("🚀")]) == 1
    assert len([t for t in said if t.startswith("✅")]) == 1

    runs = await DigestRun.filter(due_at=at)
    assert len(runs) == 1
    posting = [log.count(f"digest of shop due {at}: posting") for log in logs]
    assert sorted(posting) == [0, 1], logs
    other = [
        log.count(f"digest of shop due {at}: already posted by another process") for log in logs
    ]
    assert sorted(other) == [0, 1], logs
    digests = [m for m in slack.messages(CHANNEL) if "digest" in (m.text or "").lower()]
    assert len(digests) == len(await DigestRun.all())


async def test_a_task_left_running_by_a_killed_bot_is_interrupted_at_the_next_start(
    on_sqlite: Setup, tmp_path: Path
):
    ready, fleet, slack = on_sqlite, on_sqlite.fleet, on_sqlite.slack
    task, gate = await gated_task(fleet, tmp_path)
    bot = await started_bot(ready, "first")
    try:
        await read_fifo(gate / "started.web1")
        await read_fifo(gate / "started.web2")
    finally:
        await bot.kill()  # SIGKILL: no chance to store anything
    for server in ("web1", "web2"):  # let the orphaned hooks end
        await write_fifo(gate / f"go.{server}", "late\n")
    await task.refresh_from_db()
    assert task.status == TaskStatus.RUNNING  # as the dead process left it

    again = await started_bot(ready, "second")
    try:
        notice = await slack.wait_for(
            lambda: next(
                (m for m in slack.messages(CHANNEL) if flatten(m.blocks).startswith("⚠️")), None
            ),
            timeout=30,
        )
        await task.refresh_from_db()
        assert task.status == TaskStatus.INTERRUPTED
        assert f"process {bot.process.pid}" in task.reason
        assert f"task #{task.id}" in flatten(notice.blocks)
        assert ids.RETRY in str(notice.blocks)
        assert await again.terminate() == 0
    finally:
        await again.kill()
