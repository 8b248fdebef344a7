"""The live release page in a real browser (the machine's Chromium, see tests/browser.py).

A real release to three SSH servers: the link comes from clicking View logs in the Slack
stand-in, the page watches the pipeline's nodes turn green and web2's post-deploy hook turn red,
shows a node's log when clicked, keeps the same picture across a reload, and refuses links that
expired or were altered. The post-deploy hook on web2 and web3 waits for the test (a FIFO), so
the test decides when each ends and waits on events, never on time.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.blocks import actions as ids
from bot.demo.render import flatten
from core.audit import Actor
from core.config import Settings
from core.engine.requests import DeployRequest, HookChoice
from core.inventory.lookup import get_environment
from core.status import HookStage, TaskStatus
from core.store.models import DeployTask
from core.weblinks import link_key, sign
from tests.browser import chromium
from tests.slackbot import ALICE, CHANNEL, Story, start_story, stop_story

pytest.importorskip("playwright.async_api", reason="the `playwright` package is missing")
from playwright.async_api import BrowserContext, Locator, Page, expect  # noqa: E402

SCREENSHOT = Path(__file__).parents[2] / "docs" / "release-page.png"
LINK = re.compile(r"<(https?://[^|>]+/tasks/\d+\?t=[^|>]+)\|")
WAIT_MS = 30_000

# web1 goes straight through; web2 and web3 wait for the test's go-ahead, then web2 fails.
# They wait before printing anything: lines of a node that is still running reach only a page
# open at the time (the engine stores a node's output when it ends).
HOOK = (
    'if [ "$HOIST_SERVER" != web1 ]; then read go < "$GATE/go.$HOIST_SERVER"; fi\n'
    'echo "post-deploy on $HOIST_SERVER: restarting shop"\n'
    'if [ "$HOIST_SERVER" = web2 ]; then\n'
    '  echo "web2: shop did not come back up"\n'
    "  exit 3\n"
    "fi\n"
    'if [ "$HOIST_SERVER" = web3 ]; then read go < "$GATE/up.web3"; fi\n'
    'echo "shop is up on $HOIST_SERVER"\n'
)
GATES = ("go.web2", "go.web3", "up.web3")
SERVER_STAGES = ("upload", "deploy", "post_deploy")


@pytest.fixture
async def story(sqlite_db: Settings, tmp_path: Path) -> AsyncIterator[Story]:
    story = await start_story(sqlite_db, tmp_path, approvals=0)
    yield story
    # A test that failed midway leaves hooks waiting on their gate: cancelling ends them.
    for task in await DeployTask.filter(status=TaskStatus.RUNNING):
        await story.running.bot.engine.cancel(task.id, Actor("test", via="cli"))
    await stop_story(story)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with chromium(tmp_path / "chromium-profile") as context:
        yield context


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    gate = tmp_path / "gate"
    gate.mkdir()
    for name in GATES:
        os.mkfifo(gate / name)
    return gate


async def release(gate: Path, name: str) -> None:
    """Let a hook waiting at gate `name` go on (the write waits until the hook reads)."""
    await asyncio.to_thread((gate / name).write_text, "go\n")


async def start_release(story: Story, gate: Path) -> tuple[int, str]:
    """A release with the gated hook, created and announced by the bot as `/deploy` does;
    returns its id and its message's ts."""
    env = await get_environment("shop", "prod")
    await env.fetch_related("project")
    request = DeployRequest(
        project="shop",
        env="prod",
        requester=ALICE,
        via="slack",
        hooks={HookStage.POST_DEPLOY: HookChoice(script=HOOK.replace("$GATE", str(gate)))},
    )
    await story.running.bot.create(request, env, CHANNEL)
    task = await DeployTask.get(requester=ALICE)
    message = await story.message_where(lambda t: f"#{task.id}" in t)
    return task.id, message.ts


async def link_from_slack(story: Story, task_id: int, ts: str) -> str:
    """Click View logs on the task's message as alice; the link she is answered with."""
    await story.slack.click(ALICE, (CHANNEL, ts), ids.VIEW_LOGS, str(task_id))

    def said() -> str | None:
        for note in story.slack.ephemerals(user=ALICE):
            found = LINK.search(note.text + flatten(note.blocks))
            if found:
                return found.group(1).replace("&amp;", "&")
        return None

    return await story.slack.wait_for(said, timeout=30)


def node(page: Page, stage: str, server: str = "") -> Locator:
    return page.locator(f'g.node[data-node="{stage}:{server}"]')


async def expect_status(page: Page, stage: str, server: str, status: str) -> None:
    await expect(node(page, stage, server)).to_have_attribute(
        "data-status", status, timeout=WAIT_MS
    )


