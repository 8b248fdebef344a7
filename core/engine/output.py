"""A node's captured output: streamed line by line to observers, kept bounded for storage."""

from __future__ import annotations

from collections.abc import Callable

HEAD_BYTES = 32 * 1024
TAIL_BYTES = 32 * 1024


class NodeOutput:
    """Keeps the first and last lines of a node's output, counting what lies between."""

    def __init__(
        self, publish: Callable[[str], None], head: int = HEAD_BYTES, tail: int = TAIL_BYTES
    ) -> None:
        self._publish = publish
        self._head: list[str] = []
        self._head_size = 0
        self._tail: list[str] = []
        self._tail_size = 0
        self._head_limit = head
        self._tail_limit = tail
        self.omitted = 0
        self.lines = 0
        """Lines seen so far (kept or not)."""

    def line(self, text: str) -> None:
        """Record one line (without its newline) and hand it to observers."""
        text = text.rstrip("\n")
        self.lines += 1
        self._publish(text)
        size = len(text) + 1
        if self._head_size + size <= self._head_limit and not self._tail:
            self._head.append(text)
            self._head_size += size
            return
        self._tail.append(text)
        self._tail_size += size
        while self._tail_size > self._tail_limit and len(self._tail) > 1:
            dropped = self._tail.pop(0)
            self._tail_size -= len(dropped) + 1
            self.omitted += len(dropped) + 1

    def text(self) -> str:
        """Everything kept, with a marker where the middle was left out."""
        lines = list(self._head)
        if self.omitted:
            lines.append(f"… {self.omitted} bytes omitted …")
        lines += self._tail
        return "\n".join(lines)

    def tail(self, count: int) -> list[str]:
        """The last `count` lines kept."""
        return (self._head + self._tail)[-count:]
