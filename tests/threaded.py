"""Local SSH hosts served from a background thread, for tests that drive the CLI (which runs
its own event loop in the test's thread)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from core.sandbox.ssh_host import LocalSSHHost, isolation_available

T = TypeVar("T")


class LoopThread:
    """An event loop running in its own thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@contextmanager
def threaded_hosts(
    names: list[str], public_key: str, tmp: Path
) -> Iterator[tuple[dict[str, LocalSSHHost], Path]]:
    """Started hosts (isolated roots under tmp/roots when possible) and the shared data path."""
    data = tmp / "data"
    data.mkdir(exist_ok=True)
    isolated = isolation_available() is None
    runner = LoopThread()
    hosts = {}
    try:
        for name in names:
            root = tmp / "roots" / name if isolated else None
            host = LocalSSHHost(public_key, name=name, root=root, mount_at=data if root else None)
            runner.call(host.start())
            hosts[name] = host
        yield hosts, data
    finally:
        for host in hosts.values():
            runner.call(host.stop())
        runner.close()
