"""A real little fleet for engine tests: SSH hosts on loopback, an inventory, a git repo."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from core.audit import Actor
from core.engine.engine import Engine
from core.engine.events import EventBus
from core.engine.requests import DeployRequest
from core.engine.settings import EngineSettings
from core.inventory import service
from core.inventory.specs import EnvSpec, KeySpec, ProjectSpec, ServerSpec
from core.keys import KeyMaterial
from core.sandbox.ssh_host import LocalSSHHost, isolation_available
from core.secrets import SecretBox, generate_secret
from core.store.models import DeployTask, StageRun
from tests.gitrepo import GitRepo

ALICE = Actor("alice", via="cli")


@dataclass
class Fleet:
    home: Path
    repo: GitRepo
    hosts: dict[str, LocalSSHHost]
    engine: Engine
    bus: EventBus
    data: Path
    """The deploy path's root as the hosts see it."""
    roots: dict[str, Path] = field(default_factory=dict)

    def request(self, ref: str | None = None, **kwargs: object) -> DeployRequest:
        return DeployRequest(project="shop", env="prod", requester="alice", ref=ref, **kwargs)  # type: ignore[arg-type]

    async def deploy(self, ref: str | None = None, **kwargs: object) -> DeployTask:
        """Create and run a deploy task to rest; returns it, refreshed."""
        task = await self.engine.deploy(self.request(ref, **kwargs), ALICE)
        await self.engine.run(task.id)
        await task.refresh_from_db()
        return task

    def on_disk(self, server: str, path: str | Path) -> Path:
        """Where a path as `server` sees it lies on this machine's disk."""
        root = self.roots.get(server, self.data)
        return root / Path(path).relative_to(self.data)

    def link(self, server: str) -> Path:
        """`server`'s deploy link, on this machine's disk."""
        return self.on_disk(server, self.data / "prod" / "shop")

    def release(self, server: str) -> Path:
        """The release folder `server`'s link points at, on this machine's disk."""
        return self.on_disk(server, os.readlink(self.link(server)))

    def live(self, server: str) -> str | None:
        link = self.link(server)
        return self.release(server).name if link.is_symlink() else None

    async def describe(self, task: DeployTask) -> str:
        """Every node as `server/stage: status error`, for assertion messages."""
        runs = await StageRun.filter(task=task).order_by("id")
        return "\n".join(
            f"{n.server_name or 'local'}/{n.stage}: {n.status} {n.error} {n.output[-300:]!r}"
            for n in runs
        )

    async def nodes(self, task: DeployTask) -> dict[tuple[str, str], StageRun]:
        runs = await StageRun.filter(task=task)
        return {(n.server_name, str(n.stage)): n for n in runs}


async def make_fleet(
    tmp: Path,
    names: Sequence[str],
    *,
    batch: int = 0,
    keep: int = 5,
    isolated: bool = True,
    box: SecretBox | None = None,
) -> Fleet:
    """Start hosts, write the inventory (project shop, env prod) and an engine.

    Hosts see their own root at `tmp/data` when the machine allows it (see isolation).
    """
    isolated = isolated and isolation_available() is None
    if not isolated and len(names) > 1:
        batch = 1  # the hosts share one disk: one at a time, as the demo does
    home = tmp / "home"
    box = box or SecretBox(generate_secret())
    client = asyncssh.generate_private_key("ssh-ed25519")
    material = KeyMaterial(
        client.export_private_key("openssh").decode(),
        client.export_public_key("openssh").decode().strip(),
        client.get_fingerprint("sha256"),
    )
    data = tmp / "data"
    data.mkdir()
    hosts = {}
    roots: dict[str, Path] = {}
    for name in names:
        root = tmp / "roots" / name if isolated else None
        host = LocalSSHHost(material.public, name=name, root=root, mount_at=data if root else None)
        await host.start()
        hosts[name] = host
        if root is not None:
            roots[name] = root
    await service.add_key(ALICE, KeySpec("deploy", "deploy", material), box)
    for name, host in hosts.items():
        await service.add_server(
            ALICE, ServerSpec(name, "127.0.0.1", "deploy", host.port, host.host_key_line)
        )
    repo = GitRepo(tmp / "repo")
    repo.commit(
        {"index.html": "v1\n", "bin/run": "#!/bin/sh\necho run\n"}, "first", executable=("bin/run",)
    )
    await service.add_project(ALICE, ProjectSpec("shop", repo.url, keep_releases=keep))
    await service.add_env(
        ALICE,
        EnvSpec(
            "shop",
            "prod",
            deploy_path=f"{data}/prod/",
            codes_root=f"{data}/codes",
            servers=tuple(names),
            batch_size=batch,
        ),
    )
    bus = EventBus()
    settings = EngineSettings(home=home, lease_seconds=30)
    engine = Engine(settings, box, bus=bus)
    return Fleet(home, repo, hosts, engine, bus, data, roots)


async def stop_fleet(fleet: Fleet) -> None:
    await fleet.engine.wait_idle()
    for host in fleet.hosts.values():
        await host.stop()
