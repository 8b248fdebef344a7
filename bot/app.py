"""Building the Bolt app: its Web API client (SLACK_API_URL honoured) and its listeners."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import actions, commands, home, modal_flow
from bot.config import BotSettings
from bot.hoist_bot import HoistBot

SLACK_API = "https://slack.com/api/"


def web_client(settings: BotSettings) -> AsyncWebClient:
    """The Web API client, pointed at Slack or at `SLACK_API_URL`."""
    return AsyncWebClient(token=settings.bot_token, base_url=settings.api_url or SLACK_API)


def build_app(settings: BotSettings, bot: HoistBot) -> AsyncApp:
    """The Bolt app with every Hoist listener registered."""
    app = AsyncApp(
        client=bot.client,
        signing_secret=settings.signing_secret or None,
        request_verification_enabled=not settings.socket_mode,
    )
    commands.register(app, bot)
    actions.register(app, bot)
    modal_flow.register(app, bot)
    home.register(app, bot)
    return app
