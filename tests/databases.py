"""The databases tests run on: SQLite always, PostgreSQL and MariaDB when their URL is set."""

from __future__ import annotations

import asyncio
import os

import pytest
from tortoise import Tortoise

from core.store.db import drop_all_tables, tortoise_config

BACKENDS = {
    "sqlite": None,
    "postgres": "HOIST_TEST_POSTGRES_URL",
    "mysql": "HOIST_TEST_MYSQL_URL",
}


def backend_url(backend: str, sqlite_path: str) -> str:
    """The URL for `backend`, or skip (fail in CI, where every database must be there)."""
    var = BACKENDS[backend]
    if var is None:
        return f"sqlite://{sqlite_path}"
    url = os.environ.get(var)
    if not url:
        if os.environ.get("HOIST_TEST_REQUIRE_DATABASES"):
            pytest.fail(f"{var} must be set when HOIST_TEST_REQUIRE_DATABASES is")
        pytest.skip(f"{var} is not set")
    return url


async def reset(url: str) -> None:
    """Drop every table, so each test starts from an empty database."""
    if url.startswith("sqlite"):
        return
    await Tortoise.init(config=tortoise_config(url))
    try:
        await drop_all_tables()
    finally:
        await Tortoise.close_connections()


def reset_sync(url: str) -> None:
    asyncio.run(reset(url))
