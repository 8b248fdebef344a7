"""Links to the release page from Slack: View logs and `/deploy status ID` answer each person
with a link signed for them, based on `--public-url` or else on the bot's own address."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

import bot.cli  # noqa: F401 (adds `serve` to the `hoist` group)
from bot.blocks import actions as ids
from bot.config import BotSettings, check_public_url, listening_url
from bot.demo.render import flatten
from core.cli import cli
from core.config import Settings
from core.errors import UsageError
from core.weblinks import LINK_TTL, LinkRefused, link_key, verify
from tests.botprocess import BotProcess
from tests.slackbot import ALICE, BOB, CHANNEL, SECRET, Story, start_story, stop_story

LINK = re.compile(r"<(https?://[^|>]+/tasks/\d+\?t=[^|>]+)\|")
MINUTE = timedelta(minutes=1)


@pytest.fixture
async def story(sqlite_db: Settings, tmp_path: Path) -> AsyncIterator[Story]:
    story = await start_story(sqlite_db, tmp_path, approvals=0)
    yield story
    await stop_story(story)


async def released(story: Story) -> tuple[str, str]:
    """`/deploy shop prod` run to rest; the (channel, ts) of its message."""
    await story.slack.slash_command(ALICE, "shop prod", channel=CHANNEL)
    message = await story.message_where(lambda t: "#1" in t)
    await story.settle()
    return CHANNEL, message.ts


async def link_said_to(story: Story, user: str, fragment: str) -> str:
    """The page link in the first private answer to `user` that holds `fragment`."""

    def find() -> str | None:
        for note in story.slack.ephemerals(user=user):
            text = note.text + flatten(note.blocks)
            if fragment in text and (found := LINK.search(text)):
                return found.group(1).replace("&amp;", "&")
        return None

    return await story.slack.wait_for(find, timeout=30)


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


async def test_view_logs_answers_each_clicker_with_their_own_link(story: Story, sqlite_db):
    where = await released(story)
    message = story.slack.message(*where)
    buttons = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    view_logs = next(e for e in buttons if e["action_id"] == ids.VIEW_LOGS)
    assert "url" not in view_logs and view_logs["value"] == "1"  # a shared message: no link
    assert "?t=" not in str(message.blocks)

    await story.slack.click(ALICE, where, ids.VIEW_LOGS, "1")
    alices = await link_said_to(story, ALICE, "release page")
    await story.slack.click(BOB, where, ids.VIEW_LOGS, "1")
    bobs = await link_said_to(story, BOB, "release page")

    assert alices.startswith(f"{story.running.url}/tasks/1?t=")  # no --public-url: its own
    key = link_key(sqlite_db.secret_key)
    now = story.running.bot.now()
    assert verify(token_of(alices), 1, now, key) == ALICE
    assert verify(token_of(bobs), 1, now, key) == BOB
    assert verify(token_of(alices), 1, now + LINK_TTL - MINUTE, key) == ALICE
    with pytest.raises(LinkRefused):
        verify(token_of(alices), 1, now + LINK_TTL + MINUTE, key)  # it expires, as it says
    said = next(n.text for n in story.slack.ephemerals(user=ALICE) if "release page" in n.text)
    assert "<!date^" in said and "yours alone" in said


async def test_status_of_a_task_links_its_page_for_the_asker(story: Story, sqlite_db):
    await released(story)
    await story.slack.slash_command(BOB, "status 1", channel=CHANNEL)
    link = await link_said_to(story, BOB, "Release page")
    assert link.startswith(f"{story.running.url}/tasks/1?t=")
    key = link_key(sqlite_db.secret_key)
    assert verify(token_of(link), 1, story.running.bot.now(), key) == BOB


async def test_public_url_is_the_base_of_the_links(story: Story, sqlite_db):
    where = await released(story)
    story.bot_settings = replace(story.bot_settings, public_url="https://hoist.example.com/ops")
    await story.restart(sqlite_db)
    await story.slack.click(ALICE, where, ids.VIEW_LOGS, "1")
    link = await link_said_to(story, ALICE, "release page")
    assert link.startswith("https://hoist.example.com/ops/tasks/1?t=")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://hoist.example.com", "https://hoist.example.com"),
        ("https://hoist.example.com/", "https://hoist.example.com"),
        (" http://10.0.0.5:8080/hoist/ ", "http://10.0.0.5:8080/hoist"),
        ("HTTPS://Hoist.example.com/Ops", "https://Hoist.example.com/Ops"),
    ],
)
def test_a_public_url_is_kept_without_its_trailing_slash(given: str, kept: str):
    assert check_public_url(given) == kept


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("hoist.example.com", "http:// or https://"),
        ("ftp://hoist.example.com", "http:// or https://"),
        ("https://", "with a host"),
        ("https://hoist.example.com/?team=ops", "query"),
        ("https://hoist.example.com/#top", "fragment"),
        ("https://hoist.example.com:port", "not a URL"),
        ("https://hoist.example.com/a b", "spaces"),
        ("https://hoist.example.com/a|b", "spaces or one of"),
    ],
)
def test_a_bad_public_url_is_refused_saying_why(given: str, says: str):
    with pytest.raises(UsageError, match=re.escape(says)):
        check_public_url(given)


def test_credentials_in_a_public_url_are_refused_and_not_repeated():
    with pytest.raises(UsageError) as refused:
        check_public_url("https://ops:hunter2@hoist.example.com/?x")
    assert "hunter2" not in str(refused.value)


def test_without_a_public_url_links_use_the_listening_address():
    assert listening_url("0.0.0.0", 3000) == "http://127.0.0.1:3000"
    assert listening_url("hoist.lan", 8080) == "http://hoist.lan:8080"
    assert listening_url("::1", 3000) == "http://[::1]:3000"
    settings = BotSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"})
    assert settings.public_url is None


def test_hoist_serve_refuses_a_bad_public_url_before_starting(tmp_path: Path):
    env = {
        "HOIST_HOME": str(tmp_path / "home"),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
    }
    result = CliRunner().invoke(
        cli, ["serve", "--port", "0", "--public-url", "https://hoist.example.com/?a=1"], env=env
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert "--public-url" in result.output and "query" in result.output
    assert not (tmp_path / "home" / "hoist.sqlite3").exists()  # refused before anything began


async def test_hoist_serve_public_url_sets_the_base_of_its_links(story: Story, sqlite_db):
    """The real `hoist serve` process, its public URL from HOIST_PUBLIC_URL (`--public-url`)."""
    where = await released(story)
    process = await BotProcess.start(
        sqlite_db, story.slack, SECRET, HOIST_PUBLIC_URL="https://hoist.example.com/"
    )
    try:
        story.slack.connect_bot(process.events_url, SECRET)  # Slack now talks to the process
        await story.slack.click(BOB, where, ids.VIEW_LOGS, "1")
        link = await link_said_to(story, BOB, "release page")
    finally:
        assert await process.terminate() == 0
    assert link.startswith("https://hoist.example.com/tasks/1?t=")
    assert verify(token_of(link), 1, story.running.bot.now(), link_key(sqlite_db.secret_key))
