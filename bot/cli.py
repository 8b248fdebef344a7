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


def main() -> None:
    """Run the `hoist` command."""
    cli()
