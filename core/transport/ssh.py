"""SSH to one server: connect with a pinned host key, run scripts, upload files (asyncssh).

Every remote script runs as `bash` in a session of its own, fed on standard input: the command
line sent to the server is a fixed wrapper, so nothing of the script or its environment is ever
interpreted by the login shell. The wrapper reports its process group first and only then
receives the script, so a cancelled or timed-out run can always kill everything it started.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import shlex
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import asyncssh

from core.errors import HoistError, UsageError
from core.keys import parse_host_key_line

log = logging.getLogger(__name__)

LineCallback = Callable[[str], Awaitable[None] | None]
ProgressCallback = Callable[[int], Awaitable[None] | None]

OUTPUT_HEAD = 64 * 1024
OUTPUT_TAIL = 64 * 1024
CHUNK = 256 * 1024
WRITE_BUFFER = 4 * 1024 * 1024
_PGID_MARK = b"__hoist_pgid__ "
_WRAPPER = (
    'exec 2>&1; printf "__hoist_pgid__ %s\\n" "$$"; '
    'IFS= read -r -d "" __hoist_script || exit 97; eval "$__hoist_script"'
)
_COMMAND = f"exec setsid -w bash --norc --noprofile -c {shlex.quote(_WRAPPER)}"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REFUSED = re.compile(r"refused|errno 111\b")


class TransportError(HoistError):
    """Root of the SSH transport's errors."""


class ConnectError(TransportError):
    """The server could not be reached or the SSH handshake failed; nothing ran."""


class HostKeyError(ConnectError):
    """The server's host key is not pinned or does not match the pinned one; nothing was sent."""


class AuthError(ConnectError):
    """The server rejected the key."""


class ChannelError(TransportError):
    """The connection failed while a command was running."""


class CommandTimeout(TransportError):
    """A command ran past its timeout; its process group was killed."""


class UploadError(TransportError):
    """The server could not store an uploaded file."""


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
        source = _once(stdin) if stdin is not None else None
        result, _ = await self._execute(_payload(script, env), source, timeout, on_line, None)
        return result

    async def upload(
        self,
        source: AsyncIterator[bytes] | Path,
        remote_path: str,
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> int:
        """Stream bytes to `remote_path` (written aside, then renamed); returns bytes sent."""
        chunks = _file_chunks(source) if isinstance(source, Path) else source
        payload = _payload(_upload_script(remote_path), None)
        result, sent = await self._execute(payload, chunks, timeout, None, on_progress)
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
        payload: bytes,
        source: AsyncIterator[bytes] | None,
        timeout: float | None,
        on_line: LineCallback | None,
        on_progress: ProgressCallback | None,
    ) -> tuple[RunResult, int]:
        job = _Job(await self._start(), on_line)
        reader = asyncio.create_task(job.read())
        try:
            async with asyncio.timeout(timeout):
                sent = await job.feed(payload, source, on_progress)
                await reader
                return RunResult(await job.exit_status(), job.capture.text()), sent
        except BaseException as exc:
            await self._abort(job)
            error = self._failure(exc, timeout)
            if error is None:
                raise
            raise error from None
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            job.process.close()

    async def _start(self) -> asyncssh.SSHClientProcess[bytes]:
        try:
            return await self._ssh.create_process(_COMMAND, encoding=None, stderr=asyncssh.STDOUT)
        except (asyncssh.Error, ConnectionError) as exc:
            raise self._lost(exc) from None

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
            f"lost the SSH session to `{self.target.name}` ({self.target.where}): {_reason(exc)}"
        )

    async def _abort(self, job: _Job) -> None:
        if job.pgid is not None:
            await self._kill_group(job.pgid)
        job.process.close()

    async def _kill_group(self, pgid: int) -> None:
        grace = self._options.kill_grace
        try:
            await self._ssh.run(_kill_command(pgid, grace), check=False, timeout=grace + 10)
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            log.warning("could not kill process group %s on %s: %s", pgid, self.target.name, exc)


# TERM the group, wait for its last live (non-zombie) member to go, KILL it after the grace.
_KILL_SCRIPT = """
g=$1 polls=$2
alive() {
  [ -r /proc/self/stat ] || { kill -0 -- "-$g" 2>/dev/null; return; }
  local f s
  for f in /proc/[0-9]*/stat; do
    IFS= read -r s < "$f" 2>/dev/null || continue
    set -- ${s##*) }
    [ "$3" = "$g" ] && [ "$1" != Z ] && return 0
  done
  return 1
}
kill -TERM -- "-$g" 2>/dev/null || exit 0
for ((i = 0; i < polls; i++)); do alive || exit 0; sleep 0.05; done
kill -KILL -- "-$g" 2>/dev/null
exit 0
"""


