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


_LISTING = {
    "f": r"'f %m %s %P\0'",
    "d": r"'d %m %P\0'",
    "l": r"'l %P -> %l\0'",
    "": r"'%y %P\0'",
}
"""The listing record of each kind of entry, as `Manifest.listing` builds it (before
sorting); "" is every other kind."""

_FINGERPRINT = {
    "f": r"'f %i %s %T@ %P\0'",
    "d": r"'d 0 0 0 %P\0'",
    "l": r"'l %i 0 0 %P\0'",
    "": r"'%y 0 0 0 %P\0'",
}
"""A release's fingerprint: inode, size and modification time of each file (and the inode
of each symlink), taken when it is staged. A file edited or replaced since has another;
directories are named only, as the application may add files to them."""


def _find(
    root: str, formats: Mapping[str, str], also: tuple[str, Mapping[str, str]] | None = None
) -> str:
    """`find` printing a record per entry under `root` (relative paths), and with `also`
    (a file, formats) a second record per entry into that file."""
    branches = []
    for kind, fmt in formats.items():
        test = f"-type {kind} " if kind else ""
        extra = f" -fprintf {also[0]} {also[1][kind]}" if also else ""
        branches.append(rf"\( {test}-printf {fmt}{extra} \)")
    return f"find {root} -mindepth 1 " + " -o ".join(branches)


GONE = 4
"""Exit status of `install_and_switch` when the server has the release neither staged nor
installed."""

NOT_LIVE, BASE_CHANGED, CANNOT_LINK, MISMATCH = 3, 4, 5, 6
"""Exit statuses of staging a release: the base is not what the server points at (it prints
`live: <name>`), the base's files changed since it was installed (or it has no manifest), the
filesystem refused a hard link, the staged tree is not the release."""

RELEASE, LIVE = "__hoist_release__ ", "__hoist_live__ "
"""Staging ends by printing each release folder of the environment behind `RELEASE`
and the one the link points at behind `LIVE`: what the deploy stage may then remove."""

STAGED = "__hoist_staged__"
"""A staged delta prints this, then waits for the script that installs it."""

_REMOVE_CHUNK = 500
"""Paths per `rm` command line, well under any server's ARG_MAX."""


ABANDONED = 97
"""Exit status of `prepare_delta` when its input ended before the rest of the script came."""


@dataclass(frozen=True)
class DeltaBase:
    """What a delta is built on: the base release (the live one) and the SHA-256 of its
    manifest."""

    version: str
    manifest_sha256: str


@dataclass(frozen=True)
class Staging:
    """What the server is told about the stream it is sent."""

    manifest_sha256: str
    """The new release's manifest: what a patched manifest must hash to."""
    listing_sha256: str
    """What the staged tree's listing must hash to."""
    meta_size: int = 0
    """A whole release: the bytes of the gzip'd tar of its manifest in front of the tree."""
    gzip: bool = True
    """Whether a delta's tar is gzip'd."""


_HEAD = ["set -euo pipefail", "shopt -s lastpipe nullglob", "export LC_ALL=C"]


def _clear_uploads(paths: ReleasePaths) -> list[str]:
    """Go to the environment's upload folder and empty it: one task at a time runs per
    environment, so anything there is left over (a cancel, a crash, a failed check)."""
    up = q(posixpath_dir(paths.staged))
    return [
        f"[ -d {up} ] || mkdir -p -- {up}",
        f"cd -- {up}",
        'left=(*); [ "${#left[@]}" -eq 0 ] || rm -rf -- "${left[@]}"',
    ]


def _names(paths: ReleasePaths) -> tuple[str, str, str]:
    """The staged tree, the manifest folder and the work folder, in the upload folder."""
    staged, meta, work = (q(f"{paths.version}.{part}") for part in ("staged", "meta", "work"))
    return staged, meta, work


