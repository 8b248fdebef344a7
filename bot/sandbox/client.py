"""How the stand-in Slack reaches the bot: signed HTTP POSTs, answered with a `BotReply`.

The bot's own Web API client is the bot's business; this is the other direction, Slack calling
the app's request URL, kept apart so `FakeSlack` only decides what to send.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.sandbox.signing import sign
from bot.sandbox.state import StandInError

__all__ = ["BotReply", "SlackSender"]

FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


@dataclass(frozen=True)
class BotReply:
    """What the bot answered: its HTTP status and body (Bolt's `ack(...)` content)."""

    status: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def data(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError:
            return None


class SlackSender:
    """Posts signed requests to one bot URL, as Slack does: fresh timestamp, exact bytes."""

    def __init__(
        self,
        url: str,
        signing_secret: str,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self.clock = clock
        """Signing time: the bot checks it against its own clock, so this stays real time."""
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def post(self, body: bytes, content_type: str = FORM) -> BotReply:
        """Sign `body` and POST it to the bot; a bot that cannot be reached raises."""
        headers = {"Content-Type": content_type, "User-Agent": USER_AGENT}
        headers |= sign(self.signing_secret, body, int(self.clock()))
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(self.url, data=body, headers=headers) as response:
                return BotReply(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise StandInError(f"The bot at {self.url} did not answer: {exc!r}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
