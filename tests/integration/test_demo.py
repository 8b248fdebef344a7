"""`hoist demo` end to end: the scripted story passes every one of its own checks.

The story runs in-process (no subprocess: fast, and failures show the demo's own output), once
on this machine's defaults and once without private server roots, as on a CI runner that
forbids user namespaces. The CLI runs it once more, and plays a short interactive session.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

import bot.cli  # registers `demo` and `serve` on the core group
import bot.demo.setup
from bot.demo import DemoOptions, run_demo
from bot.demo.interactive import Session
from bot.demo.render import flatten
from bot.demo.setup import CHANNEL, Sandbox, build_sandbox
from core.cli import cli
from core.store.models import DeployTask, HookTemplate

STEPS = (
    "alice asks for a release",
    "bob approves",
    "carol approves: the release goes out",
    "alice asks for v1.1 with a smoke test",
    "the smoke test fails on web2",
    "alice presses Retry failed",
    "alice rolls back",
    "where every server stands",
)


async def play(home: Path) -> tuple[int, str]:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    code = await run_demo(DemoOptions(home=home), console)
    return code, out.getvalue()


def assert_whole_story(code: int, output: str) -> None:
    assert code == 0, output
    for step in STEPS:
        assert step in output, (step, output)
    table = re.findall(r"(web\d)\s*\S\s*shop-v1-\d+\s*\S\s*v1\.0", output)  # the final table
    assert table == ["web1", "web2", "web3"], output
    assert "check failed" not in output
    assert re.search(r"all \d+ checks passed in 8 steps", output), output


async def test_the_demo_plays_every_step_and_passes_its_checks(tmp_path: Path):
    code, output = await play(tmp_path / "home")
    assert_whole_story(code, output)
    assert "[1] Approve" in output and "Retry failed" in output and "Rollback" in output
    assert "web2 — post_deploy" in output  # the failure in the stage grid
    assert "\x1b[" not in output  # no colour when not a terminal


async def test_without_private_roots_the_servers_share_a_disk_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(bot.demo.setup, "isolation_available", lambda: "no namespaces here")
    code, output = await play(tmp_path / "home")
    assert_whole_story(code, output)
    assert "no namespaces here" in output and "batch size 1" in output


def test_hoist_demo_through_the_cli_cleans_up_its_temp_home():
    result = CliRunner().invoke(cli, ["demo"])
    assert_whole_story(result.exit_code, result.output)
    home = re.search(r"home\s+(/\S+)", result.output)
    assert home is not None and not Path(home[1]).exists()


def test_hoist_demo_refuses_a_home_that_is_not_empty(tmp_path: Path):
    (tmp_path / "something").touch()
    result = CliRunner().invoke(cli, ["demo", "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "must be a new or empty folder" in result.output


def test_hoist_demo_interactive_deploys_to_test_from_a_prompt(tmp_path: Path):
    lines = "/deploy shop test v1.1\nservers\nas carol\nclick 9\nfly\n/deploy\nclick 1\nquit\n"
    home = tmp_path / "home"
    result = CliRunner().invoke(cli, ["demo", "--interactive", "--home", str(home)], input=lines)
    assert result.exit_code == 0, result.output
    assert "Succeeded" in result.output
    assert "You are carol now." in result.output
    assert "The last message has 2 buttons:" in result.output  # Rollback, View logs
    assert "Unknown command fly" in result.output
    assert "SLACK_API_URL unset" in result.output
    assert "A form opened" in result.output
    assert "no earlier good release" in result.output  # click 1: Rollback, refused
    assert (home / "hoist.sqlite3").exists()  # --home is kept


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with AsyncExitStack() as stack:
        yield await build_sandbox(tmp_path / "home", stack)


def scripted(sandbox: Sandbox, answers: list[str]) -> tuple[Session, io.StringIO]:
    """A prompt session as alice whose input is `answers`, one line each, then the end."""
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    lines = iter(answers)

    async def read() -> str | None:
        return next(lines, None)

    return Session(sandbox, console, read), out


# Project 1 = shop, environment 1 = prod, branch by the search `mai`, no commit, no
# description, mode 1 = full, no script for the first three hooks, then a post-deploy hook.
FORM_START = ["1", "1", "mai", "1", "", "", "1", "", "", ""]


async def test_interactive_deploy_form_is_filled_in_at_the_prompt(sandbox: Sandbox):
    session, out = scripted(sandbox, [*FORM_START, "echo ok", ".", ""])
    assert await session.handle("/deploy")
    output = out.getvalue()
    task = await DeployTask.all().order_by("-id").first()
    assert task is not None, output
    await task.fetch_related("environment")
    assert (task.ref, task.environment.name, str(task.mode)) == ("main", "prod", "full")
    assert task.slack_channel == CHANNEL and task.slack_ts, output
    posted = flatten(sandbox.fake.message(CHANNEL, task.slack_ts).blocks)
    assert "echo ok" in posted
    assert "A form opened" in output and "Branch or tag" in output
    assert f"#{task.id}" in output  # the bot's answer to alice, shown at the prompt


async def test_interactive_form_asks_again_for_a_field_the_bot_sends_back(sandbox: Sandbox):
    answers = [*FORM_START, "echo ok", ".", "1", "", "smoke check"]
    session, out = scripted(sandbox, answers)
    assert await session.handle("/deploy")
    output = out.getvalue()
    assert "Template title (post_deploy): a template needs a title" in output, output
    assert output.count("Template title (post_deploy)") >= 3  # asked, sent back, asked again
    assert await HookTemplate.exists(title="smoke check"), output
    task = await DeployTask.all().order_by("-id").first()
    assert task is not None and task.ref == "main", output
