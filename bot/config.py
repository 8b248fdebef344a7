"""The bot's settings, from the environment, with errors that say where to find each value."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from core.errors import UsageError

WHERE = {
    "SLACK_BOT_TOKEN": "your Slack app's page → OAuth & Permissions → Bot User OAuth Token "
    "(starts with xoxb-)",
    "SLACK_SIGNING_SECRET": "your Slack app's page → Basic Information → App Credentials → "
    "Signing Secret",
    "SLACK_APP_TOKEN": "your Slack app's page → Basic Information → App-Level Tokens "
    "(starts with xapp-, scope connections:write)",
}

_NOT_IN_LINKS = '<>|"\\`^{}'
"""Characters that would break a Slack link (`<url|text>`) or need quoting in a URL."""


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
        """Read SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN and SLACK_API_URL;
        `public_url` is checked (see `check_public_url`)."""
        env = os.environ if env is None else env
        public_url = check_public_url(public_url) if public_url else None
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


def check_public_url(url: str) -> str:
    """`--public-url` as the base of page links (`https://hoist.example.com/base`, no trailing
    slash); a UsageError saying what is wrong when it is not an http(s) URL without a query."""
    url = url.strip()
    if any(c.isspace() or not c.isprintable() or c in _NOT_IN_LINKS for c in url):
        raise UsageError(
            f"--public-url {url!r} is not a URL: it holds spaces or one of {_NOT_IN_LINKS}"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError as exc:
        raise UsageError(f"--public-url `{url}` is not a URL: {exc}") from exc
    if parts.username is not None or parts.password is not None:
        raise UsageError("--public-url must not hold a user name or password")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--public-url `{url}` must be an http:// or https:// URL with a host, "
            "such as https://hoist.example.com"
        )
    if "?" in url or "#" in url:
        raise UsageError(
            f"--public-url `{url}` must not have a query or fragment: Hoist adds the page's "
            "path and its signed token"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def listening_url(host: str, port: int) -> str:
    """The bot's own address as a link base, when no public URL is set: an address that
    means "every interface" becomes loopback, which works on this machine only."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
