"""Keeping each task's Slack message in step with the engine, inside Slack's limits.

The engine publishes events; this observer marks a task's message dirty and one worker per
task redraws it from the database; calls are spaced `min_interval` apart per channel, across
tasks (Slack allows about one message update per second per channel). A 429 waits out its
Retry-After; any other failure, an outage included, is retried with backoff until the final
state is delivered. Nothing here can slow or fail a deploy: it only reads what the engine
already stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.engine.events import EventBus, LogLine, NodeChanged, Subscription, TaskChanged
from core.status import NodeStatus
from core.store.models import DeployTask

_log = logging.getLogger(__name__)

Render = Callable[[int], Awaitable[dict[str, Any]]]
Snippet = Callable[[int, int], Awaitable[dict[str, Any] | None]]
Sleep = Callable[[float], Awaitable[None]]
MAX_BACKOFF = 30.0


class Notifier:
    """Redraws task messages on engine events; posts log snippets to their threads."""

    def __init__(
        self,
        client: AsyncWebClient,
        bus: EventBus,
        render: Render,
        snippet: Snippet,
        *,
        min_interval: float = 1.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.bus = bus
        self.render = render
        self.snippet = snippet
        self.min_interval = min_interval
        self.sleep = sleep
        self.clock = clock
        self._gates: dict[str, asyncio.Lock] = {}
        self._next_call: dict[str, float] = {}
        self._dirty: set[int] = set()
        self._snippets: dict[int, list[int]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self.idle = asyncio.Event()
        self.idle.set()

    def start(self) -> None:
        self._subscription = self.bus.subscribe(max_log_backlog=0)
        self._listener = asyncio.create_task(self._listen(self._subscription))

    async def stop(self) -> None:
        """Deliver what is pending, then stop listening."""
        await self.idle.wait()
        if self._subscription is not None:
            self._subscription.close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    def touch(self, task_id: int) -> None:
        """Redraw a task's message soon (also for changes that are not engine events)."""
        self._dirty.add(task_id)
        if task_id not in self._workers:
            self.idle.clear()
            self._workers[task_id] = asyncio.create_task(self._work(task_id))

    async def _listen(self, subscription: Subscription) -> None:
        async for event in subscription:
            if isinstance(event, LogLine):
                continue
            if isinstance(event, NodeChanged) and event.status in (
                NodeStatus.FAILED,
                NodeStatus.SUCCEEDED,
            ):
                self._snippets.setdefault(event.task_id, []).append(event.node_id)
            if isinstance(event, NodeChanged | TaskChanged):
                self.touch(event.task_id)

    async def _work(self, task_id: int) -> None:
        try:
            while task_id in self._dirty or self._snippets.get(task_id):
                self._dirty.discard(task_id)
                await self._redraw(task_id)
                await self._post_snippets(task_id)
        except Exception:
            _log.exception("updating the message of task #%s failed", task_id)
        finally:
            del self._workers[task_id]
            if not self._workers:
                self.idle.set()

    async def _redraw(self, task_id: int) -> None:
        task = await DeployTask.get_or_none(id=task_id)
        if task is None or not task.slack_channel or not task.slack_ts:
            return
        payload = await self.render(task_id)
        await self._call("chat.update", channel=task.slack_channel, ts=task.slack_ts, **payload)

    async def _post_snippets(self, task_id: int) -> None:
        task = await DeployTask.get_or_none(id=task_id)
        nodes = self._snippets.pop(task_id, [])
        if task is None or not task.slack_channel or not task.slack_ts:
            return
        for node_id in nodes:
            payload = await self.snippet(task_id, node_id)
            if payload is not None:
                await self._call(
                    "chat.postMessage",
                    channel=task.slack_channel,
                    thread_ts=task.slack_ts,
                    **payload,
                )

    async def _call(self, method: str, **params: Any) -> None:
        """One message call per channel per `min_interval`, across all tasks in that channel
        (Slack's limit is per channel, not per message)."""
        channel = str(params.get("channel", ""))
        async with self._gates.setdefault(channel, asyncio.Lock()):
            wait = self._next_call.get(channel, 0.0) - self.clock()
            if wait > 0:
                await self.sleep(wait)
            await self._deliver(method, **params)
            self._next_call[channel] = self.clock() + self.min_interval

    async def _deliver(self, method: str, **params: Any) -> None:
        """Call Slack until it accepts: wait out 429s, back off on anything else."""
        backoff = 1.0
        while True:
            try:
                await self.client.api_call(method, json=params)
                return
            except SlackApiError as error:
                if error.response.status_code == 429:
                    retry_after = float(error.response.headers.get("Retry-After", 1))
                    await self.sleep(retry_after)
                    continue
                if error.response.status_code < 500:
                    _log.warning("Slack refused %s: %s", method, error.response.get("error"))
                    return
            except (TimeoutError, OSError, aiohttp.ClientError) as error:
                _log.warning("Slack unreachable for %s: %s", method, error)
            await self.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
