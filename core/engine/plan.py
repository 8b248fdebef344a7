"""Pure decisions of a release: paths, names, batches, which nodes run, what to clean up."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.status import LOCAL_STAGES, SERVER_STAGES, Stage

LOCAL = ""
"""The server name of nodes that run on the Hoist machine."""

NOTHING_TO_RUN = "no hook"
"""Why a node with an empty hook script is skipped; such a node counts as done."""

_VERSION = re.compile(r"-v(\d+)-(\d{14})$")


def version_name(project: str, number: int, at: datetime) -> str:
    """`<project>-v<N>-<YYYYmmddHHMMSS>`."""
    return f"{project}-v{number}-{at.strftime('%Y%m%d%H%M%S')}"


def version_order(version: str) -> tuple[int, str]:
    """Sort key for release folders: by task number, then time; foreign names sort first."""
    found = _VERSION.search(version)
    return (int(found.group(1)), found.group(2)) if found else (-1, version)


@dataclass(frozen=True)
class ReleasePaths:
    """Where one release lives on a server."""

    codes_dir: str
    release_dir: str
    link: str

    @classmethod
    def of(
        cls, codes_root: str, deploy_path: str, project: str, env: str, version: str
    ) -> ReleasePaths:
        codes_dir = posixpath.join(codes_root, project, env)
        return cls(
            codes_dir=codes_dir,
            release_dir=posixpath.join(codes_dir, version),
            link=posixpath.join(deploy_path, project),
        )

    @property
    def version(self) -> str:
        return posixpath.basename(self.release_dir)

    @property
    def staged(self) -> str:
        """Where the upload stage builds the release; the deploy stage moves it into place."""
        return posixpath.join(self.codes_dir, ".hoist-upload", f"{self.version}.staged")

    @property
    def meta(self) -> str:
        """Where the upload stage puts the release's manifest files until the deploy stage."""
        return posixpath.join(self.codes_dir, ".hoist-upload", f"{self.version}.meta")

    @property
    def manifests(self) -> str:
        """Beside the releases, outside every release's tree: a folder per release with its
        `manifest`, its `digest` and `stat` (the fingerprint of its files: inodes, sizes and
        times when it was staged, to tell whether it was changed since)."""
        return posixpath.join(self.codes_dir, ".hoist-manifests")

    def manifest_dir(self, version: str) -> str:
        return posixpath.join(self.manifests, version)


@dataclass(frozen=True, order=True)
class NodeKey:
    """One node of the pipeline: a stage, on a server or (LOCAL) on the Hoist machine."""

    stage: Stage
    server: str = LOCAL


def plan_nodes(servers: Sequence[str], *, health: bool = False) -> list[NodeKey]:
    """Every node of a release to `servers`, in the order they run; with `health`, each
    server's chain ends with its health check."""
    chain = SERVER_STAGES + ((Stage.HEALTH,) if health else ())
    nodes = [NodeKey(stage) for stage in LOCAL_STAGES]
    nodes += [NodeKey(stage, server) for server in servers for stage in chain]
    return nodes


def rollback_nodes(servers: Sequence[str], *, health: bool = False) -> list[NodeKey]:
    """The nodes of a rollback: no download or packaging, no pre-deploy hook."""
    stages = (Stage.UPLOAD, Stage.DEPLOY, Stage.POST_DEPLOY) + ((Stage.HEALTH,) if health else ())
    return [NodeKey(Stage.START)] + [NodeKey(s, server) for server in servers for s in stages]


def nodes_to_retry(done: Mapping[NodeKey, bool]) -> set[NodeKey]:
    """Nodes a retry runs: each chain from its first node that is not done, to its end.

    `done` says, per node, whether it succeeded (or had nothing to run, like an empty hook).
    """
    chains: dict[str, list[NodeKey]] = {}
    for key in done:
        chains.setdefault(key.server, []).append(key)
    order = {stage: i for i, stage in enumerate(LOCAL_STAGES + SERVER_STAGES + (Stage.HEALTH,))}
    again: set[NodeKey] = set()
    for chain in chains.values():
        chain.sort(key=lambda k: order[k.stage])
        first = next((i for i, key in enumerate(chain) if not done[key]), None)
        if first is not None:
            again.update(key for key in chain[first:] if not done[key])
    return again


def batches(servers: Sequence[str], size: int) -> list[list[str]]:
    """Servers in batches of `size` (0: one batch of all)."""
    if size <= 0 or size >= len(servers):
        return [list(servers)] if servers else []
    return [list(servers[i : i + size]) for i in range(0, len(servers), size)]


def releases_to_remove(
    releases: Iterable[str], keep: int, live: str | None, previous: str | None
) -> list[str]:
    """Old release folders beyond the newest `keep`; never the live one or the one before it."""
    ordered = sorted(releases, key=version_order, reverse=True)
    protected = set(ordered[:keep]) | {live, previous}
    return [r for r in ordered if r not in protected]
