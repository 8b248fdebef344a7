"""The engine's event stream: every stored state change, then published to observers.

Publishing never waits: each subscriber has its own queue. Status events are always kept;
log lines beyond a subscriber's backlog are dropped (and counted), since a slow observer must
never slow a deploy, and the full output is in the database anyway.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from core.engine.summary import NodeFacts
from core.status import NodeStatus, Stage, TaskStatus


@dataclass(frozen=True)
class TaskChanged:
    task_id: int
    status: TaskStatus


@dataclass(frozen=True)
class NodeChanged:
    task_id: int
    node_id: int
    stage: Stage
    server: str
    status: NodeStatus
    exit_status: int | None = None
    error: str = ""
    seconds: float | None = None
    bytes_sent: int = 0
    files_sent: int = 0
    transfer: str = ""

    def facts(self) -> NodeFacts:
        """What the summaries read of the node, as it is now."""
        return NodeFacts(
            str(self.stage),
            self.server,
            str(self.status),
            self.seconds,
            self.bytes_sent,
            self.files_sent,
            self.transfer,
        )


@dataclass(frozen=True)
class LogLine:
    task_id: int
    node_id: int
    stage: Stage
    server: str
    line: str


Event = TaskChanged | NodeChanged | LogLine


class Subscription:
    """One observer's queue of events."""

    def __init__(self, bus: EventBus, task_id: int | None, max_log_backlog: int) -> None:
        self._bus = bus
        self.task_id = task_id
        self._events: deque[Event] = deque()
        self._logs_queued = 0
        self._max_logs = max_log_backlog
        self._ready = asyncio.Event()
        self.dropped_lines = 0
        self.closed = False

    def offer(self, event: Event) -> None:
        if self.task_id is not None and event.task_id != self.task_id:
            return
        if isinstance(event, LogLine):
            if self._logs_queued >= self._max_logs:
                self.dropped_lines += 1
                return
            self._logs_queued += 1
        self._events.append(event)
        self._ready.set()

    async def get(self) -> Event:
        """The next event, waiting for one."""
        while not self._events:
            self._ready.clear()
            await self._ready.wait()
        event = self._events.popleft()
        if isinstance(event, LogLine):
            self._logs_queued -= 1
        return event

    @property
    def pending(self) -> int:
        """Events waiting to be read."""
        return len(self._events)

    def get_nowait(self) -> Event | None:
        if not self._events:
            return None
        event = self._events.popleft()
        if isinstance(event, LogLine):
            self._logs_queued -= 1
        return event

    def close(self) -> None:
        self.closed = True
        self._bus.unsubscribe(self)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self.get()


class EventBus:
    """In-process fan-out of engine events to any number of subscribers."""

    def __init__(self) -> None:
        self._subscribers: list[Subscription] = []

    def subscribe(self, task_id: int | None = None, *, max_log_backlog: int = 1000) -> Subscription:
        """Follow every task, or one."""
        subscription = Subscription(self, task_id, max_log_backlog)
        self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)

    def publish(self, event: Event) -> None:
        """Hand `event` to every subscriber; never blocks."""
        for subscription in list(self._subscribers):
            subscription.offer(event)
