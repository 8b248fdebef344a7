"""What each server of an environment has: read from the servers themselves."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from core.engine import scripts
from core.engine.plan import ReleasePaths, version_order
from core.engine.requests import env_servers
from core.engine.targets import target_for
from core.errors import HoistError
from core.secrets import SecretBox
from core.store.models import Environment, Server
from core.transport.ssh import ConnectOptions, connect


@dataclass(frozen=True)
class ServerReleases:
    server: str
    live: str | None
    releases: list[str] = field(default_factory=list)
    error: str | None = None


async def read_releases(
    env: Environment, box: SecretBox, options: ConnectOptions | None = None
) -> list[ServerReleases]:
    """Every enabled server's live release and release folders, newest first."""
    await env.fetch_related("project")
    paths = ReleasePaths.of(env.codes_root, env.deploy_path, env.project.slug, env.name, "-")
    servers = await env_servers(env)
    return list(await asyncio.gather(*(_read(s, paths, box, options) for s in servers)))


async def _read(
    server: Server, paths: ReleasePaths, box: SecretBox, options: ConnectOptions | None
) -> ServerReleases:
    try:
        async with connect(await target_for(server, box), options) as conn:
            result = await conn.run(scripts.list_releases(paths))
    except HoistError as error:
        return ServerReleases(server.name, None, error=str(error))
    lines = result.output.splitlines()
    target = lines[0].removeprefix("live").strip() if lines else ""
    names = sorted((n for n in lines[1:] if n and not n.startswith(".")), key=version_order)
    live = target.rstrip("/").rsplit("/", 1)[-1] if target else None
    return ServerReleases(server.name, live, names[::-1])
