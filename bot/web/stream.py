"""One page's server-sent events: the task's state on connect and on every change, live lines.

Changes come from the engine's bus in this process; the task is also re-read every
`poll_seconds`, so a task another process runs updates too (its lines stay in that process).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.web.redact import LineRedactor
from bot.web.state import node_key, task_state
from core.engine.events import Event, LogLine, Subscription

if TYPE_CHECKING:
    from bot.web.routes import TaskPages


class _Closed(Exception):
    """The client went away, the link expired or the server is stopping."""


def sse(event: str, data: str) -> bytes:
    """One server-sent event; `data` is one line of JSON."""
    return f"event: {event}\ndata: {data}\n\n".encode()


class EventStream:
    """Feeds one open event stream until the client leaves or the server stops."""

    def __init__(
        self,
        response: web.StreamResponse,
        subscription: Subscription,
        source: TaskPages,
        still_allowed: Callable[[], bool],
    ) -> None:
        self._response = response
        self._subscription = subscription
        self._source = source
        self._still_allowed = still_allowed
        self._redactor = LineRedactor()
        self._last = ""

    async def run(self, state: dict[str, Any]) -> None:
        try:
            await self._send_state(state)
            while True:
                event = await self._next()
                changed = event is None  # the poll: re-read, whatever happened elsewhere
                while event is not None:
                    if isinstance(event, LogLine):
                        await self._send_line(event)
                    else:
                        changed = True
                    event = self._subscription.get_nowait()
                if changed:
                    await self._refresh()
        except (_Closed, ConnectionResetError):
            return

    async def _next(self) -> Event | None:
        """The next event, or None when `poll_seconds` pass without one."""
        getter = asyncio.ensure_future(self._subscription.get())
        closing = asyncio.ensure_future(self._source.closing.wait())
        await asyncio.wait(
            {getter, closing},
            timeout=self._source.poll_seconds,
            return_when=asyncio.FIRST_COMPLETED,
        )
        for waiter in (getter, closing):
            waiter.cancel()
        await asyncio.gather(getter, closing, return_exceptions=True)
        if self._source.closing.is_set() or not self._still_allowed():
            raise _Closed()
        if getter.cancelled():
            return None
        return getter.result()

    async def _refresh(self) -> None:
        state = await task_state(self._subscription.task_id or 0)
        if state is None:
            raise _Closed()
        await self._send_state(state)

    async def _send_state(self, state: dict[str, Any]) -> None:
        text = json.dumps(state, separators=(",", ":"))
        if text == self._last:
            await self._response.write(b": unchanged\n\n")  # finds a client that has left
            return
        self._last = text
        await self._response.write(sse("state", text))

    async def _send_line(self, event: LogLine) -> None:
        line = self._redactor.line(event.node_id, event.line)
        if line is None:
            return
        data = {
            "node": event.node_id,
            "key": node_key(str(event.stage), event.server),
            "line": line,
        }
        await self._response.write(sse("log", json.dumps(data, separators=(",", ":"))))
