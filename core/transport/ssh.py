"""SSH to one server: connect with a pinned host key, run scripts, upload files (asyncssh).

Every remote script runs as `bash` in a session of its own, fed on standard input: the command
line sent to the server is a fixed wrapper, so nothing of the script or its environment is ever
interpreted by the login shell. The wrapper reports its process group first and only then
receives the script, so a cancelled or timed-out run can always kill everything it started.

This module is the transport's public API; the pieces live beside it: `remote_script` (what is
sent), `job` (one script on its channel), `capture` (bounded output), `dial` (the handshake),
`errors` (the error tree, re-exported here).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import asyncssh

from core.transport.capture import OUTPUT_HEAD, OUTPUT_TAIL, BoundedCapture
from core.transport.dial import dial, reason
from core.transport.errors import (
    AuthError,
    ChannelError,
    CommandTimeout,
    ConnectError,
    HostKeyError,
    SessionNotStarted,
    TransportError,
    UploadError,
)
from core.transport.job import (
    CHUNK,
    WRITE_BUFFER,
    LineCallback,
    ProgressCallback,
    RemoteJob,
    call_back,
    file_chunks,
    once,
)
from core.transport.remote_script import WRAPPER_COMMAND, kill_command, payload, upload_script

__all__ = [
    "CHUNK",
    "OUTPUT_HEAD",
    "OUTPUT_TAIL",
    "WRITE_BUFFER",
    "AuthError",
    "ChannelError",
    "CommandTimeout",
    "ConnectError",
    "ConnectOptions",
    "Connecting",
    "Connection",
    "HostKeyError",
    "LineCallback",
    "ProgressCallback",
    "Remote",
    "RunResult",
    "SessionNotStarted",
    "Target",
    "TransportError",
    "UploadError",
    "connect",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """Where and as whom to connect; `jump` is a bastion reached first."""

    name: str
    address: str
    port: int
    user: str
    private_key: str = field(repr=False)
    host_key: str | None
    jump: Target | None = None

    @property
    def where(self) -> str:
        """`address:port` (`[address]:port` for IPv6), for messages."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class ConnectOptions:
    """Timeouts of a connection, in seconds; `kill_grace` is how long TERM gets before KILL."""

    connect_timeout: float = 10.0
    keepalive_interval: float = 15.0
    keepalive_count_max: int = 3
    kill_grace: float = 2.0


@dataclass(frozen=True)
class RunResult:
    """How a remote script ended: its exit status and its merged, bounded output."""

    exit_status: int
    output: str

    @property
    def ok(self) -> bool:
        """True when the script exited 0."""
        return self.exit_status == 0


class Remote(Protocol):
    """What the engine needs of a server connection; a test double can be a plain class."""

    async def run(
        self,
        script: str,
        *,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
        on_line: LineCallback | None = None,
    ) -> RunResult: ...

    async def upload(
        self,
        source: AsyncIterator[bytes] | Path,
        remote_path: str,
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
        sha256: str | None = None,
    ) -> int: ...

    async def close(self) -> None: ...


def connect(target: Target, options: ConnectOptions | None = None) -> Connecting:
    """Open a connection: `async with connect(t) as conn` or `conn = await connect(t)`."""
    return Connecting(target, options or ConnectOptions())


class Connecting:
    """The pending connection `connect()` returns, awaitable or usable with `async with`."""

    def __init__(self, target: Target, options: ConnectOptions) -> None:
        self._target = target
        self._options = options
        self._conn: Connection | None = None

    def __await__(self) -> Generator[Any, None, Connection]:
        return _open(self._target, self._options).__await__()

    async def __aenter__(self) -> Connection:
        self._conn = await _open(self._target, self._options)
        return self._conn

    async def __aexit__(self, *exc_info: object) -> None:
        if self._conn is not None:
            await self._conn.close()


