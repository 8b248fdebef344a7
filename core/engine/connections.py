"""One SSH connection per server per task, opened early, reused by all its stages.

With a pool (a long-running Hoist), a task takes each server's connection from the pool and
gives it back at the end; without one, it opens its own and closes them at the end. Either
way a connection found closed, or one that was gone before a command started, is replaced
once: nothing ran on it, so the command runs again on the new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from core.engine.pool import ConnectionPool
from core.engine.targets import target_for
from core.secrets import SecretBox
from core.store.models import Server
from core.transport.ssh import Connection, ConnectOptions, SessionNotStarted, Target, connect

T = TypeVar("T")

log = logging.getLogger(__name__)


class TaskConnections:
    """Opens (or borrows) each server's connection at most once, replaces a broken one, and
    always closes (or gives back) them all."""

    def __init__(
        self, box: SecretBox, options: ConnectOptions, pool: ConnectionPool | None = None
    ) -> None:
        self._box = box
        self._options = options
        self._pool = pool
        self._opening: dict[str, asyncio.Task[Connection]] = {}

    def warm(self, servers: Iterable[Server]) -> None:
        """Start opening connections now, so they are ready when packaging is done."""
        for server in servers:
            self._start(server)

    async def get(self, server: Server) -> Connection:
        """The server's connection, replaced first if it is known to be closed (a failure to
        connect is raised here, as a HoistError)."""
        connection = await asyncio.shield(self._start(server))
        if connection.closed:
            connection = await self._replace(server, connection, "it was closed or lost")
        return connection

    async def call(self, server: Server, op: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `op` (one remote command) on the server's connection. If the connection was
        gone before the command started, nothing ran: `op` runs once more on a new
        connection, and a second failure is raised."""
        connection = await self.get(server)
        try:
            return await op(connection)
        except SessionNotStarted as error:
            log.debug("%s: %s; running the command again", server.name, error)
            connection = await self._replace(server, connection, str(error))
        return await op(connection)

    def opened(self) -> list[Connection]:
        """The connections this task holds now."""
        return [c for t in self._opening.values() if (c := _result(t)) is not None]

    async def close(self) -> None:
        """Give every connection back to the pool (or close it), and stop those opening."""
        for task in self._opening.values():
            task.cancel()
        for task in self._opening.values():
            with contextlib.suppress(BaseException):
                await self._let_go(await task)
        self._opening.clear()

    def _start(self, server: Server) -> asyncio.Task[Connection]:
        if server.name not in self._opening:
            self._opening[server.name] = asyncio.create_task(self._open(server))
        return self._opening[server.name]

    async def _open(self, server: Server) -> Connection:
        return await self._connect(await target_for(server, self._box))

    async def _connect(self, target: Target) -> Connection:
        if self._pool is not None:
            return await self._pool.acquire(target)
        return await connect(target, self._options)

    async def _replace(self, server: Server, broken: Connection, why: str) -> Connection:
        """A new connection instead of `broken` (unless another stage replaced it already),
        to the same target as this task read it."""
        current = self._opening.get(server.name)
        if current is None or _result(current) is broken:
            log.info("replacing the connection to %s: %s", server.name, why)
            self._opening[server.name] = asyncio.create_task(self._reconnect(broken, why))
        return await asyncio.shield(self._opening[server.name])

    async def _reconnect(self, broken: Connection, why: str) -> Connection:
        if self._pool is not None:
            await self._pool.discard(broken, why)  # never handed out again
        else:
            await broken.close()
        return await self._connect(broken.target)

    async def _let_go(self, connection: Connection) -> None:
        if self._pool is not None:
            await self._pool.release(connection)
        else:
            await connection.close()


def _result(task: asyncio.Task[Connection]) -> Connection | None:
    """The connection a finished opening gave, or None."""
    if task.done() and not task.cancelled() and task.exception() is None:
        return task.result()
    return None
