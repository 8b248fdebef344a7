"""One SSH connection per server per task, opened early, reused by all its stages."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from core.engine.pool import ConnectionPool
from core.engine.targets import target_for
from core.secrets import SecretBox
from core.store.models import Server
from core.transport.ssh import Connection, ConnectOptions, connect

T = TypeVar("T")


class TaskConnections:
    """Opens each server's connection at most once; always closes them all."""

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
        """The server's connection (a failure to connect is raised here, as a HoistError)."""
        return await asyncio.shield(self._start(server))

    async def call(self, server: Server, op: Callable[[Connection], Awaitable[T]]) -> T:
        """Run `op` on the server's connection."""
        return await op(await self.get(server))

    def opened(self) -> list[Connection]:
        return [
            t.result()
            for t in self._opening.values()
            if t.done() and not t.cancelled() and t.exception() is None
        ]

    async def close(self) -> None:
        """Close every connection, and stop those still opening."""
        for task in self._opening.values():
            task.cancel()
        for task in self._opening.values():
            with contextlib.suppress(BaseException):
                connection = await task
                await connection.close()
        self._opening.clear()

    def _start(self, server: Server) -> asyncio.Task[Connection]:
        if server.name not in self._opening:
            self._opening[server.name] = asyncio.create_task(self._open(server))
        return self._opening[server.name]

    async def _open(self, server: Server) -> Connection:
        target = await target_for(server, self._box)
        return await connect(target, self._options)
