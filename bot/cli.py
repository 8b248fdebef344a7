"""The `hoist` entry point: the core's commands, plus the ones that need the bot."""

from __future__ import annotations

import asyncio
import logging
import os

import click

from core.cli import cli
from core.cli.runtime import CliState, fail
from core.errors import HoistError, UsageError


@cli.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=3000, show_default=True, type=int)
@click.option(
    "--public-url",
    envvar="HOIST_PUBLIC_URL",
    help="Base URL of the links Hoist puts in Slack (release pages), as people reach this "
    "server: e.g. https://hoist.example.com. Default: http://HOST:PORT, this machine only.",
)
@click.option(
    "--reminder",
    envvar="HOIST_REMINDER_LEAD",
    default="15m",
    show_default=True,
    help="How long before a scheduled release the channel is reminded (e.g. 15m, 1h).",
)
@click.option(
    "--grace",
    envvar="HOIST_SCHEDULE_GRACE",
    default="10m",
    show_default=True,
    help="How late a scheduled release may still start after Hoist was down; later is missed.",
)
@click.option(
    "--shutdown-grace",
    envvar="HOIST_SHUTDOWN_GRACE",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds running stages get to finish on SIGTERM before they are interrupted.",
)
@click.option(
    "--pool-size",
    envvar="HOIST_POOL_SIZE",
    default=200,
    show_default=True,
    type=click.IntRange(min=0),
    help="SSH connections kept open between releases; beyond it the least recently used "
    "are closed.",
)
@click.option(
    "--pool-idle",
    envvar="HOIST_POOL_IDLE",
    default="5m",
    show_default=True,
    help="How long an SSH connection is kept open unused (seconds, or e.g. 90s, 5m, 1h).",
)
@click.pass_obj
def serve_command(
    state: CliState,
    host: str,
    port: int,
    public_url: str | None,
    reminder: str,
    grace: str,
    shutdown_grace: float,
    pool_size: int,
    pool_idle: str,
) -> None:
    """Run the Slack bot (HTTP mode; Socket Mode when SLACK_APP_TOKEN is set).

    SIGTERM (or Ctrl-C) stops it gracefully: no new requests, running stages get
    --shutdown-grace seconds, and whatever is left is marked interrupted, ready for Retry.
    While it runs, SSH connections to recently used servers stay open for the next release.
    """
    from bot.config import BotSettings, listening_url
    from bot.runtime import serve_forever
    from core.scheduling.due import Timing
    from core.scheduling.times import parse_duration

    logging.basicConfig(
        level=os.environ.get("HOIST_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("asyncssh", "apscheduler", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        idle = _seconds(pool_idle)
        if not public_url and port:
            public_url = listening_url(host, port)
        bot_settings = BotSettings.from_env(public_url=public_url)
        timing = Timing(reminder_lead=parse_duration(reminder), grace=parse_duration(grace))
        asyncio.run(
            serve_forever(
                state.settings,
                bot_settings,
                host,
                port,
                timing=timing,
                shutdown_grace=shutdown_grace,
                pool_size=pool_size,
                pool_idle=idle,
            )
        )
    except HoistError as error:
        fail(error)


def _seconds(text: str) -> float:
    """A plain count of seconds (`300`) or a duration (`90s`, `5m`, `1h`), in seconds."""
    from core.scheduling.times import parse_duration

    try:
        seconds = float(text)
    except ValueError:
        return parse_duration(text).total_seconds()
    if not 0 <= seconds < float("inf"):
        raise UsageError(f"`{text}` is not a duration: use e.g. 300, 90s or 5m")
    return seconds


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
