"""The shell scripts the engine runs on servers, built in one place with proper quoting.

Each returns the text of a script that is fed to `bash -s` on standard input, so nothing in it
passes through the remote login shell's command line. Every value that comes from people or
git (paths, versions) is quoted with `shlex.quote`.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from core.engine.plan import ReleasePaths

q = shlex.quote

PREVIOUS = "previous: "
"""Switch scripts first print this, then where the link pointed before."""


def _print_previous(link: str) -> str:
    return f'echo "{PREVIOUS}$(readlink {q(link)} || true)"'


def unpack_and_switch(paths: ReleasePaths) -> str:
    """Unpack the release beside the others, then point the link at it atomically.

    The release is unpacked under a temporary name and renamed into place, and the link is
    made under a temporary name and renamed over the old one (`mv -T`, a rename(2)), so the
    deploy path always names a whole release.
    """
    tmp = paths.release_dir + ".hoist-tmp"
    link_tmp = paths.link + ".hoist-tmp"
    return "\n".join(
        [
            "set -eu",
            _print_previous(paths.link),
            f"rm -rf {q(tmp)}",
            f"mkdir -p {q(tmp)}",
            f"tar -xzf {q(paths.archive)} -C {q(tmp)} --no-same-owner",
            f"rm -rf {q(paths.release_dir)}",
            f"mv {q(tmp)} {q(paths.release_dir)}",
            switch_link(paths.link, paths.release_dir, link_tmp),
            f"rm -f {q(paths.archive)}",
        ]
    )


def switch_link(link: str, target: str, link_tmp: str | None = None) -> str:
    """Point `link` at `target` atomically."""
    link_tmp = link_tmp or link + ".hoist-tmp"
    return "\n".join(
        [
            f"mkdir -p {q(posixpath_dir(link))}",
            f"ln -sfn {q(target)} {q(link_tmp)}",
            f"mv -fT {q(link_tmp)} {q(link)}",
        ]
    )


def rollback_to(paths: ReleasePaths) -> str:
    """Point the link back at an existing release; exit 4 if the server no longer has it."""
    return "\n".join(
        [
            "set -eu",
            _print_previous(paths.link),
            f"[ -d {q(paths.release_dir)} ] "
            "|| { echo 'release not on this server' >&2; exit 4; }",
            switch_link(paths.link, paths.release_dir),
        ]
    )


def list_releases(paths: ReleasePaths) -> str:
    """Print `live <target>` then one release folder name per line."""
    return "\n".join(
        [
            "set -eu",
            f'echo "live $(readlink {q(paths.link)} || true)"',
            f"[ -d {q(paths.codes_dir)} ] || exit 0",
            f"cd {q(paths.codes_dir)}",
            'for d in */; do [ -d "$d" ] && echo "${d%/}"; done',
        ]
    )


def remove_releases(paths: ReleasePaths, names: Sequence[str]) -> str:
    """Delete old release folders by name (names come from `list_releases`)."""
    targets = " ".join(q(f"{paths.codes_dir}/{name}") for name in names)
    return f"set -eu\nrm -rf -- {targets}" if names else "true"


def hook(script: str, env: Mapping[str, str], cwd: str) -> str:
    """A person's hook script, run in `cwd` with the task's facts exported."""
    exports = [f"export {name}={q(value)}" for name, value in sorted(env.items())]
    return "\n".join([*exports, f"mkdir -p {q(cwd)} && cd {q(cwd)}", "set -e", script])


def posixpath_dir(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[0] or "/"
