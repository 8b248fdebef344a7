"""Errors a newcomer meets read like help."""

import socket

import pytest
from aiohttp import web

from bot.config import BotSettings
from bot.serve import listen
from core.errors import HoistError, UsageError


def test_missing_slack_variables_name_the_variable_and_where_to_find_it():
    with pytest.raises(UsageError, match="SLACK_BOT_TOKEN is not set: find it at .*OAuth"):
        BotSettings.from_env({})
    with pytest.raises(UsageError, match="SLACK_SIGNING_SECRET is not set: .*Signing Secret"):
        BotSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"})


def test_socket_mode_needs_no_signing_secret_and_api_url_is_normalised():
    settings = BotSettings.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "SLACK_API_URL": "http://x/api"}
    )
    assert settings.socket_mode and settings.api_url == "http://x/api/"
    assert "xoxb" not in repr(settings)


async def test_a_port_in_use_says_which():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(HoistError, match=f"port {port} on 127.0.0.1 is already in use"):
            await listen(web.Application(), "127.0.0.1", port)
