"""What a server needs to build a release from the one it has: the plan and the bytes.

`plan_delta` decides, from two manifests, what a server must change in a hard-linked copy of
its base release: what to unlink, which renamed files to link from their old path, and which
entries must travel. `build_delta` reads the task's archive once and writes the one tar a
server unpacks: the entries that travel and the lines that turn the base's manifest into the
new one. A full release sends the archive itself behind the new manifest.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from gzip import GzipFile
from pathlib import Path

from core.errors import HoistError
from core.source.manifest import Entry, Manifest, member_path, member_path_of

MAX_MOVED = 200
"""Renamed files linked one by one (a process each on the server); beyond this, they travel."""

_COMPRESS_LEVEL = 1
GZIP_OVER = 256 * 1024
"""A delta tar larger than this travels gzip'd; a smaller one costs the server less as is."""


@dataclass(frozen=True)
class DeltaPlan:
    """How a server turns a copy of its base (all hard links) into the new release: unlink
    `remove` (paths gone, turning into or from a directory, or where a renamed file goes),
    link `moved` (base path, new path: a renamed file), and unpack `send` (paths whose entry
    travels: files with their bytes, directories and symlinks as headers)."""

    remove: list[str]
    moved: list[tuple[str, str]]
    send: set[str]


@dataclass(frozen=True)
class Payload:
    """What one server is sent (see `scripts.stage_release`). A whole release: its manifest
    (`meta`, a gzip'd tar), then the gzip'd archive on disk (`tree`). A delta: one tar in
    memory (`tree`, gzip'd when `gzip`) and `remove`, the paths the server unlinks from its
    copy of the base first; `base_sha256` is the SHA-256 of the base's manifest, which the
    server's copy must have. `files` is how many files travel."""

    meta: bytes
    tree: bytes | Path
    files: int
    gzip: bool = True
    remove: tuple[str, ...] = ()
    base_sha256: str = ""


def plan_delta(base: Manifest, new: Manifest) -> DeltaPlan:
    """Keep what the base has as is, link renamed files, send the rest."""
    by_content: dict[tuple[str, int, int], str] = {}
    for path, entry in base.files():
        by_content.setdefault((entry.sha256, entry.size, entry.mode), path)
    moved: list[tuple[str, str]] = []
    send: set[str] = set()
    for path, entry in new.entries.items():
        if base.entries.get(path) == entry:
            continue
        source = (
            by_content.get((entry.sha256, entry.size, entry.mode)) if entry.kind == "f" else None
        )
        if source is not None and len(moved) < MAX_MOVED:
            moved.append((source, path))
        else:
            send.add(path)
    targets = {path for _, path in moved}
    remove = [
        path
        for path, entry in base.entries.items()
        if path in targets or _must_unlink(entry, new.entries.get(path))
    ]
    return DeltaPlan(sorted(remove), moved, send)


def _must_unlink(old: Entry, new: Entry | None) -> bool:
    """Whether the server unlinks `old`'s path before unpacking: when it is gone, or turns
    into a directory or from one (a directory that stays one keeps its contents; its header
    sets its mode). A file or symlink replaced by a file or symlink is left to GNU tar, which
    unlinks what is in the way before it creates a member: it never writes through the hard
    link (`--overwrite` would, and is never given)."""
    if new is None:
        return True
    if new == old or old.kind == new.kind == "d":
        return False
    return not (old.kind in "fl" and new.kind in "fl")


def full_payload(archive: Path, manifest: Manifest, version: str) -> Payload:
    """The whole archive (gzip'd), behind the new release's manifest."""
    files = sum(1 for _ in manifest.files())
    meta = _gzip_tar({f"{version}.meta/manifest": manifest.dumps()}, [f"{version}.meta"])
    return Payload(meta, archive, files)


def build_delta(
    archive: Path, manifest: Manifest, plan: DeltaPlan, base: Manifest, version: str
) -> Payload:
    """The delta stream for `plan` from `base`, read from the task's archive (one pass)."""
    staged, sums = f"{version}.staged/", bytearray()
    out = io.BytesIO()
    with (
        tarfile.open(archive, mode="r") as source,  # can seek: only the sent are read
        tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for member in source:
            path = member_path(member)
            if path not in plan.send:
                continue
            if member.type == tarfile.LNKTYPE:
                raise HoistError(f"`{path}` is a hard link: the release is sent whole")
            member.name = staged + path
            member.pax_headers = {}  # a stale `path` would win; git's `comment` is waste
            if member.isfile():
                handle = source.extractfile(member)
                content = handle.read() if handle is not None else b""
                sums += _sum_line(member.name, hashlib.blake2b(content).hexdigest())
                tar.addfile(member, io.BytesIO(content))
            else:
                tar.addfile(member)
        files = sum(1 for p in plan.send if manifest.entries[p].kind == "f")
        if sums.count(b"\n") != files:
            raise HoistError("the archive does not hold every file of its manifest")
        old, new = set(base.lines()), set(manifest.lines())
        work = {  # the manifest's two always travel (empty, when nothing goes or comes)
            "manifest.del": b"".join(sorted(old - new)),
            "manifest.add": b"".join(sorted(new - old)),
            "sums": bytes(sums),
            "moved": _nul(p for pair in plan.moved for p in pair),
        }
        _add(
            tar,
            {f"{version}.work/{name}": data for name, data in work.items() if data or "." in name},
            [f"{version}.meta", f"{version}.work"],
        )
        end = tar.offset + 2 * tarfile.BLOCKSIZE
    tree = out.getvalue()[:end]  # without the padding to a whole record: tar needs none
    packed = len(tree) > GZIP_OVER
    if packed:
        tree = gzip.compress(tree, compresslevel=_COMPRESS_LEVEL, mtime=0)
    return Payload(b"", tree, files, packed, tuple(plan.remove), base.digest)


def _sum_line(name: str, digest: str) -> bytes:
    """A line of a `b2sum -c` file, with its escapes for names holding `\\` or a newline."""
    raw = _raw(name)
    if b"\r" in raw:
        raise HoistError(f"`{name}` holds a carriage return: the release is sent whole")
    if b"\\" in raw or b"\n" in raw:
        escaped = raw.replace(b"\\", b"\\\\").replace(b"\n", b"\\n")
        return b"\\" + digest.encode() + b"  " + escaped + b"\n"
    return digest.encode() + b"  " + raw + b"\n"


def _gzip_tar(files: dict[str, bytes], folders: Iterable[str]) -> bytes:
    out = io.BytesIO()
    with (
        GzipFile(fileobj=out, mode="wb", compresslevel=_COMPRESS_LEVEL, mtime=0) as stream,
        tarfile.open(fileobj=stream, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        _add(tar, files, folders)
    return out.getvalue()


def _add(tar: tarfile.TarFile, files: dict[str, bytes], folders: Iterable[str]) -> None:
    for folder in folders:
        info = tarfile.TarInfo(folder)
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    for name, data in files.items():
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))


def _raw(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def _nul(paths: Iterable[str]) -> bytes:
    return b"".join(_raw(member_path_of(p)) + b"\0" for p in paths)
