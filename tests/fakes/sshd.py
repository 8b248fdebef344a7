"""Real SSH servers for tests: an in-process asyncssh server and a launched OpenSSH `sshd`.

Both listen on 127.0.0.1 on a free port, accept one client key and run commands through a real
`bash`, so the transport is tested against the same protocol it meets in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import asyncssh

from core.transport.ssh import Target

SSHD = "/usr/sbin/sshd"
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
_PIPE = asyncio.subprocess.PIPE


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kill_tree(root: int) -> None:
    """SIGKILL `root` and every process below it (children that started sessions included)."""
    for pid in _process_tree(root):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


class _Server(asyncssh.SSHServer):
    """Counts what clients do, so tests can prove what reached the server."""

    def __init__(self, owner: LocalSSHServer) -> None:
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


class LocalSSHServer:
    """An in-process asyncssh server whose sessions run `bash -c <command>` as subprocesses.

    Like sshd, closing a channel does not kill what the command started; `stop()` kills every
    process a session started and drops every connection, as a crashed server would.
    """

    def __init__(
        self,
        client_public_key: str,
        *,
        root: Path | None = None,
        env: Mapping[str, str] | None = None,
        down: bool = False,
    ) -> None:
        self.client_public_key = client_public_key
        self.root = root
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

    async def __aenter__(self) -> LocalSSHServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen (again, on the same port after a stop); a `down` server only reserves a port."""
        if self.down:
            self.port = self.port or free_port()
            return
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

    async def stop(self) -> None:
        """Stop listening, kill every process sessions started, and drop every connection."""
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
        for child in list(self._children):
            kill_tree(child.pid)
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
                task.cancel()  # a process escaped kill_tree: give up on its output
            await done

    def _spawn(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        self.sessions += 1
        task = asyncio.create_task(self._serve(process))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        child = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            process.command or "exec bash",
            stdin=_PIPE,
            stdout=_PIPE,
            stderr=_PIPE,
            cwd=self.root,
            env=self._child_env(),
            start_new_session=True,
        )
        self._children.add(child)
        try:
            status = await _relay(process, child)
        finally:
            self._children.discard(child)
            if child.returncode is None:
                kill_tree(child.pid)
                await child.wait()
        with contextlib.suppress(OSError, asyncssh.Error):
            process.exit(status if status >= 0 else 128 - status)

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.root is not None:
            env["HOIST_TEST_ROOT"] = str(self.root)
        env.update(self.env)
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


@functools.cache
def skip_reason(*, private_mounts: bool = False) -> str | None:
    """Why OpenSSHServer cannot run on this machine, or None when it can."""
    if not os.access(SSHD, os.X_OK):
        return f"OpenSSH's {SSHD} is not installed (apt-get install openssh-server)"
    if os.geteuid() != 0:
        return "launching sshd needs root"
    if shutil.which("setsid") is None or shutil.which("bash") is None:
        return "bash and setsid (util-linux) are needed on the server side"
    if private_mounts:
        probe = ["unshare", "--mount", "--propagation", "private", "true"]
        done = subprocess.run(probe, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"unshare --mount is not permitted here: {done.stderr.strip()}"
    return None


class OpenSSHServer:
    """A real `sshd -D -e` on 127.0.0.1, optionally with private bind mounts (its own `/data`)."""

    def __init__(
        self,
        client_public_key: str,
        *,
        private_mounts: Mapping[str, Path] | None = None,
        user: str = "root",
    ) -> None:
        self.client_public_key = client_public_key
        self.private_mounts = dict(private_mounts or {})
        self.user = user
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.port = 0
        self.log: list[str] = []
        self._dir: Path | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None

    @property
    def host_key_line(self) -> str:
        """The server's host key as a known_hosts line for `[127.0.0.1]:port`."""
        public = self.host_key.export_public_key("openssh").decode().strip()
        return f"[127.0.0.1]:{self.port} {public}"

    def target(self, name: str, private_key: str, *, jump: Target | None = None) -> Target:
        """A transport target for this server with its host key pinned."""
        host_key = self.host_key_line
        return Target(name, "127.0.0.1", self.port, self.user, private_key, host_key, jump)

    async def __aenter__(self) -> OpenSSHServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Write the config and keys to a temp folder, launch sshd, wait until it listens."""
        self._dir = Path(tempfile.mkdtemp(prefix="hoist-sshd-"))
        self.port = free_port()
        config = self._write_files(self._dir)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        for mount_point in self.private_mounts:
            Path(mount_point).mkdir(parents=True, exist_ok=True)
        self._process = await asyncio.create_subprocess_exec(
            *self._argv(config),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=_PIPE,
            start_new_session=True,
        )
        try:
            await asyncio.wait_for(self._wait_listening(), READY_TIMEOUT)
        except BaseException:
            await self.stop()
            raise
        self._drain = asyncio.create_task(self._read_log())

    async def stop(self) -> None:
        """Kill the sshd this object started and everything below it; remove its folder."""
        if self._process is not None:
            kill_tree(self._process.pid)
            await self._process.wait()
            self._process = None
        if self._drain is not None:
            await self._drain
            self._drain = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _write_files(self, folder: Path) -> Path:
        host_key = folder / "ssh_host_ed25519_key"
        host_key.write_bytes(self.host_key.export_private_key("openssh"))
        host_key.chmod(0o600)
        authorized = folder / "authorized_keys"
        authorized.write_text(self.client_public_key.strip() + "\n")
        config = folder / "sshd_config"
        config.write_text(_sshd_config(self.port, host_key, authorized, folder / "sshd.pid"))
        return config

    def _argv(self, config: Path) -> list[str]:
        sshd = [SSHD, "-D", "-e", "-f", str(config)]
        if not self.private_mounts:
            return sshd
        mounts = [
            f"mount --bind {shlex.quote(str(source))} {shlex.quote(target)}"
            for target, source in self.private_mounts.items()
        ]
        script = " && ".join([*mounts, f"exec {shlex.join(sshd)}"])
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]

    async def _wait_listening(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        while line := await self._process.stderr.readline():
            self.log.append(line.decode(errors="replace").rstrip())
            if b"Server listening on" in line:
                return
        raise RuntimeError("sshd exited before listening:\n" + "\n".join(self.log))

    async def _read_log(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        while line := await self._process.stderr.readline():
            self.log.append(line.decode(errors="replace").rstrip())


def _sshd_config(port: int, host_key: Path, authorized: Path, pid_file: Path) -> str:
    return "\n".join(
        [
            f"Port {port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {host_key}",
            f"AuthorizedKeysFile {authorized}",
            f"PidFile {pid_file}",
            "StrictModes no",
            "UsePAM no",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "AllowTcpForwarding yes",
            "UseDNS no",
            "PrintMotd no",
            "LogLevel INFO",
            "MaxStartups 100",
            "MaxSessions 50",
            "Subsystem sftp internal-sftp",
            "",
        ]
    )
