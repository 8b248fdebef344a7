"""What the stand-in Slack remembers: messages and their versions, views, triggers, calls.

`SlackState` changes only through its methods, which refuse what Slack refuses by raising
`ApiError` with Slack's error code; the web layer turns that into `{"ok": false, ...}`.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.workspace import JSON, Workspace
from core.errors import HoistError

__all__ = [
    "ApiError",
    "Call",
    "Ephemeral",
    "Message",
    "ResponseHook",
    "SlackState",
    "StandInError",
    "Version",
]

TRIGGER_TTL = 3.0
"""Seconds a trigger_id stays valid: a bot must open its modal right after the click."""
HOOK_TTL = 30 * 60.0
HOOK_USES = 5
"""A response_url works five times within thirty minutes."""


class StandInError(HoistError):
    """The stand-in cannot do what a test asked (an unknown message, an unreachable bot)."""


class ApiError(Exception):
    """A Web API method refuses the call with Slack's error code (and optional messages)."""

    def __init__(self, error: str, *messages: str) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


@dataclass(frozen=True)
class Version:
    """One state of a message: as posted, then after each `chat.update`."""

    text: str
    blocks: list[JSON]
    at: float


@dataclass
class Message:
    """A message the bot posted; `text`/`blocks` are the latest, `versions` the history."""

    channel: str
    ts: str
    user: str
    text: str
    blocks: list[JSON]
    thread_ts: str | None = None
    versions: list[Version] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    deleted: bool = False

    def payload(self, ws: Workspace) -> JSON:
        """The message as Slack returns it (in API answers and interaction payloads)."""
        body: JSON = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts}
        body |= {"team": ws.team_id, "bot_id": ws.bot_id, "app_id": ws.app_id}
        if self.blocks:
            body["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts is not None:
            body |= {"thread_ts": self.thread_ts, "parent_user_id": ws.bot_user_id}
        elif self.replies:
            body |= {"thread_ts": self.ts, "reply_count": len(self.replies)}
            body["latest_reply"] = self.replies[-1]
        return body


@dataclass
class Ephemeral:
    """A message only `user` sees; `via` says how it came (`chat.postEphemeral`, a
    response_url, or the immediate answer to a slash command)."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JSON]
    via: str
    thread_ts: str | None = None
    deleted: bool = False


@dataclass
class Trigger:
    id: str
    user: str
    issued: float
    used: bool = False


@dataclass
class ResponseHook:
    """A response_url handed to the bot, bound to where the interaction happened."""

    id: str
    channel: str
    user: str
    message_ts: str | None
    ephemeral: bool
    issued: float
    uses: int = 0


@dataclass
class Call:
    """One request the stand-in received: a Web API method or `response_url`."""

    method: str
    params: JSON
    at: float
    status: int = 0
    response: JSON | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response and self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.response is None else self.response.get("error")


class SlackState:
    """Messages per channel, ephemerals, triggers and response URLs; views live in `views`."""

    def __init__(self, workspace: Workspace, clock: Callable[[], float]) -> None:
        self.ws = workspace
        self.clock = clock
        self.channels: dict[str, dict[str, Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.triggers: dict[str, Trigger] = {}
        self.hooks: dict[str, ResponseHook] = {}
        self.calls: list[Call] = []
        self._last_micros = 0
        self._serial = 0

    def next_ts(self) -> str:
        """A message ts: the clock in microseconds, strictly increasing like Slack's."""
        micros = max(int(self.clock() * 1_000_000), self._last_micros) + 100
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def new_id(self, prefix: str) -> str:
        """A Slack-looking id (`V0000001A`), unique within this stand-in."""
        self._serial += 1
        return f"{prefix}{self._serial:08X}"

    def message(self, channel: str, ts: str) -> Message:
        found = self.channels.get(channel, {}).get(ts)
        if found is None or found.deleted:
            raise ApiError("message_not_found")
        return found

    def post(
        self, channel: str, text: str, blocks: list[JSON], thread_ts: str | None = None
    ) -> Message:
        """Store a new bot message (a reply when `thread_ts` names a top-level message)."""
        if thread_ts is not None:
            parent = self.message(channel, thread_ts)
            thread_ts = parent.thread_ts or parent.ts
        ts = self.next_ts()
        msg = Message(channel, ts, self.ws.bot_user_id, text, blocks, thread_ts)
        msg.versions.append(Version(text, copy.deepcopy(blocks), self.clock()))
        self.channels.setdefault(channel, {})[ts] = msg
        if thread_ts is not None:
            self.channels[channel][thread_ts].replies.append(ts)
        return msg

    def update(self, channel: str, ts: str, text: str | None, blocks: list[JSON] | None) -> Message:
        """Change a message: what is left out (None) is kept, as `chat.update` does."""
        msg = self.message(channel, ts)
        if msg.user != self.ws.bot_user_id:
            raise ApiError("cant_update_message")
        msg.text = msg.text if text is None else text
        msg.blocks = msg.blocks if blocks is None else blocks
        msg.versions.append(Version(msg.text, copy.deepcopy(msg.blocks), self.clock()))
        return msg

    def post_ephemeral(
        self, channel: str, user: str, text: str, blocks: list[JSON], via: str, **extra: Any
    ) -> Ephemeral:
        ephemeral = Ephemeral(channel, user, self.next_ts(), text, blocks, via, **extra)
        self.ephemerals.append(ephemeral)
        return ephemeral

    def find_ephemeral(self, channel: str, ts: str) -> Ephemeral | None:
        return next((e for e in self.ephemerals if (e.channel, e.ts) == (channel, ts)), None)

    def issue_trigger(self, user: str) -> str:
        """A trigger_id for an interaction by `user`, good for one modal within 3 seconds."""
        now = self.clock()
        trigger = Trigger(f"{int(now)}.{self._serial + 1}.{secrets.token_hex(16)}", user, now)
        self._serial += 1
        self.triggers[trigger.id] = trigger
        return trigger.id

    def redeem_trigger(self, trigger_id: str | None) -> Trigger:
        """Use up a trigger_id; refuse unknown, reused and expired ones with Slack's codes."""
        trigger = self.triggers.get(trigger_id or "")
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if trigger.used:
            raise ApiError("exchanged_trigger_id")
        if self.clock() - trigger.issued > TRIGGER_TTL:
            raise ApiError("expired_trigger_id")
        trigger.used = True
        return trigger

    def issue_hook(
        self, channel: str, user: str, message_ts: str | None = None, ephemeral: bool = False
    ) -> ResponseHook:
        hook = ResponseHook(secrets.token_hex(12), channel, user, message_ts, ephemeral, 0.0)
        hook.issued = self.clock()
        self.hooks[hook.id] = hook
        return hook

    def use_hook(self, hook_id: str) -> ResponseHook:
        """Count one use of a response_url; refuse unknown, worn-out and expired ones."""
        hook = self.hooks.get(hook_id)
        if hook is None:
            raise ApiError("no_service")
        if hook.uses >= HOOK_USES:
            raise ApiError("used_url")
        if self.clock() - hook.issued > HOOK_TTL:
            raise ApiError("expired_url")
        hook.uses += 1
        return hook
