"""Warm SSH connections kept open between tasks by a long-running Hoist (`hoist serve`).

The pool holds at most one connection per server, keyed by the server's name and checked
against everything that identifies the login: address, port, user, key, pinned host key and
the bastion chain (`Login`). A task whose inventory says anything else gets a new connection,
dialed with the new facts, so a changed pinned host key is checked by a fresh handshake and
never bypassed by an old connection. A connection found closed or lost is replaced, and one
reported broken by a task (`discard`) is never handed out again.

A connection may serve several tasks at once (SSH multiplexes sessions); it is closed when it
is given up (replaced, evicted, idle for `idle_seconds`) and no task holds it any more.
Beyond `max_size`, the least recently used connections that no task holds are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from core.transport.ssh import ConnectError, Connection, ConnectOptions, Target, connect

log = logging.getLogger(__name__)

REAP_EVERY_MAX = 60.0
"""The longest wait between two looks for idle connections, in seconds."""


@dataclass(frozen=True)
class Login:
    """What identifies a login to a server: its Target, with the private key as a digest."""

    name: str
    address: str
    port: int
    user: str
    key_digest: str
    host_key: str | None
    jump: Login | None

    @classmethod
    def of(cls, target: Target) -> Login:
        """The login `target` makes (no copy of its private key is kept)."""
        digest = hashlib.sha256(target.private_key.encode()).hexdigest()
        jump = cls.of(target.jump) if target.jump is not None else None
        return cls(
            target.name, target.address, target.port, target.user, digest, target.host_key, jump
        )


_FACTS = {
    "address": "address",
    "port": "port",
    "user": "user",
    "key_digest": "key",
    "host_key": "pinned host key",
    "jump": "jump host",
}


def changes(old: Login, new: Login) -> list[str]:
    """What differs between two logins to one server, in words (for the log)."""
    return [words for name, words in _FACTS.items() if getattr(old, name) != getattr(new, name)]


@dataclass(eq=False)
class _Slot:
    """One pooled connection and how many holders it has."""

    login: Login
    connection: Connection
    users: int
    last_used: float
    retired: bool = False


@dataclass(eq=False)
class _Waiters:
    """How many acquirers wait for a connection being opened (each will hold it)."""

    count: int = 0


class ConnectionPool:
    """Authenticated connections to recently used servers, reused by the next task."""

    def __init__(
        self,
        options: ConnectOptions,
        *,
        max_size: int = 200,
        idle_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.max_size = max_size
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._slots: OrderedDict[str, _Slot] = OrderedDict()  # least recently used first
        self._held: dict[Connection, _Slot] = {}  # every connection handed out and not closed
        self._dialing: dict[tuple[str, Login], tuple[asyncio.Task[_Slot], _Waiters]] = {}
        self._reaper: asyncio.Task[None] | None = None
        self._closed = False
        self.dials = 0
        """Connections dialed (attempts, failed ones too)."""
        self.reused = 0
        """Acquires served by a pooled connection."""
        self.replaced = 0
        """Pooled connections given up because they were lost, broken or their login changed."""
        self.evicted = 0
        """Connections closed because the pool was full."""
        self.expired = 0
        """Connections closed after `idle_seconds` unused."""

    @property
    def size(self) -> int:
        """How many connections the pool keeps (held by tasks or idle)."""
        return len(self._slots)

    def pooled(self, name: str) -> Connection | None:
        """The connection kept for server `name`, if any."""
        slot = self._slots.get(name)
        return slot.connection if slot is not None else None

    async def acquire(self, target: Target) -> Connection:
        """A live connection to `target`: the pooled one when its login is the same, else a
        new one (a failure is a ConnectError, and is not remembered). Give it back with
        `release`, or with `discard` when it proved broken."""
        if self._closed:
            raise ConnectError(f"cannot connect to `{target.name}`: Hoist is stopping")
        self._start_reaper()
        login = Login.of(target)
        slot = await self._live(target.name, login)
        if slot is None:
            slot = await self._join_dial(target, login)
        else:
            self.reused += 1
            slot.users += 1
            log.debug("reusing the pooled connection to %s", target.name)
        self._touch(target.name, slot)
        return slot.connection

    async def release(self, connection: Connection) -> None:
        """Give back a connection from `acquire`; it stays open for the next task."""
        slot = self._held.get(connection)
        if slot is None:
            return  # the pool was closed meanwhile
        slot.users -= 1
        self._touch(connection.target.name, slot)
        if slot.retired or connection.closed:
            await self._give_up(connection.target.name, slot, "it was closed or lost")
        else:
            await self._evict()

    async def discard(self, connection: Connection, why: str) -> None:
        """Give back a connection that proved broken: it is never handed out again."""
        slot = self._held.get(connection)
        if slot is None:
            await connection.close()
            return
        slot.users -= 1
        await self._give_up(connection.target.name, slot, why, logging.DEBUG)  # the task logs it

    async def reap_idle(self, now: float | None = None) -> list[str]:
        """Close the connections no task held for `idle_seconds` (and those found lost);
        returns their servers' names. The reaper calls this; tests pass `now`."""
        now = self._clock() if now is None else now
        idle = [
            (name, slot)
            for name, slot in self._slots.items()
            if slot.users == 0
            and (now - slot.last_used >= self.idle_seconds or slot.connection.closed)
        ]
        for name, slot in idle:
            log.debug("closing the connection to %s: unused for %.0f s", name, now - slot.last_used)
            await self._give_up(name, slot, None)
        self.expired += len(idle)
        return [name for name, _ in idle]

    async def close(self) -> None:
        """Close every connection, stop those being opened and the reaper; safe to call twice."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        dials = [task for task, _ in self._dialing.values()]
        for task in dials:
            task.cancel()
        await asyncio.gather(*dials, return_exceptions=True)
        connections = list(self._held)
        self._slots.clear()
        self._held.clear()
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)

    async def _live(self, name: str, login: Login) -> _Slot | None:
        """The pooled slot for `name` if it is usable for `login`; else it is given up."""
        slot = self._slots.get(name)
        if slot is None:
            return None
        if slot.login == login and not slot.connection.closed:
            return slot
        if slot.login != login:
            why = "the inventory changed its " + ", ".join(changes(slot.login, login))
        else:
            why = "it was closed or lost"
        await self._give_up(name, slot, why)
        return None

    async def _join_dial(self, target: Target, login: Login) -> _Slot:
        """Wait for the dial of this login (starting it if none runs); held once by each
        waiter. A cancelled waiter gives its hold back."""
        key = (target.name, login)
        if key not in self._dialing:
            waiting = _Waiters()
            self._dialing[key] = (asyncio.create_task(self._dial(target, login, waiting)), waiting)
        task, waiting = self._dialing[key]
        waiting.count += 1
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done():
                waiting.count -= 1
            elif not task.cancelled() and task.exception() is None:
                await self.release(task.result().connection)
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            raise ConnectError(f"cannot connect to `{target.name}`: Hoist is stopping") from None

    async def _dial(self, target: Target, login: Login, waiting: _Waiters) -> _Slot:
        self.dials += 1
        try:
            connection = await connect(target, self.options)
        finally:
            del self._dialing[(target.name, login)]  # a failure is not remembered
        if self._closed:
            await connection.close()
            raise ConnectError(f"cannot connect to `{target.name}`: Hoist is stopping")
        slot = _Slot(login, connection, waiting.count, self._clock())
        old = self._slots.pop(target.name, None)
        self._slots[target.name] = slot
        self._held[connection] = slot
        if old is not None:
            await self._give_up(target.name, old, "a newer connection replaced it")
        await self._evict()
        log.debug("opened a pooled connection to %s", target.name)
        return slot

    def _touch(self, name: str, slot: _Slot) -> None:
        slot.last_used = self._clock()
        if self._slots.get(name) is slot:
            self._slots.move_to_end(name)

    async def _evict(self) -> None:
        """Close the least recently used connections no task holds, down to `max_size`."""
        excess = len(self._slots) - self.max_size
        if excess <= 0:
            return
        spare = [(n, s) for n, s in self._slots.items() if s.users == 0][:excess]
        for name, slot in spare:
            log.debug("closing the connection to %s: the pool keeps %d", name, self.max_size)
            await self._give_up(name, slot, None)
        self.evicted += len(spare)

    async def _give_up(
        self, name: str, slot: _Slot, why: str | None, level: int = logging.INFO
    ) -> None:
        """Take `slot` out of the pool (counted as replaced, and logged, when `why` is
        given); close its connection once no task holds it."""
        if self._slots.get(name) is slot:
            del self._slots[name]
            if why is not None:
                self.replaced += 1
                log.log(level, "dropping the pooled connection to %s: %s", name, why)
        slot.retired = True
        if slot.users <= 0 and self._held.pop(slot.connection, None) is not None:
            await slot.connection.close()

    def _start_reaper(self) -> None:
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._reap_forever())

    async def _reap_forever(self) -> None:
        every = min(max(self.idle_seconds / 2, 0.5), REAP_EVERY_MAX)
        while True:
            await asyncio.sleep(every)
            try:
                await self.reap_idle()
            except Exception:  # the reaper must outlive one bad close
                log.exception("closing idle SSH connections failed")
