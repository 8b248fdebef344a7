"""`hoist apply`, `hoist db …`, `hoist secret …`"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from core.cli.runtime import CliState, fail, with_database
from core.errors import HoistError
from core.inventory.apply import apply_inventory
from core.inventory.inventory_file import read_inventory
from core.secrets import generate_secret
from core.store.db import close_database, open_database


@click.command("apply")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@with_database
async def apply_command(state: CliState, file: Path, dry_run: bool) -> None:
    """Make the inventory match FILE (TOML), all or nothing."""
    inventory = read_inventory(file)
    changes = await apply_inventory(state.actor, inventory, await state.box(), dry_run=dry_run)
    if not changes:
        click.echo("no changes")
        return
    for change in changes:
        click.echo(change.describe())
    verb = "would change" if dry_run else "changed"
    click.echo(f"{verb} {len(changes)} object{'s' if len(changes) != 1 else ''}")


@click.group("db")
def db_group() -> None:
    """The database schema."""


@db_group.command("upgrade")
@click.pass_obj
def db_upgrade(state: CliState) -> None:
    """Apply pending migrations (every command also does this first)."""

    async def upgrade() -> list[str]:
        try:
            return await open_database(state.settings)
        finally:
            await close_database()

    try:
        applied = asyncio.run(upgrade())
    except HoistError as error:
        fail(error)
        return
    for name in applied:
        click.echo(f"applied {name}")
    click.echo("database is up to date")


@click.group("secret")
def secret_group() -> None:
    """The key-encryption secret (HOIST_SECRET_KEY)."""


@secret_group.command("generate")
def secret_generate() -> None:
    """Print a new secret to put in HOIST_SECRET_KEY."""
    click.echo(generate_secret())
