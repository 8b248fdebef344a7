"""The `hoist` entry point: the core's commands, plus the ones that need the bot."""

from __future__ import annotations

import asyncio
import contextlib

import click

from core.cli import cli
from core.cli.runtime import CliState, fail
from core.errors import HoistError


@cli.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=3000, show_default=True, type=int)
@click.option("--public-url", help="Base URL of the links Hoist puts in Slack.")
@click.pass_obj
def serve_command(state: CliState, host: str, port: int, public_url: str | None) -> None:
    """Run the Slack bot (HTTP mode; Socket Mode when SLACK_APP_TOKEN is set)."""
    from bot.config import BotSettings
    from bot.runtime import serve_forever

    try:
        bot_settings = BotSettings.from_env(public_url=public_url)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_forever(state.settings, bot_settings, host, port))
    except HoistError as error:
        fail(error)


@cli.command("demo")
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    help="A new or empty folder to use as the demo's HOIST_HOME (kept). Default: a temp folder.",
)
@click.option("--keep", is_flag=True, help="Keep the temp home afterwards.")
@click.option(
    "--interactive",
    is_flag=True,
    help="After setup, act in the stand-in Slack yourself from a prompt instead of the script.",
)
def demo_command(home: str | None, keep: bool, interactive: bool) -> None:
    """Play a whole release story on the embedded defaults: exits 0 only if every check passed.

    The real bot, three local SSH servers and a stand-in for Slack: /deploy, two approvals, a
    release to three servers, a hook failing on one, Retry failed, and a rollback.
    """
    from bot.demo import main as demo_main

    try:
        code = demo_main(home, keep, interactive)
    except HoistError as error:
        fail(error)
    raise SystemExit(code)


def main() -> None:
    """Run the `hoist` command."""
    cli()
