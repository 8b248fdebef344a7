"""The `hoist` command group of the core: inventory, database and secrets."""

from __future__ import annotations

import click

from core import __version__
from core.audit import Actor
from core.cli.admin import apply_command, db_group, secret_group
from core.cli.deploy import (
    abort_command,
    cancel_command,
    continue_command,
    deploy_command,
    promote_command,
    reschedule_command,
    retry_command,
    rollback_command,
)
from core.cli.keys import key_group
from core.cli.projects import env_group, project_group
from core.cli.runtime import CliState, fail
from core.cli.servers import server_group
from core.cli.tasks import releases_command, tasks_group
from core.cli.templates import template_group
from core.config import Settings
from core.errors import HoistError


@click.group()
@click.version_option(__version__, prog_name="hoist")
@click.option("--as", "as_user", metavar="NAME", help="Who to record in the audit trail.")
@click.pass_context
def cli(ctx: click.Context, as_user: str | None) -> None:
    """Hoist: ship approved git commits to your servers over SSH."""
    try:
        settings = Settings.from_env()
    except HoistError as error:
        fail(error)
    ctx.obj = CliState(settings=settings, actor=Actor.from_os(as_user))


for command in (
    key_group,
    server_group,
    project_group,
    env_group,
    template_group,
    apply_command,
    deploy_command,
    promote_command,
    reschedule_command,
    retry_command,
    continue_command,
    abort_command,
    cancel_command,
    rollback_command,
    tasks_group,
    releases_command,
    db_group,
    secret_group,
):
    cli.add_command(command)
