"""`FakeSlack`: a local Slack for Hoist's demo, its tests, and offline development.

It is the Web API the bot calls (`WebApiServer`: point `AsyncWebClient(base_url=fake.url)` at
it) and the Slack that calls the bot: given the bot's request URL and signing secret it sends
slash commands, button clicks, modal submissions, options loads and App Home events, signed
and encoded exactly as Slack sends them, and applies the bot's answers (a slash command's
reply, a submission's `response_action`) the way Slack would.

    async with FakeSlack(bot_url=events_url, signing_secret=secret) as slack:
        await slack.slash_command("U0ALICE00", "shop prod", "#deploys")
        msg = await slack.wait_for(lambda: next(iter(slack.messages("#deploys")), None))
        await slack.click("U0BOB0000", (msg.channel, msg.ts), "approve")
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, Self

from bot.sandbox import payloads
from bot.sandbox.client import FORM, JSON_TYPE, BotReply, SlackSender
from bot.sandbox.limits import Clock, MessageRate, view_errors
from bot.sandbox.server import SLACK_MESSAGE_RATE, WebApiServer
from bot.sandbox.state import ApiError, ResponseHook, StandInError
from bot.sandbox.views import View
from bot.sandbox.web_api import say
from bot.sandbox.workspace import JSON, Channel, Workspace

__all__ = ["FakeSlack"]


class FakeSlack(WebApiServer):
    """The stand-in Slack: Web API server plus the sender of signed requests to the bot."""

    def __init__(
        self,
        *,
        bot_url: str | None = None,
        signing_secret: str | None = None,
        ack_timeout: float = 3.0,
        token: str = "xoxb-hoist-sandbox",
        workspace: Workspace | None = None,
        clock: Clock = time.time,
        message_rate: MessageRate | None = SLACK_MESSAGE_RATE,
    ) -> None:
        """`clock` drives ts values, rate limits and trigger expiry; signing uses real time."""
        super().__init__(token=token, workspace=workspace, clock=clock, message_rate=message_rate)
        self._sender: SlackSender | None = None
        self.ack_timeout = ack_timeout
        """Slack gives up on an app that has not answered within three seconds."""
        if bot_url is not None and signing_secret is not None:
            self.connect_bot(bot_url, signing_secret)

    def connect_bot(self, url: str, signing_secret: str) -> None:
        """Where the bot listens (Bolt's one request URL, e.g. …/slack/events) and its secret.

        Calling it again re-points the stand-in, e.g. to send with a wrong secret.
        """
        if self._sender is None:
            self._sender = SlackSender(url, signing_secret, timeout=self.ack_timeout)
        self._sender.url, self._sender.signing_secret = url, signing_secret

    async def stop(self) -> None:
        if self._sender is not None:
            await self._sender.close()
        await super().stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def sender(self) -> SlackSender:
        if self._sender is None:
            raise StandInError("The stand-in Slack has no bot to talk to: call connect_bot().")
        return self._sender

    # -- a person using Slack ---------------------------------------------------------------

    async def slash_command(
        self, user: str, text: str = "", channel: str | None = None, command: str = "/deploy"
    ) -> BotReply:
        """`user` types `command text` in `channel` (default: the workspace's first channel)."""
        where = self._channel(channel)
        hook = self.state.issue_hook(where.id, user)
        form = payloads.command_form(
            self.workspace,
            user,
            where,
            command=command,
            text=text,
            response_url=self._hook_url("commands", hook),
            trigger_id=self.state.issue_trigger(user),
        )
        reply = await self._deliver(payloads.form_body(form))
        if reply.status == 200 and reply.body.strip():
            self._show_command_reply(where.id, user, reply)
        return reply

    async def click(
        self, user: str, message: tuple[str, str], action_id: str, value: str | None = None
    ) -> BotReply:
        """`user` clicks (or picks `value` in) the element `action_id` on a stored message.

        `message` is (channel, ts) of a message the bot posted or an ephemeral one it showed
        the user; `value` picks among several buttons with the same action_id.
        """
        where, ts = self._channel(message[0]), message[1]
        note = self.state.find_ephemeral(where.id, ts)
        if note is not None:
            blocks, shown = note.blocks, None
        else:
            stored = self.message(where.id, ts)
            blocks, shown = stored.blocks, stored.payload(self.workspace)
        block_id, element = payloads.find_element(blocks, action_id, value)
        hook = self.state.issue_hook(where.id, user, ts, ephemeral=note is not None)
        context: JSON = {
            "container": {"type": "message", "message_ts": ts, "channel_id": where.id}
            | {"is_ephemeral": note is not None},
            "channel": {"id": where.id, "name": where.name},
            "response_url": self._hook_url("actions", hook),
        }
        if shown is not None:
            context["message"] = shown | {"blocks": payloads.with_block_ids(blocks)}
        return await self._act(user, block_id, element, value, context)

    async def click_view(
        self, user: str, view_id: str, action_id: str, value: str | None = None
    ) -> BotReply:
        """`user` clicks an element in a modal or in their App Home."""
        view = self._open_view(view_id)
        block_id, element = payloads.find_element(view.blocks, action_id, value)
        if element.get("type") != "button":
            typed = payloads.selection(element, value)
            view.picked.setdefault(block_id, {})[action_id] = {"type": element.get("type")} | typed
        shown = view.payload(self.workspace, view.picked)
        shown |= {"blocks": payloads.with_block_ids(view.blocks)}
        context = {"container": {"type": "view", "view_id": view.id}, "view": shown}
        return await self._act(user, block_id, element, value, context)

    async def submit_view(
        self, user: str, view_id: str, values: dict[str, dict[str, Any]] | None = None
    ) -> BotReply:
        """`user` fills in the modal's inputs (block_id → action_id → value) and submits.

        The bot's answer is applied like Slack does: no `response_action` closes the modal,
        `errors` keeps it open with `View.errors` set, `update`/`push`/`clear` do just that.
        """
        view = self._open_view(view_id)
        given = {b: dict(actions) for b, actions in view.picked.items()}
        for block_id, actions in (values or {}).items():
            given.setdefault(block_id, {}).update(actions)
        filled = payloads.state_values(view.blocks, given)
        shown = view.payload(self.workspace, filled)
        trigger = self.state.issue_trigger(user)
        payload = payloads.view_submission(self.workspace, user, trigger, shown)
        reply = await self._deliver(payloads.payload_body(payload))
        if reply.status == 200:
            self._apply_submission_answer(view, reply.data)
            await self.changed()
        return reply

    async def block_suggestion(
        self, user: str, view_id: str, action_id: str, block_id: str, value: str
    ) -> JSON:
        """`user` types `value` into an external select; the options the bot offers."""
        view = self._open_view(view_id)
        shown = view.payload(self.workspace, view.picked)
        payload = payloads.block_suggestion(
            self.workspace, user, shown, (block_id, action_id), value
        )
        reply = await self._deliver(payloads.payload_body(payload))
        if reply.status != 200 or not isinstance(reply.data, dict):
            raise StandInError(
                f"The bot answered an options load with {reply.status}: {reply.text!r}"
            )
        return dict(reply.data)

    async def open_home(self, user: str) -> BotReply:
        """`user` opens the app's Home tab: an `app_home_opened` event."""
        dm = self._channel(user)
        home = self.views.home(user)
        shown = None if home is None else home.payload(self.workspace)
        envelope = payloads.app_home_opened(
            self.workspace, user, dm.id, shown, self.state.next_ts()
        )
        return await self._deliver(payloads.event_body(envelope), JSON_TYPE)

    # -- helpers -----------------------------------------------------------------------------

    async def _deliver(self, body: bytes, content_type: str = FORM) -> BotReply:
        try:
            return await self.sender.post(body, content_type)
        finally:
            await self.changed()

    async def _act(
        self, user: str, block_id: str, element: JSON, value: str | None, context: JSON
    ) -> BotReply:
        action = payloads.action(block_id, element, value, f"{self.clock():.6f}")
        trigger = self.state.issue_trigger(user)
        payload = payloads.block_actions(self.workspace, user, trigger, [action], **context)
        return await self._deliver(payloads.payload_body(payload))

    def _channel(self, ref: str | None) -> Channel:
        if ref is None:
            first = next((c for c in self.workspace.channels.values() if c.im_user is None), None)
            if first is None:
                raise StandInError("The workspace has no channels.")
            return first
        found = self.workspace.find_channel(ref)
        if found is None:
            raise StandInError(f"The workspace has no channel {ref}.")
        return found

    def _open_view(self, view_id: str) -> View:
        view = self.view(view_id)
        if not view.is_open:
            raise StandInError(f"View {view_id} is closed.")
        return view

    def _hook_url(self, kind: str, hook: ResponseHook) -> str:
        return f"{self.root}hooks/{kind}/{self.workspace.team_id}/{hook.id}"

    def _show_command_reply(self, channel: str, user: str, reply: BotReply) -> None:
        """A slash command's immediate answer: shown to the user, or in channel if asked."""
        data = reply.data
        body = data if isinstance(data, dict) else {"text": reply.text}
        try:
            say(self._api, channel, user, body, via="command_response")
        except ApiError as refused:
            raise StandInError(f"Slack would refuse the bot's answer: {refused.body()}") from None

    def _apply_submission_answer(self, view: View, data: Any) -> None:
        answer = data if isinstance(data, dict) else {}
        action = answer.get("response_action")
        if action == "errors":
            view.errors = dict(answer.get("errors", {}))
        elif action in ("update", "push"):
            spec = answer.get("view")
            problems = view_errors(spec)
            if problems or not isinstance(spec, dict):
                raise StandInError(f"Slack would refuse the bot's view: {problems}")
            if action == "update":
                self.views.update(view.id, None, spec, None)
            else:
                self.views.push(self.state.issue_trigger(view.user), spec)
        elif action == "clear":
            self.views.clear(view.user)
        else:
            self.views.close(view.id)
