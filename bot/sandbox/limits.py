"""Slack's limits, as pure checks: message rate per channel and Block Kit sizes.

The rate limiter is a token bucket per channel on an injected clock, so a test can post twice
"at once" and get a 429 without sleeping, then `advance()` the clock and post again. Block
checks return Slack-style messages (`[ERROR] … [json-pointer:/blocks/0/text/text]`); an empty
list means Slack would accept the blocks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Clock",
    "ManualClock",
    "MessageRate",
    "RateLimiter",
    "block_errors",
    "view_errors",
]

Clock = Callable[[], float]
"""Seconds since the epoch, like `time.time`."""

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
BLOCK_TYPES = frozenset(
    "actions context divider file header image input markdown rich_text section table video".split()
)


class ManualClock:
    """A clock that moves only when told to: `clock()` reads it, `advance(s)` moves it."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class MessageRate:
    """How fast one channel accepts messages: `per_second` steady, `burst` at once.

    Slack allows about one message per second per channel with short bursts over that.
    """

    per_second: float = 1.0
    burst: int = 3


class RateLimiter:
    """A token bucket per key (a channel id), refilled at `rate.per_second` on `clock`."""

    def __init__(self, rate: MessageRate, clock: Clock = time.time) -> None:
        self.rate = rate
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, key: str) -> int | None:
        """Take one token; None if granted, else the whole seconds to wait (`Retry-After`)."""
        now = self.clock()
        tokens, stamp = self._buckets.get(key, (float(self.rate.burst), now))
        tokens = min(float(self.rate.burst), tokens + (now - stamp) * self.rate.per_second)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return None
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.rate.per_second))


def _too_long(text: Any, limit: int, pointer: str) -> Iterator[str]:
    if not isinstance(text, str) or not text:
        yield f"[ERROR] must be more than 0 characters [json-pointer:{pointer}]"
    elif len(text) > limit:
        yield f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _text_object(obj: Any, limit: int, pointer: str, plain: bool = False) -> Iterator[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        yield f"[ERROR] must provide an object [json-pointer:{pointer}]"
    elif plain and obj["type"] != "plain_text":
        yield f"[ERROR] must be plain_text [json-pointer:{pointer}/type]"
    else:
        yield from _too_long(obj.get("text"), limit, f"{pointer}/text")


def _too_many(items: Any, limit: int, pointer: str) -> Iterator[str]:
    if isinstance(items, list) and len(items) > limit:
        yield f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]"


def _element(el: Any, pointer: str) -> Iterator[str]:
    """Interactive elements: ids, button labels and values, option lists."""
    if not isinstance(el, dict):
        yield f"[ERROR] must provide an object [json-pointer:{pointer}]"
        return
    if "action_id" in el and len(str(el["action_id"])) > 255:
        yield f"[ERROR] must be less than 256 characters [json-pointer:{pointer}/action_id]"
    if el.get("type") == "button":
        yield from _text_object(el.get("text"), 75, f"{pointer}/text", plain=True)
        if len(str(el.get("value", ""))) > 2000:
            yield f"[ERROR] must be less than 2001 characters [json-pointer:{pointer}/value]"
    yield from _too_many(el.get("options"), 100, f"{pointer}/options")


def _section(block: dict[str, Any], pointer: str) -> Iterator[str]:
    if "text" not in block and "fields" not in block:
        yield f"[ERROR] must provide text or fields [json-pointer:{pointer}]"
    if "text" in block:
        yield from _text_object(block["text"], 3000, f"{pointer}/text")
    fields = block.get("fields", [])
    yield from _too_many(fields, 10, f"{pointer}/fields")
    for i, item in enumerate(fields if isinstance(fields, list) else []):
        yield from _text_object(item, 2000, f"{pointer}/fields/{i}")
    if "accessory" in block:
        yield from _element(block["accessory"], f"{pointer}/accessory")


def _header(block: dict[str, Any], pointer: str) -> Iterator[str]:
    yield from _text_object(block.get("text"), 150, f"{pointer}/text", plain=True)


def _actions(block: dict[str, Any], pointer: str) -> Iterator[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        yield f"[ERROR] must provide at least 1 item [json-pointer:{pointer}/elements]"
        return
    yield from _too_many(elements, 25, f"{pointer}/elements")
    for i, el in enumerate(elements):
        yield from _element(el, f"{pointer}/elements/{i}")


def _context(block: dict[str, Any], pointer: str) -> Iterator[str]:
    yield from _too_many(block.get("elements"), 10, f"{pointer}/elements")


def _input(block: dict[str, Any], pointer: str) -> Iterator[str]:
    yield from _text_object(block.get("label"), 2000, f"{pointer}/label", plain=True)
    yield from _element(block.get("element"), f"{pointer}/element")


_BY_TYPE = {
    "section": _section,
    "header": _header,
    "actions": _actions,
    "context": _context,
    "input": _input,
}


def _block(block: Any, pointer: str) -> Iterator[str]:
    if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
        yield f"[ERROR] failed to match all allowed schemas [json-pointer:{pointer}]"
        return
    if len(str(block.get("block_id", ""))) > 255:
        yield f"[ERROR] must be less than 256 characters [json-pointer:{pointer}/block_id]"
    check = _BY_TYPE.get(block["type"])
    if check is not None:
        yield from check(block, pointer)


def block_errors(blocks: Any, limit: int = MAX_MESSAGE_BLOCKS, at: str = "/blocks") -> list[str]:
    """What Slack would say is wrong with these blocks (empty if nothing)."""
    if not isinstance(blocks, list):
        return [f"[ERROR] must provide an array [json-pointer:{at}]"]
    errors = list(_too_many(blocks, limit, at))
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        errors.extend(_block(block, f"{at}/{i}"))
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is None:
            continue
        if block_id in seen:
            errors.append(f"[ERROR] duplicate block_id [json-pointer:{at}/{i}/block_id]")
        seen.add(block_id)
    return errors


def view_errors(view: Any) -> list[str]:
    """What Slack would say is wrong with a modal or home view (empty if nothing)."""
    if not isinstance(view, dict):
        return ["[ERROR] must provide an object [json-pointer:/view]"]
    errors = block_errors(view.get("blocks", []), MAX_VIEW_BLOCKS, "/view/blocks")
    if view.get("type") == "modal":
        errors += _text_object(view.get("title"), 24, "/view/title", plain=True)
        for button in ("submit", "close"):
            if button in view:
                errors += _text_object(view[button], 24, f"/view/{button}", plain=True)
    if len(str(view.get("private_metadata", ""))) > 3000:
        errors.append(
            "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"
        )
    if len(str(view.get("callback_id", ""))) > 255:
        errors.append("[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]")
    return errors
