"""The bytes each server of one task is sent: built once per base release, shared by all the
servers that have that base, and started as soon as the package exists (while connections
are still opening)."""

from __future__ import annotations

import asyncio
import gzip
import logging
import tarfile
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path

from core.engine.delta import Payload, build_delta, full_payload, plan_delta
from core.engine.settings import EngineSettings
from core.errors import HoistError
from core.source.manifest import Manifest
from core.source.package import compress, manifest_of_archive
from core.status import NodeStatus, Stage, TaskKind
from core.store.models import DeployTask, StageRun
from core.transport.job import file_chunks

_log = logging.getLogger(__name__)


class Payloads:
    """The full payload and the deltas of one release (the task's own, or for a rollback the
    release's), by base version."""

    def __init__(self, settings: EngineSettings, release: DeployTask) -> None:
        self.settings = settings
        self.release = release
        self.archive = archive_path(settings, release.id)
        self.version = release.version
        self._manifest: Manifest | None = None
        self._deltas: dict[str, asyncio.Task[Payload | str]] = {}
        self._bases: dict[str, Manifest | None] = {}
        self._compressed: asyncio.Task[Path] | None = None

    async def manifest(self) -> Manifest:
        """The release's manifest (a HoistError when its package is gone)."""
        if self._manifest is None:
            self._manifest = await read_manifest(self.settings, self.release)
            if self._manifest is None or not self.archive.is_file():
                raise HoistError(
                    f"the package of {self.release.version} is gone from this Hoist machine; "
                    "deploy the commit again as a new task"
                )
        return self._manifest

    async def full(self) -> Payload:
        """The whole release, gzip'd (compressed once, when the first server needs it)."""
        manifest = await self.manifest()
        if self._compressed is None:
            self._compressed = asyncio.create_task(self._compress())
        return full_payload(await asyncio.shield(self._compressed), manifest, self.version)

    async def _compress(self) -> Path:
        if self.archive.name.endswith(".gz"):  # a package made before deltas
            return self.archive
        dest = self.settings.compressed_path(self.release.id)
        if not dest.is_file():
            await asyncio.to_thread(compress, self.archive, dest)
        return dest

    async def base_manifest(self, base: str) -> Manifest | None:
        """The manifest of release `base` of the same environment (read once), or None."""
        if base not in self._bases:
            task = await DeployTask.get_or_none(
                environment_id=self.release.environment_id, version=base, kind=TaskKind.DEPLOY
            )
            self._bases[base] = await read_manifest(self.settings, task) if task else None
        return self._bases[base]

    def prepare(self, bases: Iterable[str]) -> None:
        """Start building the deltas from these bases now."""
        for base in bases:
            self._delta_task(base)

    async def delta(self, base: str) -> Payload | str:
        """The delta from release `base`, or why there is none (a sentence)."""
        return await asyncio.shield(self._delta_task(base))

    def _delta_task(self, base: str) -> asyncio.Task[Payload | str]:
        if base not in self._deltas:
            self._deltas[base] = asyncio.create_task(self._build(base))
        return self._deltas[base]

    async def _build(self, base: str) -> Payload | str:
        try:
            manifest = await self.manifest()
        except HoistError as error:
            return str(error)
        base_manifest = await self.base_manifest(base)
        if base_manifest is None:
            return f"this Hoist has no manifest of {base}"
        plan = plan_delta(base_manifest, manifest)
        try:
            return await asyncio.to_thread(
                build_delta, self.archive, manifest, plan, base_manifest, self.version
            )
        except (HoistError, OSError, EOFError, tarfile.TarError) as error:
            _log.warning("no delta from %s: %s", base, error)
            return f"no delta from {base}: {error}"


async def read_manifest(settings: EngineSettings, task: DeployTask) -> Manifest | None:
    """A release's manifest as its package stage wrote it; taken from its package (and kept)
    when the package is older than manifests; None when both are gone."""
    path = settings.manifest_path(task.id)
    archive = archive_path(settings, task.id)

    def read() -> Manifest | None:
        try:
            return Manifest.loads(gzip.decompress(path.read_bytes()))
        except (OSError, EOFError, HoistError):
            pass
        try:
            manifest = manifest_of_archive(archive)
        except (OSError, EOFError, tarfile.TarError, HoistError):
            return None
        write_manifest(settings, task.id, manifest)
        return manifest

    return await asyncio.to_thread(read)


def archive_path(settings: EngineSettings, task_id: int) -> Path:
    """A task's archive: its plain tar, or (made before deltas) its gzip'd one."""
    plain = settings.package_path(task_id)
    legacy = settings.compressed_path(task_id)
    return legacy if not plain.is_file() and legacy.is_file() else plain


def write_manifest(settings: EngineSettings, task_id: int, manifest: Manifest) -> None:
    """Keep a release's manifest beside its package (written aside, then renamed)."""
    path = settings.manifest_path(task_id)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(gzip.compress(manifest.dumps(), compresslevel=6, mtime=0))
    partial.replace(path)


async def live_releases(env_id: int, servers: Sequence[str], task_id: int) -> dict[str, str]:
    """The release each server last switched to in this environment, as far as this Hoist
    knows (the server itself has the last word: a delta checks its link first)."""
    rows = await (
        StageRun.filter(
            task__environment_id=env_id,
            stage=Stage.DEPLOY,
            status=NodeStatus.SUCCEEDED,
            server_name__in=list(servers),
        )
        .exclude(task_id=task_id)
        .order_by("finished_at", "id")
        .values_list("server_name", "task__version")
    )
    return {str(server): str(version) for server, version in rows}


async def stream(payload: Payload) -> AsyncIterator[bytes]:
    """The payload as one input stream: the manifest (a whole release's), then the tree."""
    if payload.meta:
        yield payload.meta
    if isinstance(payload.tree, Path):
        async for chunk in file_chunks(payload.tree):
            yield chunk
    else:
        yield payload.tree