class Connection:
    """One authenticated SSH connection to a server (and its bastion, if any)."""

    def __init__(
        self,
        target: Target,
        options: ConnectOptions,
        ssh: asyncssh.SSHClientConnection,
        jump: Connection | None,
    ) -> None:
        self.target = target
        self._options = options
        self._ssh = ssh
        self._jump = jump

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def run(
        self,
        script: str,
        *,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        timeout: float | None = None,
        on_line: LineCallback | None = None,
    ) -> RunResult:
        """Run a bash script; a non-zero exit is a result, a timeout raises CommandTimeout."""
        source = once(stdin) if stdin is not None else None
        result, _ = await self._execute(payload(script, env), source, timeout, on_line, None)
        return result

    async def send(
        self,
        script: str,
        source: AsyncIterator[bytes],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        on_line: LineCallback | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> tuple[RunResult, int]:
        """Run a bash script that reads `source` as its standard input, streamed (never held
        whole); returns how it ended and the input bytes sent."""
        return await self._execute(payload(script, env), source, timeout, on_line, on_progress)

    async def open_script(self, script: str) -> PendingScript:
        """Start a bash script that ends by reading and running the next script it is sent
        (`PendingScript.go_on`): for work that can start before the rest of its input
        exists. Its output is kept for the result; nothing is streamed until then."""
        job = RemoteJob(await self._start(), None)
        reader = asyncio.create_task(job.read())
        try:
            await job.feed(payload(script, None), None, None, end=False)
        except BaseException as exc:
            await self._stop(job, reader)
            error = self._failure(exc, None)
            if error is None:
                raise
            raise error from None
        return PendingScript(self, job, reader)

    @property
    def closed(self) -> bool:
        """The connection (or its bastion's) is closed or was lost."""
        lost = self._ssh.is_closed()
        return lost or (self._jump is not None and self._jump.closed)

    async def upload(
        self,
        source: AsyncIterator[bytes] | Path,
        remote_path: str,
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
        sha256: str | None = None,
    ) -> int:
        """Stream bytes to `remote_path` (written aside, checked against `sha256` when given,
        then renamed); returns bytes sent."""
        chunks = file_chunks(source) if isinstance(source, Path) else source
        script = payload(upload_script(remote_path, sha256), None)
        result, sent = await self._execute(script, chunks, timeout, None, on_progress)
        if not result.ok:
            detail = result.output.strip() or f"exit status {result.exit_status}"
            raise UploadError(f"cannot write `{remote_path}` on `{self.target.name}`: {detail}")
        return sent

    async def close(self) -> None:
        """Close this connection and its bastion's; safe to call twice."""
        self._close_now()
        await self._wait_closed()

    def _close_now(self) -> None:
        self._ssh.close()
        if self._jump is not None:
            self._jump._close_now()

    async def _wait_closed(self) -> None:
        await self._ssh.wait_closed()
        if self._jump is not None:
            await self._jump._wait_closed()

    async def _execute(
        self,
        script: bytes,
        source: AsyncIterator[bytes] | None,
        timeout: float | None,
        on_line: LineCallback | None,
        on_progress: ProgressCallback | None,
    ) -> tuple[RunResult, int]:
        job = RemoteJob(await self._start(), on_line)
        reader = asyncio.create_task(job.read())
        return await self._complete(job, reader, script, source, timeout, on_progress)

    async def _complete(
        self,
        job: RemoteJob,
        reader: asyncio.Task[None],
        script: bytes,
        source: AsyncIterator[bytes] | None,
        timeout: float | None,
        on_progress: ProgressCallback | None,
    ) -> tuple[RunResult, int]:
        """Feed a started job its script and input, and wait for it to end."""
        try:
            async with asyncio.timeout(timeout):
                sent = await job.feed(script, source, on_progress)
                await reader
                return RunResult(await job.exit_status(), job.capture.text()), sent
        except BaseException as exc:
            await self._abort(job)
            error = self._failure(exc, timeout)
            if error is None:
                raise
            raise error from None
        finally:
            await self._stop(job, reader)

    @staticmethod
    async def _stop(job: RemoteJob, reader: asyncio.Task[None]) -> None:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        job.process.close()

    async def _start(self) -> asyncssh.SSHClientProcess[bytes]:
        try:
            return await self._ssh.create_process(
                WRAPPER_COMMAND, encoding=None, stderr=asyncssh.STDOUT
            )
        except (asyncssh.Error, ConnectionError) as exc:
            raise SessionNotStarted(
                f"lost the SSH connection to `{self.target.name}` ({self.target.where}) "
                f"before the command started: {reason(exc)}"
            ) from None

    def _failure(self, exc: BaseException, timeout: float | None) -> TransportError | None:
        """The error to raise instead of `exc`, or None to let `exc` through."""
        if isinstance(exc, TimeoutError) and timeout is not None:
            return CommandTimeout(
                f"command on `{self.target.name}` ran past its timeout of {timeout:g}s "
                "and was killed"
            )
        if isinstance(exc, asyncssh.Error | ConnectionError):
            return self._lost(exc)
        return None

    def _lost(self, exc: BaseException) -> ChannelError:
        return ChannelError(
            f"lost the SSH session to `{self.target.name}` ({self.target.where}): {reason(exc)}"
        )

    async def _abort(self, job: RemoteJob) -> None:
        if job.pgid is not None:
            await self._kill_group(job.pgid)
        job.process.close()

    async def _kill_group(self, pgid: int) -> None:
        grace = self._options.kill_grace
        try:
            await self._ssh.run(kill_command(pgid, grace), check=False, timeout=grace + 10)
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            log.warning("could not kill process group %s on %s: %s", pgid, self.target.name, exc)


class PendingScript:
    """A script started by `Connection.open_script`, waiting for the rest."""

    def __init__(self, connection: Connection, job: RemoteJob, reader: asyncio.Task[None]):
        self.connection = connection
        self._job = job
        self._reader = reader

    @property
    def output(self) -> str:
        """What the script printed since its last pause (or start), as far as it came."""
        return self._job.capture.text()

    @property
    def waiting(self) -> bool:
        """The script still runs (it may be reading what comes next)."""
        return not self._reader.done() and not self.connection.closed

    async def go_on(
        self,
        script: str,
        source: AsyncIterator[bytes] | None = None,
        *,
        timeout: float | None = None,
        on_line: LineCallback | None = None,
        on_progress: ProgressCallback | None = None,
        pause_at: str | None = None,
    ) -> tuple[RunResult, int]:
        """Send the rest of the script (then `source` as its input) and wait for the end.
        If the first part exited meanwhile, its result is returned as it is.

        With `pause_at`, the script's input stays open and this returns (exit status 0, the
        output so far) as soon as the script prints that line: it has done this part and
        waits for the next, which another `go_on` sends. Otherwise, the script's own end."""
        job = self._job
        job.on_line = on_line
        if on_line is not None:  # what the first part printed, kept until now
            for line in job.capture.text().splitlines():
                await call_back(on_line, line)
        script_bytes = payload(script, None)
        if pause_at is None:
            return await self.connection._complete(
                job, self._reader, script_bytes, source, timeout, on_progress
            )
        job.pause_at, job.paused = pause_at.encode(), asyncio.Event()
        try:
            async with asyncio.timeout(timeout):
                sent = await job.feed(script_bytes, source, on_progress, end=False)
                paused = asyncio.ensure_future(job.paused.wait())
                await asyncio.wait([paused, self._reader], return_when=asyncio.FIRST_COMPLETED)
                paused.cancel()
        except BaseException as exc:
            await self.connection._abort(job)
            await self.connection._stop(job, self._reader)
            error = self.connection._failure(exc, timeout)
            if error is None:
                raise
            raise error from None
        if not job.paused.is_set():  # it ended instead
            ended, _ = await self.connection._complete(job, self._reader, b"", None, timeout, None)
            return ended, sent
        done = RunResult(0, job.capture.text())
        job.capture = BoundedCapture(OUTPUT_HEAD, OUTPUT_TAIL)  # the next part's own output
        return done, sent

    async def close(self, timeout: float = 60.0) -> int | None:
        """Send no more: the script sees the end of its input and exits. Waits for that
        (at most `timeout` seconds, then kills it); returns its exit status, if any."""
        try:
            result, _ = await self.connection._complete(
                self._job, self._reader, b"", None, timeout, None
            )
        except TransportError:
            return None
        return result.exit_status


async def _open(target: Target, options: ConnectOptions) -> Connection:
    """Connect to the bastion chain first, then to the target through it."""
    jump = await _open(target.jump, options) if target.jump is not None else None
    try:
        ssh = await dial(target, options, jump._ssh if jump is not None else None)
    except BaseException:
        if jump is not None:
            await jump.close()
        raise
    return Connection(target, options, ssh, jump)
