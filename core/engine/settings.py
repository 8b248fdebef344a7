"""How the engine runs: folders, limits and timeouts, passed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.config import Settings
from core.transport.ssh import ConnectOptions


@dataclass(frozen=True)
class EngineSettings:
    home: Path
    max_parallel: int = 50
    connect: ConnectOptions = field(default_factory=ConnectOptions)
    hook_timeout: float = 900.0
    stage_timeout: float = 1800.0
    lease_seconds: float = 60.0
    heartbeat_seconds: float = 1.0
    hidden_files: tuple[Path, ...] = ()
    """Files local hooks must not read (the secret file, the SQLite database)."""

    @classmethod
    def for_hoist(cls, settings: Settings) -> EngineSettings:
        """The engine's settings for a Hoist home, with its secret files hidden from hooks."""
        hidden = [settings.secret_file]
        if settings.embedded:
            hidden.append(Path(settings.database_url.removeprefix("sqlite://")))
        return cls(
            home=settings.home, max_parallel=settings.max_parallel, hidden_files=tuple(hidden)
        )

    @property
    def mirrors(self) -> Path:
        return self.home / "mirrors"

    @property
    def workspaces(self) -> Path:
        return self.home / "work"

    @property
    def packages(self) -> Path:
        return self.home / "packages"

    def package_path(self, task_id: int) -> Path:
        """A task's release archive (a plain tar; packages made before deltas were gzip'd:
        `compressed_path`)."""
        return self.packages / f"task-{task_id}.tar"

    def compressed_path(self, task_id: int) -> Path:
        """The gzip'd copy of a task's archive that whole uploads send, made when needed."""
        return self.packages / f"task-{task_id}.tar.gz"

    def manifest_path(self, task_id: int) -> Path:
        """The manifest of the release a task packaged (gzip'd `Manifest.dumps`)."""
        return self.packages / f"task-{task_id}.manifest.gz"

    def workspace(self, task_id: int) -> Path:
        return self.workspaces / f"task-{task_id}"
