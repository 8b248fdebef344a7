"""What a release cost, in words every surface shows: bytes and files sent, and where the time
went stage by stage. Pure functions of the nodes' stored facts."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.status import LOCAL_STAGES, SERVER_STAGES, Stage

DELTA, FULL, NONE = "delta", "full", "none"
"""How an upload node sent the release: changed files only, whole, or not at all."""

_ORDER = [s.value for s in (*LOCAL_STAGES, *SERVER_STAGES, Stage.HEALTH)]
_NAMED = 3
"""Servers named beside a whole upload; the rest are counted."""


@dataclass(frozen=True)
class NodeFacts:
    """What the summaries read of one node."""

    stage: str
    server: str
    status: str
    seconds: float | None = None
    bytes_sent: int = 0
    files_sent: int = 0
    transfer: str = ""


@dataclass(frozen=True)
class Transfers:
    """How the release reached the servers: per kind of upload, the servers and the sizes."""

    delta: dict[str, tuple[int, int]]
    """Server → (files, bytes) sent as a delta."""
    full: dict[str, int]
    """Server → bytes of the whole release sent."""
    kept: list[str]
    """Servers that already had the release (a rollback): nothing sent."""
    seconds: float | None
    """The slowest server's upload and switch, together."""

    @property
    def total(self) -> int:
        return sum(b for _, b in self.delta.values()) + sum(self.full.values())

    @property
    def servers(self) -> int:
        return len(self.delta) + len(self.full) + len(self.kept)


def transfers(nodes: Iterable[NodeFacts]) -> Transfers | None:
    """The upload nodes that finished, summed up; None before any did."""
    delta: dict[str, tuple[int, int]] = {}
    full: dict[str, int] = {}
    kept: list[str] = []
    per_server: dict[str, float] = {}
    for node in nodes:
        if node.stage in (Stage.UPLOAD, Stage.DEPLOY) and node.seconds is not None:
            per_server[node.server] = per_server.get(node.server, 0.0) + node.seconds
        if node.stage != Stage.UPLOAD or node.status != "succeeded":
            continue
        if node.transfer == DELTA:
            delta[node.server] = (node.files_sent, node.bytes_sent)
        elif node.transfer == FULL or node.bytes_sent:
            full[node.server] = node.bytes_sent
        else:
            kept.append(node.server)
    if not (delta or full or kept):
        return None
    done = set(delta) | set(full) | set(kept)
    times = [s for server, s in per_server.items() if server in done]
    return Transfers(delta, full, kept, max(times) if times else None)


def transfer_text(found: Transfers, name: Callable[[str], str] = str) -> str:
    """E.g. `3 files, 14.2 kB to 50 servers · 710.0 kB in all · 1.1 s`. Beside deltas, the
    servers sent the whole release are named (each through `name`, which may quote it):
    `… · whole release (12.0 MB) to 2 servers: web3, web7`."""
    parts = []
    if found.delta:
        counts = [f for f, _ in found.delta.values()]
        files = _span(counts) + (" file" if max(counts) == 1 else " files")
        sizes = _span([b for _, b in found.delta.values()], size)
        parts.append(f"{files}, {sizes} to {_servers(len(found.delta))}")
    if found.full:
        names = sorted(found.full)
        sizes = _span(list(found.full.values()), size)
        text = f"whole release ({sizes}) to {_servers(len(names))}"
        if found.delta:  # the exceptions are worth naming
            text += ": " + ", ".join(name(n) for n in names[:_NAMED])
            text += f" and {len(names) - _NAMED} more" if len(names) > _NAMED else ""
        parts.append(text)
    if found.kept:
        parts.append(f"already on {_servers(len(found.kept))}")
    parts.append(f"{size(found.total)} in all")
    if found.seconds is not None:
        parts.append(f"{found.seconds:.1f} s")
    return " · ".join(parts)


@dataclass(frozen=True)
class StageTiming:
    stage: str
    nodes: int
    median: float
    slowest: float


def stage_timings(nodes: Iterable[NodeFacts]) -> list[StageTiming]:
    """Per stage that ran, in pipeline order: how many nodes, their median and slowest."""
    seconds: dict[str, list[float]] = {}
    for node in nodes:
        if node.seconds is not None and node.status in ("succeeded", "failed"):
            seconds.setdefault(node.stage, []).append(node.seconds)
    return [
        StageTiming(stage, len(values), statistics.median(values), max(values))
        for stage in _ORDER
        if (values := seconds.get(stage))
    ]


def timing_text(timings: Iterable[StageTiming]) -> str:
    """E.g. `package 0.8 s · upload 0.3 s (slowest 0.5 s) · deploy 0.1 s`: the median of
    each stage, and its slowest node when it is noticeably slower."""
    parts = []
    for timing in timings:
        text = f"{timing.stage.replace('_', '-')} {timing.median:.1f} s"
        if timing.nodes > 1 and timing.slowest - timing.median >= 0.05:
            text += f" (slowest {timing.slowest:.1f} s)"
        parts.append(text)
    return " · ".join(parts)


def size(count: int) -> str:
    """Bytes in decimal units: `512 B`, `12.3 MB`."""
    if count < 1000:
        return f"{count} B"
    value = count / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def files(count: int) -> str:
    """`1 file`, `3 files`."""
    return f"{count} file" + ("" if count == 1 else "s")


def _span(values: list[int], show: Callable[[int], str] = str) -> str:
    low, high = min(values), max(values)
    return show(low) if low == high else f"{show(low)}–{show(high)}"


def _servers(count: int) -> str:
    return f"{count} server" + ("" if count == 1 else "s")
