"""Masking secrets in the logs the web pages serve: private keys, URL passwords, Slack tokens.

Hooks print what they like; the page and the downloads must never hand out a key or a token
someone's script echoed. Whole texts are masked with `redact`; live lines one at a time with a
`LineRedactor`, which remembers when a node is in the middle of a private-key block.
"""

from __future__ import annotations

import re

KEY_MASK = "[private key redacted]"

_BEGIN = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
_END = r"-----END [A-Z0-9 ]*PRIVATE KEY-----"
# A whole block; one cut short (its end beyond what was kept) runs to the end of the text.
_KEY_BLOCK = re.compile(rf"{_BEGIN}.*?(?:{_END}|\Z)", re.DOTALL)
# The end of a block whose beginning fell in the omitted middle: the key lines before it too.
_KEY_TAIL = re.compile(rf"(?:^[A-Za-z0-9+/=]{{16,}}[ \t]*\r?\n)*{_END}", re.MULTILINE)
_URL_CREDENTIALS = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@:]*:[^/\s@]*@")
_SLACK_TOKEN = re.compile(r"\b(xox[abepr]|xapp)-[A-Za-z0-9\-]+")


def redact(text: str) -> str:
    """`text` with private-key blocks, `user:password@` in URLs and Slack tokens masked."""
    text = _KEY_BLOCK.sub(KEY_MASK, text)
    text = _KEY_TAIL.sub(KEY_MASK, text)
    return redact_line(text)


def redact_line(text: str) -> str:
    """The single-line rules: URL credentials and Slack tokens."""
    text = _URL_CREDENTIALS.sub(r"\1***:***@", text)
    return _SLACK_TOKEN.sub(r"\1-***", text)


class LineRedactor:
    """Masks a stream of lines per node, hiding every line of a private-key block."""

    def __init__(self) -> None:
        self._inside: set[int] = set()

    def line(self, node_id: int, text: str) -> str | None:
        """The line to show, or None for a line inside a key block (after its mask)."""
        if node_id in self._inside:
            if re.search(_END, text):
                self._inside.discard(node_id)
            return None
        begin = re.search(_BEGIN, text)
        if begin is not None:
            if not re.search(_END, text[begin.end() :]):
                self._inside.add(node_id)
            return redact_line(text[: begin.start()]) + KEY_MASK
        return redact(text)
