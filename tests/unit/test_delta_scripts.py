"""Staging a release from a delta, run with this machine's bash, coreutils and GNU tar on a
folder laid out as a server's: the scripts and the manifests must agree byte for byte."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from core.engine import scripts
from core.engine.delta import Payload, build_delta, full_payload, plan_delta
from core.engine.plan import ReleasePaths
from core.source.manifest import Manifest
from core.source.package import Archive, build_archive, compress

Tree = dict[str, bytes | str | None]
"""Path → bytes (a file, 0644 unless named executable), str (a symlink target), None (an
empty directory)."""

EXEC = b"#!/bin/sh\necho run\n"


def write_tree(root: Path, tree: Tree, executable: frozenset[str] = frozenset()) -> Path:
    root.mkdir(parents=True)
    for rel, content in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir()
        elif isinstance(content, str):
            path.symlink_to(content)
        elif isinstance(content, bytes):
            path.write_bytes(content)
            path.chmod(0o755 if rel in executable else 0o644)
    return root


async def archive_of(
    tmp: Path, name: str, tree: Tree, executable: frozenset[str] = frozenset()
) -> Archive:
    workspace = write_tree(tmp / "src" / name, tree, executable)
    return await build_archive(workspace, tmp / f"{name}.tar")


def delta(base: Archive, new: Archive, version: str) -> Payload:
    """The delta from `base` to `new` staged as `version`, as a server is sent it."""
    plan = plan_delta(base.manifest, new.manifest)
    return build_delta(new.path, new.manifest, plan, base.manifest, version)


def whole(archive: Archive, version: str, manifest: Manifest | None = None) -> Payload:
    """The whole release as a server is sent it: the archive gzip'd."""
    compressed = archive.path.with_name(archive.path.name + ".gz")
    compress(archive.path, compressed)
    return full_payload(compressed, manifest or archive.manifest, version)


