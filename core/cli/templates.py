"""`hoist template …`"""

from __future__ import annotations

from pathlib import Path

import click

from core.cli.output import emit_rows, json_option
from core.cli.runtime import CliState, with_database
from core.errors import UsageError
from core.inventory import rows, service
from core.inventory.specs import TemplateSpec
from core.status import HookStage


@click.group("template")
def template_group() -> None:
    """Reusable hook scripts."""


@template_group.command("add")
@click.argument("title")
@click.option("--stage", required=True, type=click.Choice([s.value for s in HookStage]))
@click.option("--file", "file", required=True, type=click.Path(path_type=Path))
@with_database
async def template_add(state: CliState, title: str, stage: str, file: Path) -> None:
    """Save a hook script as a template."""
    try:
        script = file.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {file}: not a readable text file") from exc
    await service.add_template(state.actor, TemplateSpec(title, HookStage(stage), script))
    click.echo(f"added template {title} ({stage})")


@template_group.command("list")
@json_option
@with_database
async def template_list(state: CliState, as_json: bool) -> None:
    """List hook templates."""
    emit_rows(await rows.template_rows(), ["name", "stage", "created_by"], as_json=as_json)


@template_group.command("remove")
@click.argument("title")
@with_database
async def template_remove(state: CliState, title: str) -> None:
    """Remove a template (tasks keep the scripts they ran)."""
    await service.remove_template(state.actor, title)
    click.echo(f"removed template {title}")
