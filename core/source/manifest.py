"""A release's manifest: every path of its tree with its type, mode, size and content hash.

Hoist writes one per release, locally beside the task's package and on each server beside the
release (never inside the tree the application serves). Comparing the manifest of the release
a server points at with the new one tells which files must travel and which can be hard-linked.

Its text is one line per path, sorted bytewise behind a header line that sorts first, so a
server can turn the manifest of its live release into the new one with `comm` and `sort -m`
from just the lines that differ (`Manifest.lines`), and check the result by its SHA-256.

The manifest also fixes the release's *listing*: one record per path as GNU find prints it
(`scripts.LISTING_FIND`), NUL-terminated and sorted bytewise. A server proves a staged tree is
the release by printing its own listing's SHA-256, which must equal `Manifest.listing_sha256`.
"""

from __future__ import annotations

import hashlib
import io
import json
import mmap
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import IO, Literal

from core.errors import HoistError

FORMAT = "#hoist-manifest 2"
"""The header line: `#` sorts before the `[` every path's line starts with."""
_OLD_FORMAT = '{"format": "hoist-manifest 1"}'

Kind = Literal["f", "d", "l", "p", "c", "b"]
"""As find's `%y`: file, directory, symlink, fifo, character and block device."""

_TAR_KINDS: dict[bytes, Kind] = {
    tarfile.REGTYPE: "f",
    tarfile.AREGTYPE: "f",
    tarfile.CONTTYPE: "f",
    tarfile.DIRTYPE: "d",
    tarfile.SYMTYPE: "l",
    tarfile.FIFOTYPE: "p",
    tarfile.CHRTYPE: "c",
    tarfile.BLKTYPE: "b",
}
_READ = 1 << 20


@dataclass(frozen=True)
class Entry:
    """One path of a release: for a file its permission bits, size and SHA-256; for a
    directory its permission bits; for a symlink its target."""

    kind: Kind
    mode: int = 0
    size: int = 0
    sha256: str = ""
    target: str = ""

    def record(self, path: str) -> bytes:
        """This path's record in the listing, as `LISTING_FIND` prints it (without the NUL)."""
        name = _raw(path)
        match self.kind:
            case "f":
                return b"f %o %d %s" % (self.mode, self.size, name)
            case "d":
                return b"d %o %s" % (self.mode, name)
            case "l":
                return b"l %s -> %s" % (name, _raw(self.target))
        return self.kind.encode() + b" " + name

    def same_content(self, other: Entry) -> bool:
        """Both are files with the same bytes and mode: one can be a hard link of the other."""
        return self.kind == other.kind == "f" and (self.sha256, self.size, self.mode) == (
            other.sha256,
            other.size,
            other.mode,
        )


@dataclass(frozen=True)
class Manifest:
    """Entries by relative path (no leading `./`, no trailing `/`)."""

    entries: dict[str, Entry]

    def files(self) -> Iterator[tuple[str, Entry]]:
        """Regular files, in path order."""
        return ((p, e) for p, e in sorted(self.entries.items()) if e.kind == "f")

    def listing(self) -> bytes:
        """Every record, NUL-terminated, sorted bytewise (as `LC_ALL=C sort -z` sorts)."""
        records = sorted(entry.record(path) for path, entry in self.entries.items())
        return b"".join(record + b"\0" for record in records)

    @cached_property
    def listing_sha256(self) -> str:
        """SHA-256 of `listing()`: what a server's staged tree must hash to."""
        return hashlib.sha256(self.listing()).hexdigest()

    def lines(self) -> list[bytes]:
        """The lines of `dumps()` (with their newlines), in order: the header, then one JSON
        array per path, sorted bytewise as `LC_ALL=C sort` sorts them."""
        rows = sorted(
            json.dumps([e.kind, f"{e.mode:o}", e.size, e.sha256, e.target, path]).encode() + b"\n"
            for path, e in self.entries.items()
        )
        return [FORMAT.encode() + b"\n", *rows]

    def dumps(self) -> bytes:
        """The manifest as text (ASCII: JSON escapes every other character)."""
        return b"".join(self.lines())

    @classmethod
    def loads(cls, data: bytes) -> Manifest:
        """Read `dumps`' text back (also the first format's); a HoistError when it is not a
        manifest."""
        try:
            header, *rows = data.decode("utf-8", "surrogateescape").splitlines()
            if header not in (FORMAT, _OLD_FORMAT):
                raise ValueError("unknown format")
            entries = {}
            for row in rows:
                kind, mode, size, sha256, target, path = json.loads(row)
                entries[path] = Entry(kind, int(mode, 8), size, sha256, target)
        except (ValueError, TypeError) as exc:
            raise HoistError(f"not a release manifest: {exc}") from None
        return cls(entries)

    @cached_property
    def digest(self) -> str:
        """SHA-256 of `dumps()`: a server's copy of the manifest must have this digest."""
        return hashlib.sha256(self.dumps()).hexdigest()


def manifest_of_tar(stream: IO[bytes] | io.BufferedIOBase) -> Manifest:
    """The manifest of a tar (plain, or gzip'd: `tarfile`'s `r|*`), read in one pass; hard
    links get the entry of the file they link."""
    with tarfile.open(fileobj=stream, mode="r|*") as tar:
        return _manifest(tar, lambda member: _hash(tar, member))


def manifest_of_tar_bytes(data: bytes | memoryview | mmap.mmap) -> Manifest:
    """The manifest of a plain tar in memory: only the headers are parsed, and each file's
    bytes are hashed where they lie (several times faster than `manifest_of_tar`)."""
    view = memoryview(data)

    def content(member: tarfile.TarInfo) -> str:
        start = member.offset_data
        return hashlib.sha256(view[start : start + member.size]).hexdigest()

    with tarfile.open(fileobj=io.BytesIO(view), mode="r:") as tar:
        return _manifest(tar, content)


def _manifest(tar: tarfile.TarFile, content: Callable[[tarfile.TarInfo], str]) -> Manifest:
    entries: dict[str, Entry] = {}
    for member in tar:
        path = member_path(member)
        if not path:
            continue
        if member.type == tarfile.LNKTYPE:
            linked = entries.get(member_path_of(member.linkname))
            if linked is None or linked.kind != "f":
                raise HoistError(f"`{path}` is a hard link to a file not before it")
            entries[path] = linked
            continue
        kind = _TAR_KINDS.get(member.type)
        if kind is None:
            raise HoistError(f"`{path}` is of a kind a release cannot hold ({member.type!r})")
        if kind == "f":
            entries[path] = Entry("f", member.mode & 0o7777, member.size, content(member))
        elif kind == "d":
            entries[path] = Entry("d", member.mode & 0o7777)
        elif kind == "l":
            entries[path] = Entry("l", target=member.linkname)
        else:
            entries[path] = Entry(kind)
    return Manifest(entries)


def member_path(member: tarfile.TarInfo) -> str:
    return member_path_of(member.name)


def member_path_of(name: str) -> str:
    """A tar member's name as a manifest path: no `./` in front, no `/` behind."""
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/") if name != "." else ""


def _hash(tar: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    digest = hashlib.sha256()
    handle = tar.extractfile(member)
    if handle is not None:
        while chunk := handle.read(_READ):
            digest.update(chunk)
    return digest.hexdigest()


def _raw(text: str) -> bytes:
    """A path as the bytes the server's filesystem holds (tar names are decoded as UTF-8
    with surrogate escapes)."""
    return text.encode("utf-8", "surrogateescape")
