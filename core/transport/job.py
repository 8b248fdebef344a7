"""One remote script on its SSH channel: output read line by line, input fed once it may be."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncssh

from core.transport.capture import OUTPUT_HEAD, OUTPUT_TAIL, BoundedCapture, LineSplitter
from core.transport.errors import UploadError
from core.transport.remote_script import PGID_MARK

LineCallback = Callable[[str], Awaitable[None] | None]
ProgressCallback = Callable[[int], Awaitable[None] | None]

CHUNK = 256 * 1024
WRITE_BUFFER = 1024 * 1024
"""Per channel: 50 uploads at once hold at most ~50 MB in flight."""


class RemoteJob:
    """One remote script: reads its output, feeds its input once it knows its process group."""

    def __init__(self, process: asyncssh.SSHClientProcess[bytes], on_line: LineCallback | None):
        self.process = process
        self.capture = BoundedCapture(OUTPUT_HEAD, OUTPUT_TAIL)
        self.pgid: int | None = None
        self.on_line = on_line
        """Called with each line of output as it comes (replaceable while the job runs)."""
        self.pause_at: bytes | None = None
        """A line the script prints when it has done a part and waits for the next."""
        self.paused = asyncio.Event()
        self._started = asyncio.Event()

    async def read(self) -> None:
        """Consume the output until EOF, line by line."""
        lines = LineSplitter(OUTPUT_TAIL)
        try:
            while chunk := await self.process.stdout.read(CHUNK):
                for line in lines.feed(chunk):
                    await self._line(line)
            for line in lines.finish():
                await self._line(line)
        finally:
            self._started.set()

    async def _line(self, line: bytes) -> None:
        if self.pgid is None and line.startswith(PGID_MARK):
            self.pgid = int(line[len(PGID_MARK) :].strip())
            self._started.set()
            return
        if self.pause_at is not None and line.rstrip(b"\r\n") == self.pause_at:
            self.paused.set()
            return
        self.capture.add(line)
        if self.on_line is not None:
            await call_back(self.on_line, line.rstrip(b"\r\n").decode(errors="replace"))

    async def feed(
        self,
        payload: bytes,
        source: AsyncIterator[bytes] | None,
        on_progress: ProgressCallback | None,
        *,
        end: bool = True,
    ) -> int:
        """Send the script, then the input, then (with `end`) the end of the input; returns
        the input bytes sent."""
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
                    await call_back(on_progress, sent)
            if end:
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


async def once(data: bytes) -> AsyncIterator[bytes]:
    """`data` as a one-chunk input stream."""
    yield data


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
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


async def call_back(callback: Callable[[Any], Awaitable[None] | None], value: object) -> None:
    """Call a callback that may be a coroutine function."""
    result = callback(value)
    if inspect.isawaitable(result):
        await result


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield  # pragma: no cover