class Server:
    """A server's folders on this machine: releases under codes/, the link under prod/."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def paths(self, version: str) -> ReleasePaths:
        return ReleasePaths.of(
            str(self.root / "codes"), str(self.root / "prod"), "shop", "prod", version
        )

    def run(
        self, script: str, stdin: bytes = b"", uid: int | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `script` with this machine's bash (as user `uid`, when given)."""
        user = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] if uid else []
        return subprocess.run(
            [*user, "bash", "-c", script],
            input=stdin,
            capture_output=True,
            cwd=self.root,
            check=False,
        )

    def stage(
        self,
        version: str,
        archive: Archive,
        payload: Payload,
        base: str | None = None,
        uid: int | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        tree = payload.tree.read_bytes() if isinstance(payload.tree, Path) else payload.tree
        manifest, paths = archive.manifest, self.paths(version)
        staging = scripts.Staging(
            manifest.digest, manifest.listing_sha256, len(payload.meta), payload.gzip
        )
        if base is None:
            return self.run(scripts.stage_whole(paths, staging), payload.meta + tree)
        check = scripts.DeltaBase(base, self.manifest_sha(base))
        first = scripts.prepare_delta(paths, check)
        rest = scripts.finish_delta(paths, staging, check, payload.remove, len(tree))
        return self.run(first, rest.encode("utf-8", "surrogateescape") + b"\0" + tree, uid)

    def manifest_sha(self, version: str) -> str:
        manifest = Path(self.paths(version).manifest_dir(version)) / "manifest"
        return hashlib.sha256(manifest.read_bytes()).hexdigest()

    def release_whole(self, version: str, archive: Archive) -> None:
        """Stage `archive` whole as `version` and switch to it, as a first release does."""
        staged = self.stage(version, archive, whole(archive, version))
        assert staged.returncode == 0, staged.stdout
        assert self.install(version).returncode == 0

    def install(self, version: str) -> subprocess.CompletedProcess[bytes]:
        return self.run(scripts.install_and_switch(self.paths(version)))

    def live(self) -> Path:
        return (self.root / "prod" / "shop").resolve()


def tree_on_disk(root: Path) -> dict[str, tuple[str, int, bytes]]:
    found: dict[str, tuple[str, int, bytes]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            st = path.lstat()
            if path.is_symlink():
                found[rel] = ("l", 0, os.readlink(path).encode())
            elif path.is_dir():
                found[rel] = ("d", st.st_mode & 0o7777, b"")
            else:
                found[rel] = ("f", st.st_mode & 0o7777, path.read_bytes())
    return found


V1: Tree = {
    "app.py": b"print('v1')\n",
    "lib/util.py": b"def util(): return 1\n",
    "lib/old_name.py": b"renamed in v2\n",
    "bin/run": EXEC,
    "conf/settings.ini": b"[a]\nb = 1\n",
    "static/logo.svg": b"<svg/>",
    "current": "static/logo.svg",
    "gone.txt": b"deleted in v2\n",
    "becomes_dir": b"a file in v1\n",
    "empty": None,
}
V2: Tree = {
    "app.py": b"print('v2')\n",  # changed
    "lib/util.py": b"def util(): return 1\n",  # same
    "lib/new_name.py": b"renamed in v2\n",  # renamed
    "bin/run": EXEC,  # chmod -x
    "conf/settings.ini": b"[a]\nb = 1\n",
    "static/logo.svg": b"<svg/>",
    "current": "app.py",  # symlink retargeted
    "becomes_dir/inner.txt": b"a directory in v2\n",  # file replaced by a directory
    "added.txt": b"new in v2\n",  # added
    "empty": None,
    "empty2/deeper": None,
}


async def test_a_full_release_then_a_delta_builds_the_exact_tree(tmp_path: Path) -> None:
    server = Server(tmp_path / "server")
    a1 = await archive_of(tmp_path, "v1", V1, frozenset({"bin/run"}))
    a2 = await archive_of(tmp_path, "v2", V2)

    full = server.stage("v1", a1, whole(a1, "v1"))
    assert full.returncode == 0, full.stdout
    assert server.install("v1").returncode == 0
    assert server.live().name == "v1"
    v1_tree = tree_on_disk(server.live())
    assert v1_tree == tree_on_disk(tmp_path / "src" / "v1")
    v1_inode = (server.live() / "lib/util.py").stat().st_ino

    plan = plan_delta(a1.manifest, a2.manifest)
    assert plan.send == {
        "added.txt",
        "app.py",
        "becomes_dir",
        "becomes_dir/inner.txt",
        "bin/run",
        "current",
        "empty2",
        "empty2/deeper",
    }
    assert plan.moved == [("lib/old_name.py", "lib/new_name.py")]
    # app.py, bin/run and current are replaced by tar, which unlinks them first
    assert plan.remove == ["becomes_dir", "gone.txt", "lib/old_name.py"]
    payload = build_delta(a2.path, a2.manifest, plan, a1.manifest, "v2")
    staged = server.stage("v2", a2, payload, base="v1")
    assert staged.returncode == 0, staged.stdout
    assert server.install("v2").returncode == 0, server.install("v2").stderr

    live = server.live()
    assert live.name == "v2"
    assert tree_on_disk(live) == tree_on_disk(tmp_path / "src" / "v2")
    assert (live / "lib/util.py").stat().st_ino == v1_inode  # a hard link, not a copy
    assert (live / "bin/run").stat().st_ino != (live.parent / "v1/bin/run").stat().st_ino
    assert tree_on_disk(live.parent / "v1") == v1_tree  # the base is untouched
    manifests = Path(server.paths("v2").manifests)
    assert sorted(str(p.relative_to(manifests)) for p in manifests.glob("*/*")) == [
        f"{v}/{s}" for v in ("v1", "v2") for s in ("digest", "manifest", "stat")
    ]
    assert not (live / ".hoist-manifests").exists()


async def test_a_changed_live_release_refuses_the_delta(tmp_path: Path) -> None:
    server = Server(tmp_path / "server")
    a1 = await archive_of(tmp_path, "v1", V1)
    a2 = await archive_of(tmp_path, "v2", V2)
    server.release_whole("v1", a1)
    with (server.live() / "lib/util.py").open("a") as handle:
        handle.write("# hot fix on the server\n")

    payload = delta(a1, a2, "v2")
    refused = server.stage("v2", a2, payload, base="v1")
    assert refused.returncode == scripts.BASE_CHANGED
    assert b"changed since it was installed" in refused.stdout
    assert not Path(server.paths("v2").staged).exists()


async def test_a_delta_on_another_base_says_what_is_live(tmp_path: Path) -> None:
    server = Server(tmp_path / "server")
    a1 = await archive_of(tmp_path, "v1", V1)
    a2 = await archive_of(tmp_path, "v2", V2)
    server.release_whole("v1", a1)
    assert server.stage("v2", a2, whole(a2, "v2")).returncode == 0
    assert server.install("v2").returncode == 0

    payload = delta(a1, a2, "v3")
    wrong = server.stage("v3", a2, payload, base="v1")
    assert wrong.returncode == scripts.NOT_LIVE and wrong.stdout.strip() == b"live: v2"


async def test_a_tree_that_is_not_the_manifest_is_never_installed(tmp_path: Path) -> None:
    server = Server(tmp_path / "server")
    a1 = await archive_of(tmp_path, "v1", V1)
    other = await archive_of(tmp_path, "other", {**V1, "extra.txt": b"not in v1\n"})
    wrong = whole(other, "v1", a1.manifest)  # v1's manifest, another tree
    result = server.stage("v1", a1, wrong)
    assert result.returncode == scripts.MISMATCH
    assert b"does not match its manifest" in result.stdout
    assert server.install("v1").returncode == 4  # nothing staged, nothing there
    assert not (tmp_path / "server" / "prod" / "shop").exists()


@pytest.mark.parametrize("name", ["with space.txt", "ünïcode.txt", "new\nline.txt", "-dash"])
async def test_awkward_names_survive_a_delta(tmp_path: Path, name: str) -> None:
    server = Server(tmp_path / "server")
    a1 = await archive_of(tmp_path, "v1", {name: b"same\n", "x": b"1\n"})
    a2 = await archive_of(tmp_path, "v2", {name: b"same\n", "x": b"2\n", f"sub/{name}": b"n\n"})
    server.release_whole("v1", a1)
    payload = delta(a1, a2, "v2")
    staged = server.stage("v2", a2, payload, base="v1")
    assert staged.returncode == 0, staged.stdout
    assert server.install("v2").returncode == 0
    assert tree_on_disk(server.live()) == tree_on_disk(tmp_path / "src" / "v2")


async def test_files_the_live_release_gained_are_not_carried_over(tmp_path: Path) -> None:
    server = Server(tmp_path / "server")
    a1 = await archive_of(tmp_path, "v1", V1)
    a2 = await archive_of(tmp_path, "v2", V2)
    server.release_whole("v1", a1)
    cache = server.live() / "lib/__pycache__"
    cache.mkdir()
    (cache / "util.cpython-311.pyc").write_bytes(b"compiled")
    (server.live() / "app.log").write_text("written by the app\n")

    payload = delta(a1, a2, "v2")
    staged = server.stage("v2", a2, payload, base="v1")
    assert staged.returncode == 0, staged.stdout
    assert server.install("v2").returncode == 0
    assert tree_on_disk(server.live()) == tree_on_disk(tmp_path / "src" / "v2")
    assert (cache / "util.cpython-311.pyc").read_bytes() == b"compiled"  # v1 keeps its own


@pytest.mark.parametrize(
    "change",
    [
        {**V1, "migrations/0002.sql": b"alter table\n"},  # only added: no manifest line goes
        {k: v for k, v in V1.items() if k != "gone.txt"},  # only deleted: no line comes
        V1,  # the same tree again: nothing travels
    ],
    ids=["added", "deleted", "unchanged"],
)
async def test_a_delta_that_only_adds_or_only_deletes_is_still_a_delta(
    tmp_path: Path, change: Tree
) -> None:
    server = Server(tmp_path / "server")
    a1 = await archive_of(tmp_path, "v1", V1)
    a2 = await archive_of(tmp_path, "v2", change)
    server.release_whole("v1", a1)

    staged = server.stage("v2", a2, delta(a1, a2, "v2"), base="v1")

    assert staged.returncode == 0, staged.stdout
    assert server.install("v2").returncode == 0
    assert tree_on_disk(server.live()) == tree_on_disk(tmp_path / "src" / "v2")


NOBODY = 65534


def _protected_hardlinks() -> bool:
    try:
        return Path("/proc/sys/fs/protected_hardlinks").read_text().strip() == "1"
    except OSError:
        return False


@pytest.mark.skipif(
    os.geteuid() != 0 or not _protected_hardlinks() or not shutil.which("setpriv"),
    reason="needs root (to play two users) and fs.protected_hardlinks=1",
)
async def test_a_file_of_another_user_the_app_added_does_not_stop_the_delta(
    tmp_path: Path,
) -> None:
    a1 = await archive_of(tmp_path, "v1", V1)
    a2 = await archive_of(tmp_path, "v2", V2)
    root = Path(tempfile.mkdtemp(prefix="hoist-users-"))  # outside pytest's root-only folder
    try:
        root.chmod(0o755)
        server = Server(root / "server")
        server.release_whole("v1", a1)
        for path in [root, *root.rglob("*")]:  # the deploy user's, as if it had staged it
            os.lchown(path, NOBODY, NOBODY)
        cache = server.live() / "lib/__pycache__"
        cache.mkdir()
        (cache / "util.cpython-311.pyc").write_bytes(b"written by the app, as root")
        (cache / "util.cpython-311.pyc").chmod(0o600)  # nobody may not hard-link it

        staged = server.stage("v2", a2, delta(a1, a2, "v2"), base="v1", uid=NOBODY)

        assert staged.returncode == 0, staged.stdout + staged.stderr
        assert (
            server.run(scripts.install_and_switch(server.paths("v2")), uid=NOBODY).returncode == 0
        )
        assert tree_on_disk(server.live()) == tree_on_disk(tmp_path / "src" / "v2")
    finally:
        shutil.rmtree(root)