def prepare_delta(paths: ReleasePaths, base: DeltaBase) -> str:
    """Stage a delta, first part (it needs nothing of the new release, so it can run while
    the release is packaged): check the live release, copy it as hard links, and wait for
    the rest of the script (`finish_delta`, sent with the delta behind it).

    The live release must be `base`, with the manifest Hoist wrote (its `digest`), and its
    files unchanged since it was staged: its fingerprint must still hold every entry recorded
    then. Entries the application added since (`__pycache__`, logs) are allowed and removed
    from the copy. The copy is `cp -al`: directories are new, files are hard links. With such
    entries, a link `cp` could not make (a file of another user, where the kernel protects
    hard links) is not an error: if it was one of the release's own, the check of the staged
    tree fails and the server gets the whole release.
    """
    staged, _, _ = _names(paths)
    link = q(paths.link)
    base_dir = q(f"{paths.codes_dir}/{base.version}")
    kept = q(paths.manifest_dir(base.version))
    fingerprint = _find(base_dir, _FINGERPRINT)
    return "\n".join(
        [
            *_HEAD,
            f"if ! cd -P -- {link} 2>/dev/null || [ ! . -ef {base_dir} ]; then",
            f'  live="$(readlink -- {link} || true)"; echo "live: ${{live##*/}}"; exit {NOT_LIVE}',
            "fi",
            "digest=",
            f"{{ IFS= read -r digest < {kept}/digest; }} 2>/dev/null || true",
            f'if [ "$digest" != {q(base.manifest_sha256)} ] || [ ! -f {kept}/manifest ] '
            f"|| [ ! -f {kept}/stat ]; then",
            f"  echo 'the live release has no manifest that this Hoist wrote'; exit {BASE_CHANGED}",
            "fi",
            *_clear_uploads(paths),
            "extras=()",
            f"if ! {fingerprint} | cmp -s - {kept}/stat; then",
            f"  comm -z -3 <(sort -z {kept}/stat) <({fingerprint} | sort -z) "
            "| while IFS= read -r -d '' r; do",
            "    if [ \"${r:0:1}\" != $'\\t' ]; then",
            "      echo 'files of the live release changed since it was installed'; "
            f"exit {BASE_CHANGED}",
            "    fi",
            f'    r="${{r:1}}"; extras+=({staged}/"${{r#* * * * }}")',
            "  done",
            "fi",
            f'cp -al -- {base_dir} {staged} 2>/dev/null || [ "${{#extras[@]}}" -gt 0 ] '
            f"|| {{ rm -rf {staged}; echo 'the filesystem refused a hard link'; "
            f"exit {CANNOT_LINK}; }}",
            '[ "${#extras[@]}" -eq 0 ] || rm -rf -- "${extras[@]}"',
            f"IFS= read -r -d '' __hoist_rest || exit {ABANDONED}",
            'eval "$__hoist_rest"',
        ]
    )


def finish_delta(
    paths: ReleasePaths, staging: Staging, base: DeltaBase, remove: Sequence[str], size: int
) -> str:
    """Stage a delta, second part: its standard input is `size` bytes of one tar (gzip'd
    with `gzip`) of `<version>.meta/`, the work files under `<version>.work/` (the manifest
    lines to drop, `manifest.del`, and to add, `manifest.add`; `sums`, the sent files'
    BLAKE2b as `b2sum -c` reads it; `moved`, NUL-separated pairs of renamed files) and the
    entries that travel, under `<version>.staged/`.

    The paths in `remove` are unlinked from the copy first, the tar is unpacked over it
    (GNU tar unlinks a file or symlink in the way before it creates a member, so no file of
    the base is ever opened for writing), renamed files are linked from their old path. The
    sent files must match `sums`, and the new manifest is the base's with its lines patched,
    which must hash to `manifest_sha256`. Then as `_finish`; and once staged, it prints
    `STAGED` and runs the next script it is sent (`install_and_switch`, in the same session)
    or, at the end of its input, exits.
    """
    staged, meta, work = _names(paths)
    base_dir = q(f"{paths.codes_dir}/{base.version}")
    kept = q(paths.manifest_dir(base.version))
    gone = f"rm -rf {staged} {meta} {work}"
    lines = []
    targets = [q(f"{paths.version}.staged/{path}") for path in remove]
    for at in range(0, len(targets), _REMOVE_CHUNK):
        lines.append("rm -rf -- " + " ".join(targets[at : at + _REMOVE_CHUNK]))
    lines += [
        f"head -c {size} | tar -x{'z' if staging.gzip else ''}pf - --no-same-owner",
        f"[ ! -s {work}/moved ] || while IFS= read -r -d '' src && IFS= read -r -d '' dst; "
        f'do ln -- {base_dir}/"$src" {staged}/"$dst" || {{ {gone}; exit {CANNOT_LINK}; }}; '
        f"done < {work}/moved",
        f'mismatch() {{ {gone}; echo "$1"; exit {MISMATCH}; }}',
        f"[ ! -s {work}/sums ] || b2sum --quiet --strict -c {work}/sums "
        "|| mismatch 'the sent files do not match their manifest'",
        f"comm -23 {kept}/manifest {work}/manifest.del | sort -m - {work}/manifest.add "
        f"> {meta}/manifest",
        f'[ "$(sha256sum < {meta}/manifest)" = {q(staging.manifest_sha256 + "  -")} ] '
        "|| mismatch 'the manifest patched from the live one is not the new one'",
    ]
    return "\n".join(
        [
            *lines,
            *_finish(paths, staging),
            f"rm -rf -- {work}",
            *_listing(paths),
            f"echo {STAGED}",
            "IFS= read -r -d '' __hoist_next || exit 0",
            'eval "$__hoist_next"',
        ]
    )


