"""The Web API half of the stand-in: an aiohttp server that answers like slack.com/api.

Every request is recorded as a `Call` before it is judged, then judged in Slack's order:
outage, injected failure, token, rate limit, the method itself. Waiters on `wait_for` are woken
after each request, so tests wait for what the bot did instead of sleeping.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

from aiohttp import web

from bot.sandbox.limits import Clock, MessageRate, RateLimiter
from bot.sandbox.state import Call, Ephemeral, Message, SlackState, StandInError
from bot.sandbox.views import View, ViewStore
from bot.sandbox.web_api import Api, call, rate_key, respond
from bot.sandbox.workspace import JSON, Workspace

__all__ = ["WebApiServer"]

T = TypeVar("T")
Outage = Literal["503", "drop"]
SLACK_MESSAGE_RATE = MessageRate()
_OUTAGE_PAGE = "<html><body><h1>503 Service Unavailable</h1></body></html>"


@dataclass
class _Failure:
    status: int
    error: str | None
    left: int
    retry_after: int | None


@dataclass(frozen=True)
class _Answer:
    status: int
    body: JSON | None
    headers: dict[str, str]


_BAD_JSON = _Answer(200, {"ok": False, "error": "invalid_json"}, {})


class WebApiServer:
    """Slack's Web API and response URLs on 127.0.0.1, with state a test can read."""

    def __init__(
        self,
        *,
        token: str = "xoxb-hoist-sandbox",
        workspace: Workspace | None = None,
        clock: Clock = time.time,
        message_rate: MessageRate | None = SLACK_MESSAGE_RATE,
    ) -> None:
        self.token = token
        self.workspace = workspace if workspace is not None else Workspace.sample()
        self.clock = clock
        self.state = SlackState(self.workspace, clock)
        self.views = ViewStore(self.state)
        self._api = Api(self.state, self.views)
        self.limiter = None if message_rate is None else RateLimiter(message_rate, clock)
        self._failures: dict[str, list[_Failure]] = {}
        self._outage: Outage | None = None
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._web_api)
        app.router.add_post("/hooks/{kind}/{team}/{hook}", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root(self) -> str:
        if not self._port:
            raise StandInError("The stand-in Slack is not started.")
        return f"http://127.0.0.1:{self._port}/"

    @property
    def url(self) -> str:
        """The Web API base URL: SLACK_API_URL, or `AsyncWebClient(base_url=...)`."""
        return self.root + "api/"

    # -- failures on demand ------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        count: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """Make the next `count` calls of `method` ("*" for any) fail.

        With `error`, Slack's `{"ok": false, "error": error}` at `status` (default 200).
        Without, an HTTP error page at `status` (default 500), as when Slack itself breaks;
        a 429 carries `Retry-After: retry_after` (default 1) and the body `ratelimited`.
        """
        status = status if status is not None else (200 if error else 500)
        if status == 429:
            error, retry_after = error or "ratelimited", retry_after or 1
        failure = _Failure(status, error, count, retry_after)
        self._failures.setdefault(method, []).append(failure)

    def down(self, mode: Outage = "503") -> None:
        """Take Slack down: every request answers 503, or (`"drop"`) loses its connection."""
        self._outage = mode

    def up(self) -> None:
        self._outage = None

    # -- what happened ---------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Requests received in order (`method` "response_url" for response URL posts)."""
        return [c for c in self.state.calls if method is None or c.method == method]

    def channel_id(self, ref: str) -> str:
        """The id of a channel named by id, `#name` or user id (their DM with the bot)."""
        channel = self.workspace.find_channel(ref)
        return ref if channel is None else channel.id

    def messages(self, channel: str) -> list[Message]:
        """The channel's top-level messages, oldest first (replies are on `replies`)."""
        stored = self.state.channels.get(self.channel_id(channel), {}).values()
        return [m for m in stored if m.thread_ts is None and not m.deleted]

    def message(self, channel: str, ts: str) -> Message:
        """A message or reply by its ts (deleted ones too, flagged)."""
        found = self.state.channels.get(self.channel_id(channel), {}).get(ts)
        if found is None:
            raise StandInError(f"No message {ts} in {channel}.")
        return found

    def replies(self, channel: str, thread_ts: str) -> list[Message]:
        parent = self.message(channel, thread_ts)
        return [self.message(channel, ts) for ts in parent.replies]

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[Ephemeral]:
        """Ephemeral messages still shown, from any source, oldest first."""
        where = None if channel is None else self.channel_id(channel)
        return [
            e
            for e in self.state.ephemerals
            if not e.deleted and user in (None, e.user) and where in (None, e.channel)
        ]

    def view(self, view_id: str) -> View:
        if view_id not in self.views.all:
            raise StandInError(f"No view {view_id}.")
        return self.views.all[view_id]

    def modals(self, user: str) -> list[View]:
        """The user's open modals, root first."""
        return self.views.stack(user)

    def home(self, user: str) -> View | None:
        """The App Home view last published for the user."""
        return self.views.home(user)

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:
        """Wait until `predicate()` is truthy, re-checked after every request; return it."""
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    return cast(T, await self._changed.wait_for(predicate))
            except TimeoutError:
                recent = [(c.method, c.status, c.error) for c in self.state.calls[-5:]]
                raise TimeoutError(f"Still false after {timeout}s; last calls: {recent}") from None

    async def wait_for_call(
        self, method: str, where: Callable[[Call], bool] | None = None, timeout: float = 5.0
    ) -> Call:
        """The first recorded call of `method` (matching `where`), waiting for it if need be."""

        def found() -> Call | None:
            return next((c for c in self.calls(method) if where is None or where(c)), None)

        return await self.wait_for(found, timeout)

    async def changed(self) -> None:
        """Wake everything waiting in `wait_for`."""
        async with self._changed:
            self._changed.notify_all()

    # -- HTTP ------------------------------------------------------------------------------

    async def _web_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            params: JSON | None = await _params(request)
        except ValueError:  # a JSON body that does not parse
            params = None
        record = Call(method, params or {}, self.clock())
        self.state.calls.append(record)
        try:
            if params is None:
                return self._reply(request, record, _BAD_JSON)
            token = _bearer(request) or str(params.pop("token", "") or "")
            return self._reply(request, record, self._judge(method, params, token))
        finally:
            await self.changed()

    async def _hook(self, request: web.Request) -> web.StreamResponse:
        body = await _params(request)
        if "payload" in body:  # incoming-webhook style form posts
            body = json.loads(str(body.pop("payload")))
        record = Call("response_url", body, self.clock())
        self.state.calls.append(record)
        try:
            answer = self._outage_answer() or _Answer(200, None, {})
            if answer.status == 200:
                result = respond(self._api, request.match_info["hook"], body)
                answer = _Answer(200 if result["ok"] else 404, result, {})
            return self._reply(request, record, answer)
        finally:
            await self.changed()

    def _reply(self, request: web.Request, record: Call, answer: _Answer) -> web.StreamResponse:
        record.status, record.response = answer.status, answer.body
        if answer.status == 0 and request.transport is not None:
            request.transport.close()  # "drop": the client sees the connection go away
        if answer.body is None:
            return web.Response(
                status=answer.status or 503, text=_OUTAGE_PAGE, content_type="text/html"
            )
        return web.json_response(answer.body, status=answer.status, headers=answer.headers)

    def _judge(self, method: str, params: JSON, token: str) -> _Answer:
        """Slack's answer to one Web API call, in the order Slack checks things."""
        early = self._outage_answer() or self._injected(method)
        if early is not None:
            return early
        if not token or token != self.token:
            return _Answer(
                200, {"ok": False, "error": "invalid_auth" if token else "not_authed"}, {}
            )
        key = rate_key(self._api, method, params)
        wait = None if key is None or self.limiter is None else self.limiter.acquire(key)
        if wait is not None:
            return _Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})
        return _Answer(200, call(self._api, method, params), {})

    def _outage_answer(self) -> _Answer | None:
        if self._outage is None:
            return None
        return _Answer(0 if self._outage == "drop" else 503, None, {})

    def _injected(self, method: str) -> _Answer | None:
        queue = self._failures.get(method) or self._failures.get("*")
        if not queue:
            return None
        failure = queue[0]
        failure.left -= 1
        if failure.left <= 0:
            queue.pop(0)
        headers = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
        body = None if failure.error is None else {"ok": False, "error": failure.error}
        return _Answer(failure.status, body, headers)


def _bearer(request: web.Request) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


async def _params(request: web.Request) -> JSON:
    """Query string and body merged, whether the body is a form or JSON, as Slack accepts."""
    params: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        params.update(body if isinstance(body, dict) else {})
    else:
        params.update({k: str(v) for k, v in (await request.post()).items()})
    return params
