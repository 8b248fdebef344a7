"""A production-shaped fleet: real OpenSSH `sshd` servers that share paths but not files.

Every server is a `/usr/sbin/sshd` on loopback, launched in a mount namespace of its own with
a private folder bound over `/data`. So all of them are configured with the same absolute deploy
path (`/data/prod/`) and codes root (`/data/codes`), as a real environment's machines are, yet
each writes its releases into its own folder on this machine's disk (`Fleet.on_disk`). Root's
home is an empty folder too by default, as on a fresh server: this machine's `/root/.bashrc`
runs `pyenv init` for every SSH session (~0.1 s each), which a test or a benchmark should not
measure.

The inventory (key `deploy`, project `shop`, environment `prod`) and the engine are those of
`tests.fleet`; only the hosts differ.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from core.engine.engine import Engine
from core.engine.events import EventBus
from core.engine.settings import EngineSettings
from core.inventory import service
from core.inventory.specs import EnvSpec, KeySpec, ProjectSpec, ServerSpec
from core.keys import KeyMaterial
from core.secrets import SecretBox, generate_secret
from tests.fakes import sshd
from tests.fakes.sshd import OpenSSHServer
from tests.fleet import ALICE, Fleet
from tests.gitrepo import GitRepo

__all__ = [
    "ALICE",
    "DATA",
    "OpenSSHFleet",
    "files_of",
    "make_openssh_fleet",
    "skip_reason",
    "start_sshds",
    "stop_all",
    "tree_of",
]

DATA = Path("/data")
"""What every server sees as its data folder (its own private folder, bind-mounted)."""

ROOT_HOME = "/root"
"""Where root's home is, for the sshds that get a clean one."""

Tree = dict[str, tuple[str, bytes]]
"""Files by relative path: (git mode, content); a symlink's content is its target."""


def skip_reason() -> str | None:
    """Why real sshd servers with private mounts cannot run here, or None when they can."""
    return sshd.skip_reason(private_mounts=True)


@dataclass
class OpenSSHFleet(Fleet):
    """A `Fleet` whose servers are OpenSSH sshd processes (`hosts` stays empty)."""

    sshds: dict[str, OpenSSHServer] = field(default_factory=dict)

    async def stop(self) -> None:
        """Let the engine's runs end, then stop every sshd this fleet started (by PID)."""
        try:
            await self.engine.wait_idle()
        finally:
            await stop_all(self.sshds.values())


async def start_sshds(
    names: Sequence[str],
    public_key: str,
    roots: dict[str, Path],
    homes: dict[str, Path],
    addresses: Mapping[str, str] | None = None,
) -> dict[str, OpenSSHServer]:
    """Start one sshd per name, with `roots[name]` at `/data`; all start or none stays up.

    A name in `homes` also gets that folder over root's home: a clean server has no login
    scripts, while this machine's `/root/.bashrc` may run slow tools on every SSH session.
    """
    servers = {}
    for name in names:
        mounts = {str(DATA): roots[name]}
        if name in homes:
            mounts[ROOT_HOME] = homes[name]
        address = (addresses or {}).get(name, "127.0.0.1")
        servers[name] = OpenSSHServer(public_key, private_mounts=mounts, address=address)
    started = await asyncio.gather(*(s.start() for s in servers.values()), return_exceptions=True)
    failures = [r for r in started if isinstance(r, BaseException)]
    if failures:
        await stop_all(servers.values())
        raise failures[0]
    return servers


async def stop_all(servers: Iterable[OpenSSHServer]) -> None:
    """Stop sshd servers; each kills only the process tree it launched, by its PID."""
    for server in list(servers):
        await server.stop()


