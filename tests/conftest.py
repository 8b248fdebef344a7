"""Shared fixtures: a fresh database per test on every backend, the CLI, the environment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result

from core.cli import cli
from core.config import Settings
from core.secrets import generate_secret
from core.store.db import close_database, open_database
from tests.databases import BACKENDS, backend_url, reset_sync


@pytest.fixture(params=list(BACKENDS))
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each supported kind."""
    url = backend_url(request.param, str(tmp_path / "hoist.sqlite3"))
    reset_sync(url)
    return url


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Settings]:
    """An empty SQLite database opened in this loop, for tests about logic, not storage."""
    home = tmp_path / "home"
    settings = Settings(home, f"sqlite://{home / 'hoist.sqlite3'}", generate_secret())
    await open_database(settings)
    yield settings
    await close_database()


@pytest.fixture
def hoist_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """Environment variables for a Hoist home in tmp_path on the parametrized database."""
    env = {"HOIST_HOME": str(tmp_path / "home"), "HOIST_DATABASE_URL": database_url}
    if not database_url.startswith("sqlite"):
        env["HOIST_SECRET_KEY"] = generate_secret()
    return env


CliCall = Callable[..., Result]
T = TypeVar("T")


@pytest.fixture
def hoist(hoist_env: dict[str, str]) -> CliCall:
    """Run `hoist ARGS…` in-process against the test database; returns click's Result."""

    def call(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, list(args), env=hoist_env | (env or {}), input=input)

    return call


@pytest.fixture
async def db(hoist_env: dict[str, str]) -> AsyncIterator[Settings]:
    """The test database opened in this event loop, schema migrated."""
    settings = Settings.from_env(hoist_env)
    await open_database(settings)
    yield settings
    await close_database()


@pytest.fixture
def query(hoist_env: dict[str, str]) -> Callable[[Callable[[], Awaitable[T]]], T]:
    """Run an async function against the test database from a sync test (between CLI calls)."""

    def run(fn: Callable[[], Awaitable[T]]) -> T:
        async def opened() -> T:
            await open_database(Settings.from_env(hoist_env))
            try:
                return await fn()
            finally:
                await close_database()

        return asyncio.run(opened())

    return run


def ok(result: Result) -> str:
    """Assert a CLI call succeeded; return its output."""
    assert result.exit_code == 0, (result.exit_code, result.output, result.exception)
    return result.output


def refused(result: Result, *fragments: Any) -> str:
    """Assert a CLI call failed with exit 2 and an error naming each fragment."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    for fragment in fragments:
        assert str(fragment) in result.output, result.output
    return result.output
