"""What a server needs to build a release from the one it has: the plan and the bytes.

`plan_delta` decides, from two manifests, which files are hard links of the base release
(at the same path, or at another path: a rename) and which must travel. `build_delta` reads
the task's archive once and writes the stream a server unpacks: every directory and symlink
(they are small, and carry the tree's shape) and the files that travel; plus the manifest
files of the new release. A full release sends the archive itself behind the same manifest
files.
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
from core.source.manifest import Manifest, member_path, member_path_of

MAX_MOVED = 200
"""Renamed files linked one by one (a process each on the server); beyond this, they travel."""

_COMPRESS_LEVEL = 1


@dataclass(frozen=True)
class DeltaPlan:
    """Files of the new release: hard links of the base at the same path (`same`), at
    another path (`moved`: base path, new path), or sent (`sent`)."""

    same: list[str]
    moved: list[tuple[str, str]]
    sent: list[str]


@dataclass(frozen=True)
class Payload:
    """What one server is sent: the manifest files (`meta`), then the tree (`tree`: bytes,
    or the archive on disk for a full release); `files` is how many files travel."""

    meta: bytes
    tree: bytes | Path
    files: int
    sent_sha256: str = ""

    @property
    def size(self) -> int:
        tree = self.tree.stat().st_size if isinstance(self.tree, Path) else len(self.tree)
        return len(self.meta) + tree


def plan_delta(base: Manifest, new: Manifest) -> DeltaPlan:
    """Link what the base has (same bytes and mode), send the rest."""
    by_content: dict[tuple[str, int, int], str] = {}
    for path, entry in base.files():
        by_content.setdefault((entry.sha256, entry.size, entry.mode), path)
    same: list[str] = []
    moved: list[tuple[str, str]] = []
    sent: list[str] = []
    for path, entry in new.files():
        old = base.entries.get(path)
        if old is not None and entry.same_content(old):
            same.append(path)
            continue
        source = by_content.get((entry.sha256, entry.size, entry.mode))
        if source is not None and len(moved) < MAX_MOVED:
            moved.append((source, path))
        else:
            sent.append(path)
    return DeltaPlan(same, moved, sent)


def full_payload(archive: Path, manifest: Manifest) -> Payload:
    """The whole archive, behind the new release's manifest files."""
    return Payload(meta_files(manifest, DeltaPlan([], [], [])), archive, len(manifest.entries))


def build_delta(archive: Path, manifest: Manifest, plan: DeltaPlan) -> Payload:
    """The delta stream for `plan`, read from the task's archive (one pass)."""
    wanted = set(plan.sent)
    sent: list[str] = []
    digest = hashlib.sha256()
    out = io.BytesIO()
    with (
        tarfile.open(archive, mode="r|gz") as source,
        gzip.GzipFile(fileobj=out, mode="wb", compresslevel=_COMPRESS_LEVEL, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for member in source:
            path = member_path(member)
            if not path:
                continue
            if member.type == tarfile.LNKTYPE:
                raise HoistError(f"`{path}` is a hard link: the release is sent whole")
            if member.isfile():
                if path not in wanted:
                    continue
                data = source.extractfile(member)
                content = data.read() if data is not None else b""
                digest.update(content)
                sent.append(path)
                tar.addfile(member, io.BytesIO(content))
            else:
                tar.addfile(member)
    if len(sent) != len(wanted):
        raise HoistError("the archive does not hold every file of its manifest")
    ordered = DeltaPlan(plan.same, plan.moved, sent)
    return Payload(meta_files(manifest, ordered), out.getvalue(), len(sent), digest.hexdigest())


def meta_files(manifest: Manifest, plan: DeltaPlan) -> bytes:
    """The manifest files as a gzip'd tar: `manifest`, `paths`, `same`, `moved`, `sent`."""
    files = {
        "manifest": manifest.dumps(),
        "paths": manifest.file_paths(),
        "same": _nul(plan.same),
        "moved": _nul(p for pair in plan.moved for p in pair),
        "sent": _nul(plan.sent),
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


def _nul(paths: Iterable[str]) -> bytes:
    return b"".join(member_path_of(p).encode("utf-8", "surrogateescape") + b"\0" for p in paths)
