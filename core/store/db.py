"""Opening the database and bringing its schema up to date with aerich migrations.

Every command that opens the database applies pending migrations first, so an upgraded Hoist
never runs against an old schema. Migration files carry their SQL for each dialect (SQLite,
PostgreSQL, MySQL/MariaDB) and pick the one of the connection they run on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aerich import Command
from tortoise import BaseDBAsyncClient, Tortoise
from tortoise.connection import get_connections
from tortoise.exceptions import DBConnectionError, OperationalError

import migrations
from core.config import Settings
from core.errors import StorageError

APP = "hoist"
MIGRATIONS_DIR = Path(migrations.__file__).parent
MODEL_MODULES = ["core.store.models", "aerich.models"]


def connection_name(url: str) -> str:
    """The connection's name: one per database kind.

    Tortoise caches compiled SQL per connection name; naming it after the kind keeps a process
    that opens SQLite and then PostgreSQL (the test suite does) from reusing the wrong SQL.
    """
    return "hoist_" + url.split(":", 1)[0].replace("+", "_")


def tortoise_config(url: str) -> dict[str, Any]:
    """The Tortoise configuration for Hoist's one app on `url`."""
    name = connection_name(url)
    return {
        "connections": {name: url},
        "apps": {APP: {"models": MODEL_MODULES, "default_connection": name}},
        "use_tz": True,
        "timezone": "UTC",
    }


def redact_url(url: str) -> str:
    """`url` without its password, fit for an error message."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


async def open_database(settings: Settings, *, upgrade: bool = True) -> list[str]:
    """Connect to the configured database; apply pending migrations. Returns those applied."""
    if settings.embedded:
        settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = tortoise_config(settings.database_url)
    try:
        await Tortoise.init(config=config, _enable_global_fallback=True)
        return await upgrade_schema(config) if upgrade else []
    except (DBConnectionError, OSError, OperationalError) as exc:
        await close_database()
        raise StorageError(
            f"cannot open the database {redact_url(settings.database_url)}: {_reason(exc)}. "
            "Check HOIST_DATABASE_URL and that the server is running."
        ) from exc


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


async def upgrade_schema(config: dict[str, Any]) -> list[str]:
    """Apply every migration in `migrations/hoist` that this database has not seen yet."""
    command = Command(tortoise_config=config, app=APP, location=str(MIGRATIONS_DIR))
    await command.init()
    applied: list[str] = await command.upgrade(run_in_transaction=True)
    return applied


def current_connection() -> BaseDBAsyncClient:
    """The open connection of Hoist's app."""
    return get_connections().all()[0]


async def close_database() -> None:
    """Close every connection Tortoise holds."""
    await Tortoise.close_connections()


async def drop_all_tables() -> None:
    """Empty the connected database of every table (scratch databases for tests and tooling)."""
    conn = current_connection()
    dialect = conn.schema_generator.DIALECT
    if dialect == "postgres":
        await conn.execute_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        return
    if dialect == "mysql":
        _, rows = await conn.execute_query("SHOW TABLES")
        names = [next(iter(row.values())) for row in rows]
        if names:
            quoted = ", ".join(f"`{name}`" for name in names)
            await conn.execute_script(
                f"SET FOREIGN_KEY_CHECKS=0; DROP TABLE {quoted}; SET FOREIGN_KEY_CHECKS=1;"
            )
        return
    _, rows = await conn.execute_query(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
    )
    drops = "".join(f'DROP TABLE IF EXISTS "{row["name"]}";' for row in rows)
    await conn.execute_script(f"PRAGMA foreign_keys=OFF;{drops}PRAGMA foreign_keys=ON;")
