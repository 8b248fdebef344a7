"""`hoist server …`"""

from __future__ import annotations

import sys

import click

from core.cli.output import emit_rows, json_option
from core.cli.runtime import CliState, with_database
from core.errors import UsageError
from core.inventory import rows, service
from core.inventory.specs import ServerSpec
from core.transport.hostkeys import scan_host_key


@click.group("server")
def server_group() -> None:
    """Servers Hoist deploys to."""


@server_group.command("add")
@click.argument("address")
@click.option("--name", help="Unique name (default: the address, with :port if not 22).")
@click.option("--port", type=int, default=22, show_default=True)
@click.option("--key", "key", required=True, help="Name of the SSH key to log in with.")
@click.option("--label", "labels", multiple=True, help="A label (repeatable).")
@click.option("--owner", help="Who to call when it breaks.")
@click.option("--team", help="The team that owns it.")
@click.option("--jump", help="Name of a server to reach this one through (a bastion).")
@click.option("--host-key", help="Pinned host key, as a known_hosts line.")
@click.option("--scan", is_flag=True, help="Read the host key from the server and pin it.")
@click.option("--yes", is_flag=True, help="Pin a scanned key without asking.")
@with_database
async def server_add(
    state: CliState,
    address: str,
    name: str | None,
    port: int,
    key: str,
    labels: tuple[str, ...],
    owner: str | None,
    team: str | None,
    jump: str | None,
    host_key: str | None,
    scan: bool,
    yes: bool,
) -> None:
    """Add a server."""
    if scan and host_key:
        raise UsageError("give --host-key or --scan, not both")
    name = name or (address if port == 22 else f"{address}:{port}")
    spec = ServerSpec(name, address, key, port, host_key, labels, owner, team, jump)
    if scan:
        await service.check_new_server(spec)
        spec = ServerSpec(
            name, address, key, port, await _scan(address, port, yes), labels, owner, team, jump
        )
    await service.add_server(state.actor, spec)
    pinned = "host key pinned" if spec.host_key else "no host key pinned yet"
    click.echo(f"added server {name} ({address}:{port}, {pinned})")


async def _scan(address: str, port: int, yes: bool) -> str:
    line, fingerprint = await scan_host_key(address, port)
    click.echo(f"{address}:{port} offers host key {fingerprint}")
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("not pinning a scanned host key without confirmation: pass --yes")
        if not click.confirm("Pin this host key?", default=False):
            raise UsageError("host key not confirmed; nothing was added")
    return line


@server_group.command("list")
@json_option
@with_database
async def server_list(state: CliState, as_json: bool) -> None:
    """List servers."""
    columns = ["name", "address", "port", "key", "labels", "owner", "team", "status"]
    emit_rows(await rows.server_rows(), columns, as_json=as_json)


@server_group.command("remove")
@click.argument("name")
@with_database
async def server_remove(state: CliState, name: str) -> None:
    """Remove a server (one with deploy history is disabled instead)."""
    outcome = await service.remove_server(state.actor, name)
    click.echo(f"server {name}: {outcome}")


@server_group.command("disable")
@click.argument("name")
@with_database
async def server_disable(state: CliState, name: str) -> None:
    """Stop deploying to a server without erasing it."""
    await service.set_server_enabled(state.actor, name, False)
    click.echo(f"disabled server {name}")


@server_group.command("enable")
@click.argument("name")
@with_database
async def server_enable(state: CliState, name: str) -> None:
    """Deploy to a disabled server again."""
    await service.set_server_enabled(state.actor, name, True)
    click.echo(f"enabled server {name}")
