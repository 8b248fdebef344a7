"""Write the next aerich migration with SQL for SQLite, PostgreSQL and MySQL/MariaDB.

aerich writes a migration in the dialect of the database it is connected to. Hoist supports
three, so this runs aerich once per dialect against a scratch database (in a subprocess each,
since aerich keeps its state on the class) and merges the results into one file whose
`upgrade()` returns the SQL of the connection it runs on.

    HOIST_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
    HOIST_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test \
    .venv/bin/python scripts/make_migration.py add_locks
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from aerich import Command
from aerich.migrate import Migrate
from aerich.utils import get_formatted_compressed_data, get_models_describe, import_py_file
from tortoise import Tortoise
from tortoise.utils import get_schema_sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.store.db import (  # noqa: E402
    APP,
    MIGRATIONS_DIR,
    current_connection,
    drop_all_tables,
    tortoise_config,
)  # noqa: E402

DIALECT_URLS = {
    "sqlite": None,
    "postgres": "HOIST_TEST_POSTGRES_URL",
    "mysql": "HOIST_TEST_MYSQL_URL",
}

TEMPLATE = '''"""{name}: written by scripts/make_migration.py with SQL for each dialect."""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True

SQL = {sql}


async def upgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.schema_generator.DIALECT]["upgrade"]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return SQL[db.schema_generator.DIALECT]["downgrade"]


MODELS_STATE = (
    {state}
)
'''


async def generate(url: str, name: str) -> dict[str, str]:
    """Bring a scratch database to the current head, then let aerich diff it to the models."""
    config = tortoise_config(url)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(MIGRATIONS_DIR / APP, Path(tmp) / APP)
        await Tortoise.init(config=config)
        await drop_all_tables()
        command = Command(tortoise_config=config, app=APP, location=tmp)
        await command.init()
        await command.upgrade()
        await command.init()  # again, so aerich reads the state the upgrade just stored
        conn = current_connection()
        if not Migrate.get_all_version_files():
            version = await Migrate.generate_version(name=name)
            up, down = get_schema_sql(conn, safe=False), ""
            state = get_formatted_compressed_data(get_models_describe(APP))
        else:
            version = await command.migrate(name, no_input=True)
            if not version:
                return {}
            module = import_py_file(Path(tmp, APP, version))
            up, down = await module.upgrade(conn), await module.downgrade(conn)
            state = get_formatted_compressed_data(get_models_describe(APP))
        await drop_all_tables()
        await Tortoise.close_connections()
    return {"version": version, "upgrade": up.strip(), "downgrade": down.strip(), "state": state}


def _sqlite_keeps_no_comments() -> None:
    """SQLite has no column comments, and aerich refuses to change one there; a comment
    changes whenever an enum gains a member (Tortoise describes the column by its values)."""
    from aerich.ddl.sqlite import SqliteDDL

    SqliteDDL.set_comment = lambda self, model, field: "-- SQLite keeps no column comments"  # type: ignore[method-assign, assignment]


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        if sys.argv[2].startswith("sqlite"):
            _sqlite_keeps_no_comments()
        result = asyncio.run(generate(sys.argv[2], sys.argv[3]))
        print(json.dumps(result))
        return 0
    name = sys.argv[1] if len(sys.argv) > 1 else "update"
    results: dict[str, dict[str, str]] = {}
    for dialect, var in DIALECT_URLS.items():
        if var is None:
            url = f"sqlite://{tempfile.mkdtemp()}/scratch.sqlite3"
        elif not (url := os.environ.get(var, "")):
            print(f"{var} is not set: every dialect is needed", file=sys.stderr)
            return 2
        out = subprocess.run(
            [sys.executable, __file__, "--worker", url, name],
            check=True,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        ).stdout
        results[dialect] = json.loads(out.strip().splitlines()[-1])
    if not results["sqlite"]:
        print("no changes")
        return 0
    version = results["sqlite"]["version"]
    sql = {d: {"upgrade": r["upgrade"], "downgrade": r["downgrade"]} for d, r in results.items()}
    text = TEMPLATE.format(
        name=version, sql=json.dumps(sql, indent=4), state=results["sqlite"]["state"]
    )
    (MIGRATIONS_DIR / APP / version).write_text(text, encoding="utf-8")
    print(f"wrote migrations/{APP}/{version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
