"""The bot's settings, from the environment, with errors that say where to find each value."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.errors import UsageError

WHERE = {
    "SLACK_BOT_TOKEN": "your Slack app's page → OAuth & Permissions → Bot User OAuth Token "
    "(starts with xoxb-)",
    "SLACK_SIGNING_SECRET": "your Slack app's page → Basic Information → App Credentials → "
    "Signing Secret",
    "SLACK_APP_TOKEN": "your Slack app's page → Basic Information → App-Level Tokens "
    "(starts with xapp-, scope connections:write)",
}


@dataclass(frozen=True)
class BotSettings:
    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str | None = None
    """Web API base URL (`SLACK_API_URL`): a stand-in or gateway instead of Slack."""
    public_url: str | None = None
    """Base URL of links Hoist puts in Slack (`hoist serve --public-url`)."""

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, public_url: str | None = None
    ) -> BotSettings:
        """Read SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN and SLACK_API_URL."""
        env = os.environ if env is None else env
        app_token = env.get("SLACK_APP_TOKEN") or None
        required = ["SLACK_BOT_TOKEN"] + ([] if app_token else ["SLACK_SIGNING_SECRET"])
        for name in required:
            if not env.get(name):
                raise UsageError(f"{name} is not set: find it at {WHERE[name]}")
        api_url = env.get("SLACK_API_URL") or None
        if api_url and not api_url.endswith("/"):
            api_url += "/"
        return cls(
            bot_token=env["SLACK_BOT_TOKEN"],
            signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
            app_token=app_token,
            api_url=api_url,
            public_url=public_url,
        )
