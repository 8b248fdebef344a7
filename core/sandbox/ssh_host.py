"""An SSH host on loopback: a real asyncssh server whose sessions run `bash -c <command>`.

`hoist demo` starts a few of these as its servers and the tests use the same class, so the
transport always meets the real protocol. Given a `root` and a `mount_at`, every command a host
runs sees `root` bind-mounted over `mount_at` (see `isolation`), so hosts configured with the
same absolute deploy path really are separate machines as far as their files go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Mapping
from pathlib import Path

import asyncssh

from core.errors import HoistError
from core.sandbox.isolation import isolated_argv, isolation_available
from core.sandbox.processes import kill_marked, kill_tree
from core.transport.ssh import Target

__all__ = [
    "LocalSSHHost",
    "SandboxError",
    "free_port",
    "isolation_available",
]

log = logging.getLogger(__name__)

STOP_TIMEOUT = 5.0
MARKER = "HOIST_SANDBOX_HOST_ID"  # in every session's environment: how stop() finds strays
_PIPE = asyncio.subprocess.PIPE


class SandboxError(HoistError):
    """A local host could not start."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server(asyncssh.SSHServer):
    """Counts what clients do, so tests can prove what reached the server."""

    def __init__(self, owner: LocalSSHHost) -> None:
        self._owner = owner
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._owner.connection_opened(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._owner.connection_closed(self._conn)

    def begin_auth(self, username: str) -> bool:
        self._owner.auth_attempts += 1
        return True

    def connection_requested(
        self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
    ) -> bool:
        self._owner.tunnels.append((dest_host, dest_port))
        return True


class LocalSSHHost:
    """An in-process SSH server on 127.0.0.1 that accepts one client key, named for messages.

    Commands run in `root` (if given) as the user running Hoist; with `mount_at` too, they run
    where `root` is bind-mounted over `mount_at`, and start there. Like sshd, closing a channel
    does not kill what the command started; `stop()` kills every process the host's sessions
    started and drops every connection, as a crashed server would.
    """

    def __init__(
        self,
        client_public_key: str,
        *,
        name: str = "local",
        root: Path | None = None,
        mount_at: Path | None = None,
        env: Mapping[str, str] | None = None,
        down: bool = False,
    ) -> None:
        if mount_at is not None and (root is None or not mount_at.is_absolute()):
            raise ValueError(f"host `{name}`: mount_at needs a root and an absolute path")
        self.name = name
        self.client_public_key = client_public_key
        self.root = root
        self.mount_at = mount_at
        self.env = dict(env or {})
        self.down = down
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.port = 0
        self.connections = 0
        self.auth_attempts = 0
        self.sessions = 0
        self.tunnels: list[tuple[str, int]] = []
        self.open_connections: set[asyncssh.SSHServerConnection] = set()
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._children: set[asyncio.subprocess.Process] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False
        self._marker = secrets.token_hex(16)

    def __repr__(self) -> str:
        view = f" {self.root} at {self.mount_at}" if self.mount_at else ""
        return f"<LocalSSHHost {self.name} 127.0.0.1:{self.port}{view}>"

    @property
    def host_key_line(self) -> str:
        """The server's host key as a known_hosts line for `[127.0.0.1]:port`."""
        public = self.host_key.export_public_key("openssh").decode().strip()
        return f"[127.0.0.1]:{self.port} {public}"

    def connection_opened(self, conn: asyncssh.SSHServerConnection) -> None:
        """Count a client connection (called by the server object)."""
        self.connections += 1
        self.open_connections.add(conn)
        self._idle.clear()

    def connection_closed(self, conn: asyncssh.SSHServerConnection) -> None:
        """Forget a client connection (called by the server object)."""
        self.open_connections.discard(conn)
        if not self.open_connections:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Return once no client connection is open."""
        await self._idle.wait()

    def target(
        self, name: str, private_key: str, user: str = "deploy", *, jump: Target | None = None
    ) -> Target:
        """A transport target for this server with its host key pinned."""
        return Target(name, "127.0.0.1", self.port, user, private_key, self.host_key_line, jump)

    async def __aenter__(self) -> LocalSSHHost:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen (again, on the same port after a stop); a `down` server only reserves a port."""
        self._stopping = False
        if self.down:
            self.port = self.port or free_port()
            return
        if self.mount_at is not None:
            await self._prepare_isolation()
        self._acceptor = await asyncssh.listen(
            "127.0.0.1",
            self.port,
            reuse_address=True,
            server_host_keys=[self.host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(self.client_public_key),
            server_factory=lambda: _Server(self),
            process_factory=self._spawn,
            encoding=None,
        )
        self.port = self._acceptor.get_port()
        log.debug("%r listening", self)

    async def stop(self) -> None:
        """Stop listening, kill every process sessions started, and drop every connection."""
        self._stopping = True
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
        await self._kill_everything()
        connections = list(self.open_connections)
        for conn in connections:
            conn.close()
        waits = [conn.wait_closed() for conn in connections]
        tasks = list(self._tasks)
        done = asyncio.gather(*waits, *tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(asyncio.shield(done), STOP_TIMEOUT)
        except TimeoutError:
            for task in tasks:
                task.cancel()  # a process escaped the kill: give up on its output
            await done
        await self._kill_everything()  # anything a session started while it was closing

    async def _prepare_isolation(self) -> None:
        assert self.root is not None and self.mount_at is not None
        reason = await asyncio.to_thread(isolation_available)
        if reason is not None:
            raise SandboxError(
                f"host `{self.name}` cannot show {self.root} at {self.mount_at}: {reason}"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        self.mount_at.mkdir(parents=True, exist_ok=True)

    async def _kill_everything(self) -> None:
        roots = [child.pid for child in self._children]
        killed = await asyncio.to_thread(self._kill_now, roots)
        if killed:
            log.debug("%r killed %d leftover processes", self, len(killed))

    def _kill_now(self, roots: list[int]) -> set[int]:
        for pid in roots:
            kill_tree(pid)
        return kill_marked(MARKER, self._marker)

    def _spawn(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        self.sessions += 1
        task = asyncio.create_task(self._serve(process))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        child = await asyncio.create_subprocess_exec(
            *self._argv(process.command or "exec bash"),
            stdin=_PIPE,
            stdout=_PIPE,
            stderr=_PIPE,
            cwd=self.root,
            env=self._child_env(),
            start_new_session=True,
        )
        self._children.add(child)
        if self._stopping:
            kill_tree(child.pid)  # started while stop() was sweeping
        try:
            status = await _relay(process, child)
        finally:
            self._children.discard(child)
            if child.returncode is None:
                kill_tree(child.pid)
                await child.wait()
        with contextlib.suppress(OSError, asyncssh.Error):
            process.exit(status if status >= 0 else 128 - status)

    def _argv(self, command: str) -> list[str]:
        if self.root is None or self.mount_at is None:
            return ["bash", "-c", command]
        label = f"hoist-sandbox:{self.name}"
        return isolated_argv(self.root, self.mount_at, command, label=label)

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.root is not None:
            env["HOIST_TEST_ROOT"] = str(self.root)
        env.update(self.env)
        env[MARKER] = self._marker
        return env


async def _relay(
    process: asyncssh.SSHServerProcess[bytes], child: asyncio.subprocess.Process
) -> int:
    """Copy the channel to the child and back until the child's output ends; its exit status."""
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    feeder = asyncio.create_task(_pump_in(process.stdin, child.stdin))
    try:
        await asyncio.gather(
            _pump_out(child.stdout, process.stdout), _pump_out(child.stderr, process.stderr)
        )
        return await child.wait()
    finally:
        feeder.cancel()
        await asyncio.gather(feeder, return_exceptions=True)


async def _pump_in(reader: asyncssh.SSHReader[bytes], writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncssh.Error):
        pass  # the child stopped reading, or the client went away
    finally:
        writer.close()


async def _pump_out(reader: asyncio.StreamReader, writer: asyncssh.SSHWriter[bytes]) -> None:
    channel_open = True
    while data := await reader.read(65536):
        if not channel_open:
            continue  # keep draining so the child never blocks on a full pipe
        try:
            writer.write(data)
            await writer.drain()
        except (OSError, asyncssh.Error):
            channel_open = False
