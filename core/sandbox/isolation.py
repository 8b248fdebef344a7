"""A private file system view per local host: its root folder bind-mounted over a shared path.

Each command runs in a mount namespace of its own, where `root` is bind-mounted over
`mount_at`, so hosts configured with the same absolute deploy path each see their own folder.
As root that needs only `unshare --mount`; an ordinary user first enters a user namespace
mapped to root (`--user --map-root-user`), so commands there see themselves as uid 0. Neither
namespace touches process IDs: a process group reported from inside is the real one.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROBE_TIMEOUT = 10.0
_AS_ROOT = ("unshare", "--mount", "--propagation", "private", "--")
_AS_USER = ("unshare", "--user", "--map-root-user", "--mount", "--propagation", "private", "--")
# $1 is the host's root folder, $2 the shared path it appears at, $3 the command to run there.
_MOUNT_THEN_RUN = 'mount --bind "$1" "$2" && cd "$2" && exec bash -c "$3"'


@dataclass(frozen=True)
class _Probe:
    prefix: tuple[str, ...] | None
    reason: str | None


def isolation_available() -> str | None:
    """Why hosts cannot get a private root on this machine, or None when they can."""
    return _probe().reason


def isolated_argv(root: Path, mount_at: Path, command: str, *, label: str) -> list[str]:
    """The argv that runs `command` with `root` bind-mounted over `mount_at`, privately."""
    prefix = _probe().prefix
    if prefix is None:
        raise RuntimeError(f"isolation is not available: {_probe().reason}")
    return [*prefix, "sh", "-c", _MOUNT_THEN_RUN, label, str(root), str(mount_at), command]


@functools.cache
def _probe() -> _Probe:
    """Try a real private bind mount, as root first when we are root, then in a user namespace."""
    missing = [tool for tool in ("unshare", "mount", "sh", "bash") if shutil.which(tool) is None]
    if missing:
        return _Probe(None, f"{', '.join(missing)} not found (util-linux and bash are needed)")
    attempts = [_AS_ROOT, _AS_USER] if os.geteuid() == 0 else [_AS_USER]
    failures = []
    for prefix in attempts:
        failure = _try(prefix)
        if failure is None:
            return _Probe(prefix, None)
        failures.append(f"`{' '.join(prefix[:-1])}`: {failure}")
    return _Probe(None, "private bind mounts are not permitted here: " + "; ".join(failures))


def _try(prefix: tuple[str, ...]) -> str | None:
    """Bind a folder holding a file over an empty one; None when only the namespace saw it."""
    with tempfile.TemporaryDirectory(prefix="hoist-isolation-") as tmp:
        root, mount_at = Path(tmp, "root"), Path(tmp, "mount_at")
        root.mkdir()
        mount_at.mkdir()
        (root / "probe").touch()
        argv = [*prefix, "sh", "-c", _MOUNT_THEN_RUN, "hoist-probe", str(root), str(mount_at)]
        try:
            done = subprocess.run(
                [*argv, "test -e probe"],
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        if done.returncode != 0:
            return done.stderr.strip() or f"exit status {done.returncode}"
        if (mount_at / "probe").exists():
            return "the bind mount leaked out of its namespace"
    return None