def stage_whole(paths: ReleasePaths, staging: Staging) -> str:
    """Stage a whole release from standard input: `meta_size` bytes of a gzip'd tar holding
    `<version>.meta/manifest`, then the gzip'd tree. Then as `_finish`."""
    staged, _, _ = _names(paths)
    return "\n".join(
        [
            *_HEAD,
            *_clear_uploads(paths),
            f"dd bs={staging.meta_size} count=1 iflag=fullblock status=none | tar -xzf -",
            f"mkdir {staged}",
            f"tar -xzpf - -C {staged} --no-same-owner",
            *_finish(paths, staging),
            *_listing(paths),
        ]
    )


def _finish(paths: ReleasePaths, staging: Staging) -> list[str]:
    """The staged tree's listing must hash to `listing_sha256`; its fingerprint is kept in
    `<version>.meta/stat` (in the order `find` walks it: the same walk finds the same order
    while nothing changed), beside the manifest and its `digest`."""
    staged, meta, work = _names(paths)
    listing = _find(staged, _LISTING, (f"{meta}/stat", _FINGERPRINT))
    return [
        f"echo {q(staging.manifest_sha256)} > {meta}/digest",
        f'got="$({listing} | sort -z | sha256sum)"',
        f'[ "$got" = {q(staging.listing_sha256 + "  -")} ] || '
        f"{{ rm -rf {staged} {meta} {work}; "
        f"echo 'the staged release does not match its manifest'; exit {MISMATCH}; }}",
    ]


def _listing(paths: ReleasePaths) -> list[str]:
    """Print the environment's release folders (`RELEASE`) and the live one (`LIVE`)."""
    return [
        f'for d in {q(paths.codes_dir)}/*/; do d="${{d%/}}"; echo "{RELEASE}${{d##*/}}"; done',
        f"if cd -P -- {q(paths.link)} 2>/dev/null; then",
        f'  echo "{LIVE}${{PWD##*/}}"; cd - >/dev/null  # never wait inside a release',
        "fi",
    ]


def install_and_switch(paths: ReleasePaths, remove: Sequence[str] = ()) -> str:
    """Move a staged release into place (with its manifest files beside it) and point the
    link at it; or, with nothing staged, point the link at the release already there (exit 4
    when the server has neither). Then remove the old release folders named in `remove`
    (and their manifest files), but never the one the link pointed at before.

    The link is made under a temporary name and renamed over the old one (`mv -T`, a
    rename(2)), so the deploy path always names a whole release.
    """
    release, staged, meta = q(paths.release_dir), q(paths.staged), q(paths.meta)
    kept, manifests = q(paths.manifest_dir(paths.version)), q(paths.manifests)
    lines = [
        "set -euo pipefail",
        f'previous="$(readlink -- {q(paths.link)} || true)"',
        f'echo "{PREVIOUS}$previous"',
        f"if [ -d {staged} ]; then",
        f"  [ ! -e {release} ] && [ ! -e {kept} ] || rm -rf {release} {kept}",
        f"  [ -d {manifests} ] || mkdir -p {manifests}",
        f"  mv {meta} {kept}",
        f"  mv {staged} {release}",
        f"elif [ ! -d {release} ]; then",
        f"  echo 'release not on this server' >&2; exit {GONE}",
        "fi",
        switch_link(paths.link, paths.release_dir),
    ]
    if remove:
        names = " ".join(q(name) for name in remove)
        lines += [
            "doomed=()",
            f"for name in {names}; do",
            f'  [ {q(paths.codes_dir)}/"$name" -ef "$previous" ] && continue',
            f'  doomed+=({q(paths.codes_dir)}/"$name" {manifests}/"$name")',
            "done",
            '[ "${#doomed[@]}" -eq 0 ] || rm -rf -- "${doomed[@]}"',
        ]
    return "\n".join(lines)


def switch_link(link: str, target: str, link_tmp: str | None = None) -> str:
    """Point `link` at `target` atomically."""
    link_tmp = link_tmp or link + ".hoist-tmp"
    return "\n".join(
        [
            f"[ -d {q(posixpath_dir(link))} ] || mkdir -p {q(posixpath_dir(link))}",
            f"ln -sfn {q(target)} {q(link_tmp)}",
            f"mv -fT {q(link_tmp)} {q(link)}",
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


def hook(script: str, env: Mapping[str, str], cwd: str) -> str:
    """A person's hook script, run in `cwd` with the task's facts exported."""
    exports = [f"export {name}={q(value)}" for name, value in sorted(env.items())]
    return "\n".join([*exports, f"mkdir -p {q(cwd)} && cd {q(cwd)}", "set -e", script])


def posixpath_dir(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[0] or "/"
