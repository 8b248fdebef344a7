"""`hoist key …`"""

from __future__ import annotations

import os
from pathlib import Path

import click

from core.cli.output import emit_rows, json_option
from core.cli.runtime import CliState, with_database
from core.errors import UsageError
from core.inventory import rows, service
from core.inventory.specs import KeySpec
from core.keys import KeyMaterial, generate_key, parse_private_key


@click.group("key")
def key_group() -> None:
    """SSH keys Hoist logs in with (stored encrypted)."""


@key_group.command("add")
@click.argument("name")
@click.option("--user", required=True, help="Login user on the servers.")
@click.option("--file", "file", type=click.Path(path_type=Path), help="Private key file.")
@click.option("--generate", is_flag=True, help="Create a new ed25519 key pair.")
@click.option("--passphrase-env", metavar="VAR", help="Variable holding the key's passphrase.")
@with_database
async def key_add(
    state: CliState,
    name: str,
    user: str,
    file: Path | None,
    generate: bool,
    passphrase_env: str | None,
) -> None:
    """Add a key from a private key file, or generate one."""
    material = _material(name, file, generate, passphrase_env)
    key = await service.add_key(state.actor, KeySpec(name, user, material), await state.box())
    click.echo(f"added key {key.name} ({key.fingerprint})")
    if generate:
        click.echo("public key, for the servers' authorized_keys:")
        click.echo(key.public_key)


def _material(
    name: str, file: Path | None, generate: bool, passphrase_env: str | None
) -> KeyMaterial:
    if generate == (file is not None):
        raise UsageError("give exactly one of --file PATH or --generate")
    if file is None:
        return generate_key(comment=f"hoist:{name}")
    try:
        text = file.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read key file {file}: not a readable text file") from exc
    passphrase = None
    if passphrase_env:
        if passphrase_env not in os.environ:
            raise UsageError(f"environment variable {passphrase_env} is not set")
        passphrase = os.environ[passphrase_env]
    return parse_private_key(text, source=f"file {file}", passphrase=passphrase)


@key_group.command("list")
@json_option
@with_database
async def key_list(state: CliState, as_json: bool) -> None:
    """List keys with their fingerprints (never the private part)."""
    emit_rows(await rows.key_rows(), ["name", "user", "fingerprint", "status"], as_json=as_json)


@key_group.command("remove")
@click.argument("name")
@with_database
async def key_remove(state: CliState, name: str) -> None:
    """Remove a key no server or project uses."""
    await service.remove_key(state.actor, name)
    click.echo(f"removed key {name}")


@key_group.command("disable")
@click.argument("name")
@with_database
async def key_disable(state: CliState, name: str) -> None:
    """Stop using a key without erasing it."""
    await service.set_key_enabled(state.actor, name, False)
    click.echo(f"disabled key {name}")


@key_group.command("enable")
@click.argument("name")
@with_database
async def key_enable(state: CliState, name: str) -> None:
    """Use a disabled key again."""
    await service.set_key_enabled(state.actor, name, True)
    click.echo(f"enabled key {name}")