async def expect_mid_release(page: Page) -> None:
    """web1 done, web2's hook failed, web3's hook still running; the task still running."""
    for stage in ("start", "download", "package"):
        await expect_status(page, stage, "", "succeeded")
    for stage in SERVER_STAGES:
        await expect_status(page, stage, "web1", "succeeded")
    await expect_status(page, "deploy", "web2", "succeeded")
    await expect_status(page, "post_deploy", "web2", "failed")
    await expect_status(page, "deploy", "web3", "succeeded")
    await expect_status(page, "post_deploy", "web3", "running")
    await expect(page.locator("#task-status")).to_have_text("running", timeout=WAIT_MS)


async def test_a_release_watched_live_in_a_browser(
    story: Story, gate: Path, browser: BrowserContext, tmp_path: Path
):
    task_id, ts = await start_release(story, gate)
    url = await link_from_slack(story, task_id, ts)
    page = await browser.new_page()
    opened = await page.goto(url)
    assert opened is not None and opened.status == 200

    # web1's nodes turn green as they run; web2's and web3's hooks start, and wait.
    for stage in SERVER_STAGES:
        await expect_status(page, stage, "web1", "succeeded")
    await expect_status(page, "post_deploy", "web2", "running")
    await expect_status(page, "post_deploy", "web3", "running")
    await expect(page.locator("#task-status")).to_have_text("running")

    # Watching web2's hook: once released, its lines come and it turns red, live.
    await node(page, "post_deploy", "web2").click()
    await expect(page.locator("#node-title")).to_have_text("post_deploy on web2")
    output = page.locator("#node-output")
    await release(gate, "go.web2")
    await expect_status(page, "post_deploy", "web2", "failed")
    await expect(output).to_contain_text("web2: shop did not come back up", timeout=WAIT_MS)

    # A reload mid-release draws the same picture, from the database.
    await page.reload()
    await expect_mid_release(page)
    await node(page, "post_deploy", "web2").click()
    await expect(output).to_contain_text("post-deploy on web2: restarting shop")
    await expect(output).to_contain_text("web2: shop did not come back up")

    # web3's running hook: its lines arrive as they are printed, with no reload.
    await node(page, "post_deploy", "web3").click()
    await expect(page.locator("#node-title")).to_have_text("post_deploy on web3")
    await release(gate, "go.web3")
    await expect(output).to_contain_text("post-deploy on web3: restarting shop", timeout=WAIT_MS)
    await expect(node(page, "post_deploy", "web3")).to_have_attribute("data-status", "running")
    await release(gate, "up.web3")
    await expect(output).to_contain_text("shop is up on web3", timeout=WAIT_MS)
    await expect_status(page, "post_deploy", "web3", "succeeded")
    await expect(page.locator("#task-status")).to_have_text("failed", timeout=WAIT_MS)

    await story.settle()
    task = await DeployTask.get(id=task_id)
    assert task.status == TaskStatus.FAILED
    await node(page, "post_deploy", "web2").click()
    await expect(output).to_contain_text("did not come back up")
    saved = SCREENSHOT if os.environ.get("HOIST_SAVE_SCREENSHOT") == "1" else tmp_path / "page.png"
    saved.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(saved), full_page=True)
    assert saved.stat().st_size > 0


async def test_expired_altered_and_missing_links_are_refused(
    story: Story, gate: Path, browser: BrowserContext, sqlite_db: Settings
):
    task_id, ts = await start_release(story, gate)
    url = await link_from_slack(story, task_id, ts)
    for name in GATES:
        await release(gate, name)
    await story.settle()
    base, token = url.split("?t=")
    payload, mac = token.split(".")
    assert sqlite_db.secret_key
    key = link_key(sqlite_db.secret_key)
    expired = sign(task_id, ALICE, story.running.bot.now() - timedelta(seconds=1), key)
    other = sign(task_id + 1, ALICE, story.running.bot.now() + timedelta(hours=1), key)

    def flip(text: str) -> str:  # one character in the middle (an end one may be padding)
        i = len(text) // 2
        return text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1 :]

    refused = {
        "expired": f"{base}?t={expired}",
        "altered payload": f"{base}?t={flip(payload)}.{mac}",
        "altered signature": f"{base}?t={payload}.{flip(mac)}",
        "for another task": f"{base}?t={other}",
        "no token": base,
        "state, expired": f"{base}/state?t={expired}",
        "events, expired": f"{base}/events?t={expired}",
        "download, expired": f"{base}/log.txt?t={expired}",
    }
    page = await browser.new_page()
    for why, bad in refused.items():
        response = await page.goto(bad)
        assert response is not None and response.status == 403, why
        body = await response.text()
        assert "shop" not in body and "web2" not in body and "prod" not in body, why
    good = await page.goto(url)
    assert good is not None and good.status == 200
    await expect(page.locator("#task-status")).to_have_text("failed", timeout=WAIT_MS)
    assert parse_qs(urlsplit(url).query)["t"] == [token]