def _kill_command(pgid: int, grace: float) -> str:
    """The command line that kills process group `pgid`, giving it `grace` seconds after TERM."""
    polls = max(1, round(grace / 0.05))
    return f"exec bash --norc --noprofile -c {shlex.quote(_KILL_SCRIPT)} hoist-kill {pgid} {polls}"


class _Job:
    """One remote script: reads its output, feeds its input once it knows its process group."""

    def __init__(self, process: asyncssh.SSHClientProcess[bytes], on_line: LineCallback | None):
        self.process = process
        self.capture = _Capture(OUTPUT_HEAD, OUTPUT_TAIL)
        self.pgid: int | None = None
        self._on_line = on_line
        self._started = asyncio.Event()

    async def read(self) -> None:
        """Consume the output until EOF, line by line."""
        lines = _Lines(OUTPUT_TAIL)
        try:
            while chunk := await self.process.stdout.read(CHUNK):
                for line in lines.feed(chunk):
                    await self._line(line)
            for line in lines.finish():
                await self._line(line)
        finally:
            self._started.set()

    async def _line(self, line: bytes) -> None:
        if self.pgid is None and line.startswith(_PGID_MARK):
            self.pgid = int(line[len(_PGID_MARK) :].strip())
            self._started.set()
            return
        self.capture.add(line)
        if self._on_line is not None:
            await _call(self._on_line, line.rstrip(b"\r\n").decode(errors="replace"))

    async def feed(
        self,
        payload: bytes,
        source: AsyncIterator[bytes] | None,
        on_progress: ProgressCallback | None,
    ) -> int:
        """Send the script, then the input; returns the input bytes sent."""
        await self._started.wait()
        if self.pgid is None:
            return 0
        stdin = self.process.stdin
        stdin.channel.set_write_buffer_limits(high=WRITE_BUFFER, low=WRITE_BUFFER // 4)
        sent = 0
        try:
            stdin.write(payload)
            async for chunk in source or _nothing():
                stdin.write(chunk)
                await stdin.drain()
                sent += len(chunk)
                if on_progress is not None:
                    await _call(on_progress, sent)
            stdin.write_eof()
        except BrokenPipeError:
            pass  # the script stopped reading; its exit status tells the rest
        return sent

    async def exit_status(self) -> int:
        """The script's exit status (negative: killed by that signal)."""
        await self.process.wait_closed()
        code = self.process.returncode
        if code is None:
            raise asyncssh.ConnectionLost("the session closed without an exit status")
        return code


class _Lines:
    """Split a byte stream into lines; a line longer than `limit` is cut into pieces."""

    def __init__(self, limit: int) -> None:
        self._buffer = bytearray()
        self._limit = limit

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The complete lines (with their newline) that `data` finishes."""
        self._buffer += data
        start = 0
        while (end := self._buffer.find(b"\n", start)) != -1:
            yield bytes(self._buffer[start : end + 1])
            start = end + 1
        del self._buffer[:start]
        while len(self._buffer) > self._limit:
            yield bytes(self._buffer[: self._limit])
            del self._buffer[: self._limit]

    def finish(self) -> Iterator[bytes]:
        """The last line, if the stream did not end with a newline."""
        if self._buffer:
            yield bytes(self._buffer)
            self._buffer.clear()


class _Capture:
    """Keep the first `head` and the last `tail` bytes of the output, counting what is dropped."""

    def __init__(self, head: int, tail: int) -> None:
        self._head = bytearray()
        self._tail = bytearray()
        self._head_limit = head
        self._tail_limit = tail
        self.omitted = 0

    def add(self, data: bytes) -> None:
        """Append output."""
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        self._tail += data
        excess = len(self._tail) - self._tail_limit
        if excess > 0:
            del self._tail[:excess]
            self.omitted += excess

    def text(self) -> str:
        """The kept output as text, with a line where bytes were left out."""
        middle = f"\n… {self.omitted} bytes omitted …\n".encode() if self.omitted else b""
        return bytes(self._head + middle + self._tail).decode(errors="replace")


def _upload_script(remote_path: str) -> str:
    """Write standard input aside, then rename it over `remote_path` once it is complete."""
    part, final = shlex.quote(f"{remote_path}.hoist-part"), shlex.quote(remote_path)
    return f"cat > {part} && mv -f -- {part} {final}"


def _payload(script: str, env: Mapping[str, str] | None) -> bytes:
    """The script as the wrapper reads it: exports, the script, then a NUL byte."""
    lines = []
    for name, value in (env or {}).items():
        if not _ENV_NAME.fullmatch(name):
            raise UsageError(f"`{name}` is not a valid environment variable name")
        lines.append(f"export {name}={shlex.quote(value)}")
    text = "\n".join([*lines, script])
    if "\0" in text:
        raise UsageError("a script and its environment cannot contain a NUL byte")
    return text.encode() + b"\0"


async def _call(callback: Callable[[Any], Awaitable[None] | None], value: object) -> None:
    result = callback(value)
    if inspect.isawaitable(result):
        await result


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield  # pragma: no cover


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    """A local file's bytes, read off the event loop."""
    try:
        handle = await asyncio.to_thread(path.open, "rb")
    except OSError as exc:
        raise UploadError(f"cannot read {path}: {exc.strerror}") from None
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk
    finally:
        handle.close()


async def _open(target: Target, options: ConnectOptions) -> Connection:
    """Connect to the bastion chain first, then to the target through it."""
    jump = await _open(target.jump, options) if target.jump is not None else None
    try:
        ssh = await _dial(target, options, jump._ssh if jump is not None else None)
    except BaseException:
        if jump is not None:
            await jump.close()
        raise
    return Connection(target, options, ssh, jump)


class _HostKeyWitness(asyncssh.SSHClient):
    """Remembers the host key a server offered when it did not match the pinned one."""

    offered: asyncssh.SSHKey | None = None

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        """Record the offered key and refuse it (only called when it is not the pinned one)."""
        self.offered = key
        return False


async def _dial(
    target: Target, options: ConnectOptions, tunnel: asyncssh.SSHClientConnection | None
) -> asyncssh.SSHClientConnection:
    pinned = _pinned_key(target)
    client_key = _client_key(target)
    witness = _HostKeyWitness()
    try:
        return await asyncssh.connect(
            target.address,
            target.port,
            tunnel=tunnel,
            config=None,
            client_factory=lambda: witness,
            username=target.user,
            known_hosts=([pinned], [], []),
            client_keys=[client_key],
            agent_path=None,
            password=None,
            kbdint_auth=False,
            gss_auth=False,
            x509_trusted_certs=None,
            preferred_auth="publickey",
            connect_timeout=options.connect_timeout,
            keepalive_interval=options.keepalive_interval,
            keepalive_count_max=options.keepalive_count_max,
        )
    except (asyncssh.Error, OSError, TimeoutError) as exc:
        raise _connect_error(target, options, exc, pinned, witness.offered, client_key) from None


def _pinned_key(target: Target) -> asyncssh.SSHKey:
    if not target.host_key:
        raise HostKeyError(
            f"server `{target.name}` has no pinned host key: "
            "pin it with `hoist server add … --scan` or --host-key"
        )
    try:
        return parse_host_key_line(target.host_key)
    except UsageError:
        raise HostKeyError(
            f"the pinned host key of `{target.name}` is not a known_hosts line: "
            "pin it again with `hoist server add … --scan` or --host-key"
        ) from None


def _client_key(target: Target) -> asyncssh.SSHKey:
    try:
        return asyncssh.import_private_key(target.private_key)
    except (asyncssh.KeyImportError, ValueError):
        raise AuthError(
            f"the key for `{target.name}` is not a usable private key (is it encrypted?)"
        ) from None


def _connect_error(
    target: Target,
    options: ConnectOptions,
    exc: BaseException,
    pinned: asyncssh.SSHKey,
    offered: asyncssh.SSHKey | None,
    client_key: asyncssh.SSHKey,
) -> ConnectError:
    """Translate an asyncssh or socket failure into a sentence about `target`."""
    where = f"`{target.name}` ({target.where})"
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        got = offered.get_fingerprint() if offered is not None else "an unverifiable key"
        return HostKeyError(
            f"host key of {where} does not match the pinned key: "
            f"expected {pinned.get_fingerprint()}, got {got} — nothing was sent"
        )
    if isinstance(exc, asyncssh.KeyExchangeFailed) and "host key" in exc.reason.lower():
        return HostKeyError(
            f"{where} offers no host key of the pinned type {pinned.get_algorithm()} "
            "— nothing was sent"
        )
    if isinstance(exc, asyncssh.PermissionDenied):
        return AuthError(
            f"{where} rejected the key `{client_key.get_fingerprint()}` for user `{target.user}`"
        )
    via = f" through `{target.jump.name}`" if target.jump is not None else ""
    return ConnectError(f"cannot connect to {where}{via}: {_reason(exc, options)}")


def _reason(exc: BaseException, options: ConnectOptions | None = None) -> str:
    """A short lower-case phrase for why a connection failed."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        limit = f" within {options.connect_timeout:g}s" if options is not None else ""
        return f"no answer{limit}"
    if isinstance(exc, asyncssh.ChannelOpenError | asyncssh.DisconnectError):
        reason = exc.reason.rstrip(".").lower()
        return "connection refused" if _REFUSED.search(reason) else reason or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
