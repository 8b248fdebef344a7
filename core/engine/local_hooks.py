"""Running people's hook scripts on the Hoist machine, away from Hoist's own secrets.

A local hook gets a scrubbed environment (PATH, HOME, LANG and the task's facts; none of
Hoist's variables), runs in its own process group (so cancel and timeout end all of it), and,
where Linux mount namespaces are available, sees Hoist's secret file and database file
replaced by empty files.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from core.engine.output import NodeOutput

KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
KILL_GRACE = 2.0


class HookTimeout(Exception):
    """The hook ran past its time and was killed."""


@functools.cache
def isolation_command() -> tuple[str, ...] | None:
    """The unshare prefix that works on this machine (as root, or via a user namespace).

    A new PID namespace with its own /proc is part of it: without one, a hook could read
    Hoist's environment and files through /proc/<its parent>/environ and /proc/<pid>/root.
    """
    isolate = ("--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc")
    candidates: list[tuple[str, ...]] = [("unshare", *isolate)]
    if os.geteuid() != 0:
        candidates = [("unshare", "--user", "--map-root-user", *isolate)]
    for prefix in candidates:
        try:
            probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return prefix
    return None


def scrubbed_env(
    facts: Mapping[str, str], source: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The hook's environment: a few harmless variables of ours plus the task's facts."""
    source = os.environ if source is None else source
    env = {name: source[name] for name in KEPT_VARIABLES if name in source}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    return env | dict(facts)


def command_for(hidden: Sequence[Path]) -> list[str]:
    """argv that runs a script from stdin, with `hidden` files masked where possible."""
    prefix = isolation_command()
    masked = [str(p) for p in _with_sidecars(hidden) if p.exists()]
    if prefix is None:
        return ["bash", "-s"]
    mask = 'for f; do mount --bind /dev/null "$f"; done; exec bash -s'
    return [*prefix, "--", "sh", "-c", mask, "hoist-hook", *masked]


def _with_sidecars(hidden: Sequence[Path]) -> list[Path]:
    """SQLite keeps recent writes beside the database file: hide those too."""
    return [p.with_name(p.name + suffix) for p in hidden for suffix in ("", "-wal", "-journal")]


async def run_local_hook(
    script: str,
    *,
    cwd: Path,
    facts: Mapping[str, str],
    output: NodeOutput,
    timeout: float,
    hidden: Sequence[Path] = (),
) -> int:
    """Run `script` in `cwd`; stream its output; return its exit status."""
    process = await asyncio.create_subprocess_exec(
        *command_for(hidden),
        cwd=cwd,
        env=scrubbed_env(facts),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        return await asyncio.wait_for(_feed_and_read(process, script, output), timeout)
    except TimeoutError:
        await _kill_group(process)
        raise HookTimeout(f"hook ran past its {timeout:g} s limit and was stopped") from None
    except asyncio.CancelledError:
        await _kill_group(process)
        raise


async def _feed_and_read(
    process: asyncio.subprocess.Process, script: str, output: NodeOutput
) -> int:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(("set -e\n" + script + "\n").encode())
    with contextlib.suppress(ConnectionError):
        await process.stdin.drain()
    process.stdin.close()
    async for raw in process.stdout:
        output.line(raw.decode(errors="replace"))
    return await process.wait()


async def _kill_group(process: asyncio.subprocess.Process) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            await asyncio.wait_for(process.wait(), KILL_GRACE)
            return
        except TimeoutError:
            continue
