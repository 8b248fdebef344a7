"""The shell scripts the engine runs on servers, built in one place with proper quoting.

Each returns the text of a script that is fed to `bash -s` on standard input, so nothing in it
passes through the remote login shell's command line. Every value that comes from people or
git (paths, versions) is quoted with `shlex.quote`.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.engine.plan import ReleasePaths

q = shlex.quote

PREVIOUS = "previous: "
"""Switch scripts first print this, then where the link pointed before."""


def _print_previous(link: str) -> str:
    return f'echo "{PREVIOUS}$(readlink {q(link)} || true)"'


LISTING_FIND = (
    r"find . -mindepth 1 \( -type f -printf 'f %m %s %P\0' \)"
    r" -o \( -type d -printf 'd %m %P\0' \)"
    r" -o \( -type l -printf 'l %P -> %l\0' \)"
    r" -o -printf '%y %P\0'"
)
"""Prints the listing of the current folder's tree, record for record as
`Manifest.listing` builds it (before sorting)."""

STAT_FILES = "TZ=UTC xargs -0r stat -c '%i %s %y' --"
"""Prints inode, size and change time of each NUL-separated path on standard input: taken when
a release is installed, and again before a release is linked from it."""

GONE = 4
"""Exit status of `install_and_switch` when the server has the release neither staged nor
installed."""

NOT_LIVE, BASE_CHANGED, CANNOT_LINK, MISMATCH = 3, 4, 5, 6
"""Exit statuses of `stage_release`: the base is not what the server points at (it prints
`live: <name>`), the base's files changed since it was installed (or it has no manifest), the
filesystem refused a hard link, the staged tree is not the release."""


@dataclass(frozen=True)
class DeltaBase:
    """What a delta is built on: the base release, its manifest's SHA-256, and the BLAKE2b
    (`b2sum`, three times faster than coreutils' sha256sum) of the sent files' bytes, in the
    order of the `sent` list."""

    version: str
    manifest_sha256: str
    sent_b2sum: str


def stage_release(
    paths: ReleasePaths, *, meta_size: int, listing_sha256: str, base: DeltaBase | None
) -> str:
    """Build the release in its staging folder from standard input, and verify it.

    Standard input holds `meta_size` bytes of a gzip'd tar of the manifest files (`manifest`,
    `paths`, and for a delta `remove`, `moved`, `sent`, `all`), then a gzip'd tar of the tree:
    the whole release, or for a delta what the base does not have as is.

    A delta starts as a copy of the base made of hard links (`cp -al`: directories are new,
    files are links), from which the paths that changed or went away (`remove`) are unlinked
    before the sent tree is unpacked; renamed files are linked from their old path (`moved`,
    pairs). No file of the base is ever opened for writing. Files the base gained after it was
    installed (caches, logs) are not in the release: when the listing does not match, paths
    that are not in `all` are removed and it is checked again.

    The staged tree's listing must hash to `listing_sha256`, and a delta's sent files' bytes to
    `sent_b2sum`. A fingerprint of the files (inode, size, time) is kept in `stat`, to tell
    later whether the release was changed after it was installed.
    """
    staged, meta, codes = q(paths.staged), q(paths.meta), paths.codes_dir
    listing = f"$(cd {staged} && {LISTING_FIND} | sort -z | sha256sum)"
    expected = q(listing_sha256 + "  -")
    mismatch = (
        f"{{ echo 'the staged release does not match its manifest'; rm -rf {staged}; "
        f"exit {MISMATCH}; }}"
    )
    lines = ["set -euo pipefail", "export LC_ALL=C"]
    if base is not None:
        base_dir = q(f"{codes}/{base.version}")
        kept = q(paths.manifest_dir(base.version))
        lines += [
            f'live="$(readlink {q(paths.link)} || true)"',
            f'[ "$live" = {base_dir} ] || {{ echo "live: ${{live##*/}}"; exit {NOT_LIVE}; }}',
            f"[ -e {kept}/manifest ] && [ -e {kept}/stat ] && [ -e {kept}/paths ] "
            f"|| {{ echo 'no manifest beside the live release'; exit {BASE_CHANGED}; }}",
            f'[ "$(sha256sum < {kept}/manifest)" = {q(base.manifest_sha256 + "  -")} ] '
            f"|| {{ echo 'the manifest beside the live release is not the one Hoist wrote'; "
            f"exit {BASE_CHANGED}; }}",
            f'[ "$(cd {base_dir} && {STAT_FILES} < {kept}/paths 2>/dev/null | sha256sum)" '
            f'= "$(< {kept}/stat)" ] '
            f"|| {{ echo 'files of the live release changed since it was installed'; "
            f"exit {BASE_CHANGED}; }}",
        ]
    lines += [
        f"[ ! -e {staged} ] && [ ! -e {meta} ] || rm -rf {staged} {meta}",
        f"mkdir -p {meta}",
        f"dd bs={meta_size} count=1 iflag=fullblock status=none | tar -xzf - -C {meta}",
    ]
    if base is None:
        lines += [
            f"mkdir {staged}",
            f"tar -xzpf - -C {staged} --no-same-owner",
            f'got="{listing}"',
        ]
    else:
        base_dir = q(f"{codes}/{base.version}")
        cannot_link = f"{{ rm -rf {staged}; exit {CANNOT_LINK}; }}"
        lines += [
            f"cp -al {base_dir} {staged} || {cannot_link}",
            f"[ ! -s {meta}/remove ] || ( cd {staged} && xargs -0r rm -rf -- < {meta}/remove )",
            f"tar -xzpf - -C {staged} --no-same-owner",
            f"[ ! -s {meta}/moved ] || while IFS= read -r -d '' src && IFS= read -r -d '' dst; "
            f'do ln -- {base_dir}/"$src" {staged}/"$dst" || {cannot_link}; '
            f"done < {meta}/moved",
            f'[ "$(cd {staged} && xargs -0r cat -- < {meta}/sent | b2sum)" '
            f"= {q(base.sent_b2sum + '  -')} ] "
            f"|| {{ echo 'the sent files do not match their manifest'; rm -rf {staged}; "
            f"exit {MISMATCH}; }}",
            f'got="{listing}"',
            f'if [ "$got" != {expected} ]; then',
            f"  ( cd {staged} && find . -mindepth 1 -printf '%P\\0' | sort -z "
            f"| comm -z -23 - {meta}/all | xargs -0r rm -rf -- )",
            f'  got="{listing}"',
            "fi",
        ]
    lines += [
        f'[ "$got" = {expected} ] || {mismatch}',
        f"( cd {staged} && {STAT_FILES} < {meta}/paths | sha256sum ) > {meta}/stat",
        f"rm -f {meta}/remove {meta}/moved {meta}/sent {meta}/all",
    ]
    return "\n".join(lines)


def install_and_switch(paths: ReleasePaths) -> str:
    """Move a staged release into place (with its manifest files beside it) and point the
    link at it; or, with nothing staged, point the link at the release already there (exit 4
    when the server has neither).

    The link is made under a temporary name and renamed over the old one (`mv -T`, a
    rename(2)), so the deploy path always names a whole release.
    """
    release, staged, meta = q(paths.release_dir), q(paths.staged), q(paths.meta)
    kept = q(paths.manifest_dir(paths.version))
    return "\n".join(
        [
            "set -euo pipefail",
            _print_previous(paths.link),
            f"if [ -d {staged} ]; then",
            f"  [ ! -e {release} ] && [ ! -e {kept} ] || rm -rf {release} {kept}",
            f"  mkdir -p {q(paths.manifests)}",
            f"  mv {meta} {kept}",
            f"  mv {staged} {release}",
            f"elif [ ! -d {release} ]; then",
            f"  echo 'release not on this server' >&2; exit {GONE}",
            "fi",
            switch_link(paths.link, paths.release_dir),
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


def list_releases(paths: ReleasePaths, *, clear_uploads: bool = False) -> str:
    """Print `live <target>` then one release folder name per line. With `clear_uploads`,
    first remove what other tasks left half-staged (a cancel, a crash): only one task runs
    per environment, and its own staged release was moved into place already."""
    clear = []
    if clear_uploads:
        uploads = q(posixpath_dir(paths.staged))
        clear = [
            f"[ ! -d {uploads} ] || find {uploads} -mindepth 1 -maxdepth 1 "
            f"! -name {q(paths.version + '.*')} -exec rm -rf {{}} +"
        ]
    return "\n".join(
        [
            "set -eu",
            *clear,
            f'echo "live $(readlink {q(paths.link)} || true)"',
            f"[ -d {q(paths.codes_dir)} ] || exit 0",
            f"cd {q(paths.codes_dir)}",
            'for d in */; do [ -d "$d" ] && echo "${d%/}"; done',
        ]
    )


def remove_releases(paths: ReleasePaths, names: Sequence[str]) -> str:
    """Delete old release folders by name (names come from `list_releases`)."""
    targets = " ".join(
        q(path)
        for name in names
        for path in (f"{paths.codes_dir}/{name}", paths.manifest_dir(name))
    )
    return f"set -eu\nrm -rf -- {targets}" if names else "true"


def hook(script: str, env: Mapping[str, str], cwd: str) -> str:
    """A person's hook script, run in `cwd` with the task's facts exported."""
    exports = [f"export {name}={q(value)}" for name, value in sorted(env.items())]
    return "\n".join([*exports, f"mkdir -p {q(cwd)} && cd {q(cwd)}", "set -e", script])


def posixpath_dir(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[0] or "/"
