"""A whole bot for tests: the real Bolt app on loopback, talking to the Slack stand-in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import BotSettings
from bot.demo.render import flatten
from bot.runtime import RunningBot, start_bot
from bot.sandbox import FakeSlack, MessageRate, Workspace
from core.config import Settings
from core.engine.recorder import Clock, utcnow
from core.secrets import SecretBox
from core.store.models import Environment, Project
from tests.fleet import Fleet, make_fleet

ALICE, BOB, CAROL, MALLORY = "U0ALICE00", "U0BOB0000", "U0CAROL00", "U0MALLORY"
SECRET = "signing-secret-for-tests"
CHANNEL = "C0DEPLOYS"


@dataclass
class Story:
    fleet: Fleet
    slack: FakeSlack
    running: RunningBot
    bot_settings: BotSettings

    async def restart(self, settings: Settings, clock: Clock = utcnow) -> None:
        """Stop the bot and start a new one on the same database (a restart)."""
        await self.running.stop()
        self.running = await start_bot(
            settings,
            self.bot_settings,
            port=0,
            min_update_interval=0.05,
            open_db=False,
            clock=clock,
        )
        self.slack.connect_bot(self.running.events_url, SECRET)

    async def settle(self) -> None:
        """Every run has come to rest and every message caught up."""
        await self.running.bot.wait_idle()

    def last_message(self) -> Any:
        return self.slack.messages(CHANNEL)[-1]

    async def message_where(self, test: Callable[[str], bool], ts: str | None = None) -> Any:
        """Wait until a task message's latest text (all its blocks) passes `test`."""

        def find() -> Any:
            for message in reversed(self.slack.messages(CHANNEL)):
                if (ts is None or message.ts == ts) and test(flatten(message.blocks)):
                    return message
            return None

        return await self.slack.wait_for(find, timeout=30)


async def start_story(
    settings: Settings,
    tmp: Path,
    *,
    rate: MessageRate | None = None,
    approvals: int = 2,
    clock: Clock = utcnow,
) -> Story:
    """Three hosts, project `shop` (channel #deploys) with `prod` reviewed by bob and carol."""
    assert settings.secret_key
    fleet = await make_fleet(tmp, ["web1", "web2", "web3"], box=SecretBox(settings.secret_key))
    await Project.filter(slug="shop").update(channel=CHANNEL)
    await Environment.filter(name="prod").update(
        approvals_required=approvals, reviewers=["S0REVIEWS"], templates_only=False
    )
    workspace = Workspace.sample()
    workspace.add_user(MALLORY, "mallory", "Mallory")
    slack = FakeSlack(
        workspace=workspace, message_rate=rate or MessageRate(50.0, 50), signing_secret=SECRET
    )
    await slack.start()
    bot_settings = BotSettings(bot_token=slack.token, signing_secret=SECRET, api_url=slack.url)
    running = await start_bot(
        settings, bot_settings, port=0, min_update_interval=0.05, open_db=False, clock=clock
    )
    slack.connect_bot(running.events_url, SECRET)
    return Story(fleet, slack, running, bot_settings)


async def stop_story(story: Story) -> None:
    await story.running.stop()
    await story.slack.stop()
    for host in story.fleet.hosts.values():
        await host.stop()
