"""`hoist demo`: the whole product on its embedded defaults, played through in one command.

A fresh home (SQLite, a generated secret), a sample repository, three SSH hosts on loopback, an
inventory, the Slack stand-in and the real bot; then the scripted story (`story.py`) or, with
`--interactive`, a prompt to play it yourself. It returns 0 only if every check passed, so CI
can run it as a smoke test of the whole product.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.demo.interactive import play_interactively
from bot.demo.render import indent
from bot.demo.setup import CHANNEL_NAME, Sandbox, build_sandbox
from bot.demo.story import CheckFailed, Story
from core.errors import HoistError, UsageError

__all__ = ["DemoOptions", "main", "run_demo"]


@dataclass(frozen=True)
class DemoOptions:
    home: Path | None = None
    """A new or empty folder to use (and keep) as the home; None for a temp folder."""
    keep: bool = False
    """Keep the temp home afterwards."""
    interactive: bool = False


def main(home: str | None = None, keep: bool = False, interactive: bool = False) -> int:
    """Run the demo on this terminal (colour only when it is one); returns the exit code."""
    options = DemoOptions(Path(home) if home else None, keep, interactive)
    if isinstance(sys.stdout, io.TextIOWrapper) and "utf" not in sys.stdout.encoding.lower():
        sys.stdout.reconfigure(errors="replace")  # a `?` for what it cannot show, not a crash
    console = Console(highlight=False, emoji=False)
    try:
        return asyncio.run(run_demo(options, console))
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130


async def run_demo(options: DemoOptions, console: Console) -> int:
    """Set up, play, check, clean up. 0 when every check passed, 1 otherwise."""
    started = time.monotonic()
    home = prepare_home(options.home)
    try:
        code = await _play(home, options, console)
    finally:
        if options.home is None and not options.keep:
            shutil.rmtree(home, ignore_errors=True)
        else:
            console.print(Text(f"The demo's home is kept at {home}", "dim"))
    took = time.monotonic() - started
    console.print(Text(f"hoist demo took {took:.1f} s", "dim"))
    return code


def prepare_home(home: Path | None) -> Path:
    """A temp folder, or the given one if it is new or empty (the demo fills it from scratch)."""
    if home is None:
        return Path(tempfile.mkdtemp(prefix="hoist-demo-"))
    home = home.expanduser().absolute()
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise UsageError(f"--home {home} must be a new or empty folder")
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home


async def _play(home: Path, options: DemoOptions, console: Console) -> int:
    try:
        async with AsyncExitStack() as stack:
            began = time.monotonic()
            sandbox = await build_sandbox(home, stack)
            introduce(console, sandbox, time.monotonic() - began)
            if options.interactive:
                await play_interactively(sandbox, console)
                return 0
            story = Story(sandbox, console)
            await story.play()
    except CheckFailed as failed:
        console.print()
        console.print(Text(f"✗ check failed: {failed.what}", "bold red"))
        console.print(Text(f"  expected: {failed.expected}"))
        console.print(Text(f"  happened: {failed.happened}"))
        return 1
    except HoistError as error:
        console.print(Text(f"✗ the demo could not run: {error}", "bold red"))
        return 1
    console.print()
    console.print(Text(f"✓ all {story.checks} checks passed in {story.steps} steps", "bold green"))
    return 0


def introduce(console: Console, sandbox: Sandbox, took: float) -> None:
    """What was set up, in a few lines."""
    console.rule(Text("Hoist demo", "bold"), align="left")
    console.print(
        "The real bot, three SSH servers and a stand-in for Slack, all on this machine.",
        markup=False,
    )
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for label, value in setup_facts(sandbox):
        grid.add_row(label, value)
    grid.add_row("", Text(f"set up in {took:.1f} s", "dim"))
    console.print(indent(grid))


def setup_facts(sandbox: Sandbox) -> list[tuple[str, str | Text]]:
    disks = Text(sandbox.isolation_note, "yellow")
    if sandbox.isolated:
        disks = Text(
            f"each server has its own root, {sandbox.home}/hosts/<name>, at {sandbox.data}"
        )
    return [
        ("home", f"{sandbox.home} (SQLite, a generated secret)"),
        ("repository", f"{sandbox.repo} (a small web app, tags v1.0 and v1.1)"),
        ("servers", ", ".join(f"{n} (127.0.0.1:{h.port})" for n, h in sandbox.hosts.items())),
        (
            "inventory",
            f"project shop → {CHANNEL_NAME}; env test (no approvals), "
            "prod (2 approvals from @reviewers: bob, carol)",
        ),
        ("disks", disks),
        ("slack", f"stand-in API {sandbox.fake.url}, bot at {sandbox.bot.events_url}"),
    ]
