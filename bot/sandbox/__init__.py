"""A local Slack: the Web API Hoist calls and the Slack that calls Hoist, on loopback.

The demo runs Hoist against it, the tests drive Hoist through it, and a developer can point
`SLACK_API_URL` at `FakeSlack.url` to work on Hoist offline. Its rules (block and text sizes,
message rate per channel, trigger and response_url lifetimes) are Slack's, so what passes here
is what Slack accepts.
"""

from bot.sandbox.client import BotReply, SlackSender
from bot.sandbox.limits import ManualClock, MessageRate
from bot.sandbox.signing import sign
from bot.sandbox.slack_api import FakeSlack
from bot.sandbox.state import Call, Ephemeral, Message, StandInError, Version
from bot.sandbox.views import View
from bot.sandbox.workspace import Channel, User, UserGroup, Workspace

__all__ = [
    "BotReply",
    "Call",
    "Channel",
    "Ephemeral",
    "FakeSlack",
    "ManualClock",
    "Message",
    "MessageRate",
    "SlackSender",
    "StandInError",
    "User",
    "UserGroup",
    "Version",
    "View",
    "Workspace",
    "sign",
]
