"""build_archive: a real workspace packed, extracted again and compared."""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from pathlib import Path

import pytest

from core.errors import HoistError
from core.source.package import build_archive, compress


def make_workspace(root: Path) -> Path:
    ws = root / "ws"
    (ws / "app" / "static").mkdir(parents=True)
    (ws / "app" / "main.py").write_text("print('hi')\n")
    (ws / "app" / "static" / "logo.bin").write_bytes(bytes(range(256)) * 40)
    (ws / "bin").mkdir()
    (ws / "bin" / "start.sh").write_text("#!/bin/sh\nexec app\n")
    (ws / "bin" / "start.sh").chmod(0o755)
    (ws / "private.cfg").write_text("x=1\n")
    (ws / "private.cfg").chmod(0o600)
    (ws / "current").symlink_to("app/main.py")
    (ws / "dangling").symlink_to("../nowhere")
    (ws / "empty-dir").mkdir()
    (ws / "-rf").write_text("a file with an awkward name\n")
    (ws / ".env.example").write_text("A=1\n")
    (ws / ".git").mkdir()
    (ws / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return ws


def snapshot(root: Path) -> dict[str, tuple[str, int, bytes | str]]:
    """Every entry under `root` (relative path → kind, permission bits, content or target)."""
    entries: dict[str, tuple[str, int, bytes | str]] = {}
    for path in sorted(root.rglob("*")):
        rel, mode = str(path.relative_to(root)), path.lstat().st_mode
        if path.is_symlink():
            entries[rel] = ("link", 0, os.readlink(path))
        elif path.is_dir():
            entries[rel] = ("dir", stat.S_IMODE(mode), "")
        else:
            entries[rel] = ("file", stat.S_IMODE(mode), path.read_bytes())
    return entries


async def test_round_trip_keeps_files_modes_and_symlinks(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    archive = await build_archive(ws, tmp_path / "out" / "release.tar")
    assert archive.path == tmp_path / "out" / "release.tar"
    out = tmp_path / "extracted"
    with tarfile.open(archive.path, "r:") as tar:
        names = tar.getnames()
        tar.extractall(out, filter="tar")
    expected = {k: v for k, v in snapshot(ws).items() if k.split("/")[0] != ".git"}
    assert ".env.example" in expected and "empty-dir" in expected
    assert snapshot(out) == expected
    assert not any(n.startswith(("./", "/", ".git/")) or n == ".git" for n in names)
    assert snapshot(out)["bin/start.sh"][1] == 0o755
    assert archive.files == 8  # 6 files and 2 symlinks; directories not counted


async def test_sha256_and_size_describe_the_file_written(tmp_path: Path) -> None:
    archive = await build_archive(make_workspace(tmp_path), tmp_path / "a.tar")
    data = archive.path.read_bytes()
    assert archive.sha256 == hashlib.sha256(data).hexdigest()
    assert archive.size == len(data) == archive.path.stat().st_size
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


async def test_owners_are_not_carried_to_servers(tmp_path: Path) -> None:
    archive = await build_archive(make_workspace(tmp_path), tmp_path / "a.tar")
    with tarfile.open(archive.path, "r:") as tar:
        owners = {(m.uid, m.gid, m.uname, m.gname) for m in tar.getmembers()}
    assert owners == {(0, 0, "", "")}


async def test_a_missing_workspace_is_a_hoist_error(tmp_path: Path) -> None:
    with pytest.raises(HoistError, match="not a directory"):
        await build_archive(tmp_path / "nope", tmp_path / "a.tar")
    assert not (tmp_path / "a.tar").exists()


async def test_an_unwritable_destination_is_a_hoist_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    with pytest.raises(HoistError, match="cannot write the archive"):
        await build_archive(make_workspace(tmp_path), blocker / "a.tar")


async def test_two_thousand_files_make_a_manifest_of_each(tmp_path: Path) -> None:
    ws = tmp_path / "big"
    chunk = b"".join(
        b"line %d of some source-like text, def f(x): return x\n" % i for i in range(300)
    )
    for i in range(2000):
        folder = ws / f"pkg{i % 40}"
        folder.mkdir(parents=True, exist_ok=True)
        blob = os.urandom(5000) if i % 4 == 0 else b""
        (folder / f"mod{i}.py").write_bytes(blob + chunk[: 15000 - len(blob)])
    archive = await build_archive(ws, tmp_path / "big.tar")
    assert archive.files == 2000
    files = dict(archive.manifest.files())
    assert len(files) == 2000 and len(archive.manifest.entries) == 2040
    content = (ws / "pkg7" / "mod7.py").read_bytes()
    assert files["pkg7/mod7.py"].sha256 == hashlib.sha256(content).hexdigest()
    assert files["pkg7/mod7.py"].size == len(content) and files["pkg7/mod7.py"].mode == 0o644


async def test_the_compressed_copy_holds_the_same_tar(tmp_path: Path) -> None:
    archive = await build_archive(make_workspace(tmp_path), tmp_path / "a.tar")
    compress(archive.path, tmp_path / "a.tar.gz")
    with tarfile.open(tmp_path / "a.tar.gz", "r:gz") as tar:
        names = tar.getnames()
    with tarfile.open(archive.path, "r:") as tar:
        assert tar.getnames() == names
