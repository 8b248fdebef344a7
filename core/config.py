"""Settings read from the environment, in one place; everything else takes them explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.errors import UsageError


@dataclass(frozen=True)
class Settings:
    """Where Hoist keeps its state and how it reaches its database."""

    home: Path
    database_url: str
    secret_key: str | None
    max_parallel: int = 50

    @property
    def embedded(self) -> bool:
        """True on the embedded default (SQLite), where Hoist may keep its own secret file."""
        return self.database_url.startswith("sqlite://")

    @property
    def secret_file(self) -> Path:
        return self.home / "secret.key"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read `HOIST_HOME`, `HOIST_DATABASE_URL` and `HOIST_SECRET_KEY`."""
        env = os.environ if env is None else env
        home = Path(env.get("HOIST_HOME") or Path.home() / ".hoist").expanduser()
        url = env.get("HOIST_DATABASE_URL") or f"sqlite://{home / 'hoist.sqlite3'}"
        return cls(
            home=home,
            database_url=url,
            secret_key=env.get("HOIST_SECRET_KEY") or None,
            max_parallel=_positive_int(env, "HOIST_MAX_PARALLEL", 50),
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(f"{name} must be a whole number of at least 1, not `{raw}`")
    return int(raw)