def client_key(user: str = "root") -> tuple[KeySpec, str]:
    """A fresh client key as the inventory's `deploy` key, and its public half."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    material = KeyMaterial(
        key.export_private_key("openssh").decode(),
        key.export_public_key("openssh").decode().strip(),
        key.get_fingerprint("sha256"),
    )
    return KeySpec("deploy", user, material), material.public


async def make_openssh_fleet(
    tmp: Path,
    names: Sequence[str],
    *,
    batch: int = 0,
    keep: int = 5,
    repo: GitRepo | None = None,
    settings: EngineSettings | None = None,
    clean_home: bool = True,
    roots_dir: Path | None = None,
    addresses: Mapping[str, str] | None = None,
) -> OpenSSHFleet:
    """Start the sshds and write the inventory (project shop, env prod on all of them).

    Each server's `/data` is `<roots_dir or tmp>/roots/<name>` on this machine, and with
    `clean_home` its root's home is the empty `tmp/homes/<name>` (no login scripts, as on a
    fresh server).
    Without `repo`, a repository is made at `tmp/repo` with one commit (an `index.html` and an
    executable `bin/run`). The database must be open.
    """
    home = tmp / "home"
    box = SecretBox(generate_secret())
    key, public = client_key()
    roots = {name: (roots_dir or tmp) / "roots" / name for name in names}
    homes = {name: tmp / "homes" / name for name in names} if clean_home else {}
    for folder in [*roots.values(), *homes.values()]:
        folder.mkdir(parents=True)
    servers = await start_sshds(names, public, roots, homes, addresses)
    try:
        await service.add_key(ALICE, key, box)
        for name, server in servers.items():
            await service.add_server(
                ALICE,
                ServerSpec(name, server.address, "deploy", server.port, server.host_key_line),
            )
        if repo is None:
            repo = GitRepo(tmp / "repo")
            repo.commit(
                {"index.html": "v1\n", "bin/run": "#!/bin/sh\necho run\n"},
                "first",
                executable=("bin/run",),
            )
        await service.add_project(ALICE, ProjectSpec("shop", repo.url, keep_releases=keep))
        await service.add_env(
            ALICE,
            EnvSpec(
                "shop",
                "prod",
                deploy_path=f"{DATA}/prod/",
                codes_root=f"{DATA}/codes",
                servers=tuple(names),
                batch_size=batch,
            ),
        )
    except BaseException:
        await stop_all(servers.values())
        raise
    bus = EventBus()
    settings = settings or EngineSettings(home=home, lease_seconds=30)
    engine = Engine(settings, box, bus=bus)
    return OpenSSHFleet(home, repo, {}, engine, bus, DATA, dict(roots), servers)


def tree_of(repo: GitRepo, sha: str) -> Tree:
    """Every file of commit `sha` with its git mode and bytes."""
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "-z", "--full-tree", sha],
        cwd=repo.path,
        check=True,
        capture_output=True,
    ).stdout
    tree: Tree = {}
    for entry in filter(None, listing.split(b"\0")):
        meta, path = entry.split(b"\t", 1)
        mode, _, blob = meta.decode().split()
        content = subprocess.run(
            ["git", "cat-file", "blob", blob], cwd=repo.path, check=True, capture_output=True
        ).stdout
        tree[path.decode()] = (mode, content)
    return tree


def files_of(folder: Path) -> Tree:
    """Every file under `folder` as git would record it (mode 100755, 100644 or 120000)."""
    tree: Tree = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        links = [d for d in dirnames if (Path(dirpath) / d).is_symlink()]
        for filename in [*filenames, *links]:
            path = Path(dirpath) / filename
            relative = path.relative_to(folder).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                tree[relative] = ("120000", os.readlink(path).encode())
            else:
                mode = "100755" if info.st_mode & 0o100 else "100644"
                tree[relative] = (mode, path.read_bytes())
    return tree


def sessions_of(sshd: OpenSSHServer) -> list[int]:
    """The per-connection processes of an sshd this test started (its children)."""
    listener = sshd.pid
    children = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(entry.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if parent == listener:
            children.append(int(entry.parent.name))
    return children
