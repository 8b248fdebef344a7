"""Warm SSH connections kept open between tasks by a long-running Hoist (`hoist serve`)."""

from __future__ import annotations

from core.transport.ssh import ConnectOptions


class ConnectionPool:
    """Authenticated connections to recently used servers, reused by the next task."""

    def __init__(
        self, options: ConnectOptions, *, max_size: int = 200, idle_seconds: float = 300.0
    ) -> None:
        self.options = options
        self.max_size = max_size
        self.idle_seconds = idle_seconds

    async def close(self) -> None:
        """Close every pooled connection."""
