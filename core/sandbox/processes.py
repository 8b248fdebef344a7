"""Finding and killing the processes a local host started, and only those.

A session's processes are found two ways: by walking down from the process the host spawned,
and by a marker variable the host puts in every session's environment, which also finds those
that left the tree (double-forked daemons, `setsid`, orphans re-parented to init). Signals go
through a pidfd opened before the marker is checked, so a recycled PID is never hit.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

SWEEPS = 20  # rounds of find-and-kill, for processes forked while the last round ran


def kill_tree(root: int) -> None:
    """SIGKILL `root` and every process below it (children that started sessions included)."""
    for pid in _process_tree(root):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def kill_marked(name: str, value: str) -> set[int]:
    """SIGKILL every live process whose environment holds `name=value`; the PIDs signalled."""
    marker = f"{name}={value}".encode()
    hit: set[int] = set()
    for _ in range(SWEEPS):
        killed = {pid for pid in _pids() if pid != os.getpid() and _kill_if_marked(pid, marker)}
        if not killed:
            break
        hit |= killed
    return hit


def _kill_if_marked(pid: int, marker: bytes) -> bool:
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return False  # gone already, or not ours to see
    try:
        if not _carries(pid, marker):
            return False
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        return True
    except OSError:
        return False
    finally:
        os.close(pidfd)


def _carries(pid: int, marker: bytes) -> bool:
    """True when `pid` started with `marker` in its environment (a zombie has none)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return marker in environ.split(b"\0")


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


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
