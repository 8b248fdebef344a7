"""Fetching a server's host key to pin it (`hoist server add --scan`)."""

from __future__ import annotations

import asyncio

import asyncssh

from core.errors import HoistError
from core.keys import host_key_line


async def scan_host_key(address: str, port: int, *, timeout: float = 10.0) -> tuple[str, str]:
    """Connect once and return the server's (known_hosts line, SHA256 fingerprint)."""
    try:
        key = await asyncio.wait_for(asyncssh.get_server_host_key(address, port), timeout)
    except (TimeoutError, OSError, asyncssh.Error) as exc:
        raise HoistError(f"cannot reach {address}:{port} to read its host key: {exc}") from exc
    if key is None:
        raise HoistError(f"{address}:{port} offered no host key")
    return host_key_line(address, port, key), key.get_fingerprint("sha256")
