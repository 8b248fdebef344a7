"""A remote script's output: split into lines, and kept bounded to its head and tail."""

from __future__ import annotations

from collections.abc import Iterator

OUTPUT_HEAD = 64 * 1024
OUTPUT_TAIL = 64 * 1024


class LineSplitter:
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


class BoundedCapture:
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
