"""What a server needs to build a release from the one it has: the plan and the bytes.

`plan_delta` decides, from two manifests, what a server must change in a hard-linked copy of
its base release: what to unlink, which renamed files to link from their old path, and which
entries must travel. `build_delta` reads the task's archive once and writes the stream a
server unpacks, behind the manifest files of the new release. A full release sends the archive
itself behind the same manifest files.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core.errors import HoistError
from core.source.manifest import Entry, Manifest, member_path, member_path_of

MAX_MOVED = 200
"""Renamed files linked one by one (a process each on the server); beyond this, they travel."""

_COMPRESS_LEVEL = 1


@dataclass(frozen=True)
class DeltaPlan:
    """How a server turns a copy of its base (all hard links) into the new release: unlink
    `remove` (paths gone, or not the same in the new release), link `moved` (base path, new
    path: a renamed file), and unpack `send` (paths whose entry travels: files with their
    bytes, directories and symlinks as headers)."""

    remove: list[str]
    moved: list[tuple[str, str]]
    send: set[str]


@dataclass(frozen=True)
class Payload:
    """What one server is sent: the manifest files (`meta`), then the tree (`tree`: bytes,
    or the archive on disk for a full release); `files` is how many files travel."""

    meta: bytes
    tree: bytes | Path
    files: int
    sent_b2sum: str = ""
    base_sha256: str = ""
    """For a delta: the SHA-256 of its base's manifest, which the server's copy must have."""


def plan_delta(base: Manifest, new: Manifest) -> DeltaPlan:
    """Keep what the base has as is, link renamed files, send the rest."""
    remove = [
        path
        for path, entry in base.entries.items()
        if new.entries.get(path) != entry and not _kept_directory(entry, new.entries.get(path))
    ]
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
    return DeltaPlan(sorted(remove), moved, send)


def _kept_directory(old: Entry, new: Entry | None) -> bool:
    """A directory that stays one (perhaps with another mode, which its header sets) keeps
    its contents: it is not removed."""
    return new is not None and old.kind == new.kind == "d"


def full_payload(archive: Path, manifest: Manifest) -> Payload:
    """The whole archive (gzip'd), behind the new release's manifest files."""
    files = sum(1 for _ in manifest.files())
    return Payload(meta_files(manifest, DeltaPlan([], [], set())), archive, files)


def build_delta(archive: Path, manifest: Manifest, plan: DeltaPlan, base_sha256: str) -> Payload:
    """The delta stream for `plan` from a base whose manifest hashes to `base_sha256`, read
    from the task's archive (one pass)."""
    sent: list[str] = []
    digest = hashlib.blake2b()  # as the server's `b2sum`: faster than sha256sum there
    out = io.BytesIO()
    with (
        tarfile.open(archive, mode="r|*") as source,
        gzip.GzipFile(fileobj=out, mode="wb", compresslevel=_COMPRESS_LEVEL, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for member in source:
            path = member_path(member)
            if path not in plan.send:
                continue
            if member.type == tarfile.LNKTYPE:
                raise HoistError(f"`{path}` is a hard link: the release is sent whole")
            if member.isfile():
                data = source.extractfile(member)
                content = data.read() if data is not None else b""
                digest.update(content)
                sent.append(path)
                tar.addfile(member, io.BytesIO(content))
            else:
                tar.addfile(member)
    if len(sent) != sum(1 for p in plan.send if manifest.entries[p].kind == "f"):
        raise HoistError("the archive does not hold every file of its manifest")
    meta = meta_files(manifest, plan, sent)
    return Payload(meta, out.getvalue(), len(sent), digest.hexdigest(), base_sha256)


def meta_files(manifest: Manifest, plan: DeltaPlan, sent: Iterable[str] = ()) -> bytes:
    """The manifest files as a gzip'd tar: `manifest`, `paths`, and for a delta `remove`,
    `moved`, `sent` (in the order their bytes travel) and `all` (every path, sorted as the
    server's `sort -z` sorts)."""
    files = {
        "manifest": manifest.dumps(),
        "paths": manifest.file_paths(),
        "remove": _nul(plan.remove),
        "moved": _nul(p for pair in plan.moved for p in pair),
        "sent": _nul(sent),
        "all": _nul(sorted(manifest.entries, key=_raw)),
    }
    out = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=out, mode="wb", compresslevel=_COMPRESS_LEVEL, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _raw(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def _nul(paths: Iterable[str]) -> bytes:
    return b"".join(_raw(member_path_of(p)) + b"\0" for p in paths)
