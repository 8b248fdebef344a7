"""`hoist tasks list|show` and `hoist releases`: what ran, and what the servers have."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from core.cli.deploy import make_engine
from core.cli.output import emit_rows, json_option
from core.cli.runtime import CliState, with_database
from core.engine.releases import read_releases
from core.engine.summary import files, size
from core.engine.views import task_detail, task_row
from core.errors import NotFoundError
from core.inventory.lookup import get_environment, get_project
from core.store.models import DeployTask


@click.group("tasks")
def tasks_group() -> None:
    """Deploy and rollback tasks."""


@tasks_group.command("list")
@click.argument("project", required=False)
@click.argument("env", required=False)
@click.option("--limit", type=int, default=20, show_default=True)
@json_option
@with_database
async def tasks_list(
    state: CliState, project: str | None, env: str | None, limit: int, as_json: bool
) -> None:
    """Recent tasks, newest first."""
    query = DeployTask.all().order_by("-id").limit(limit)
    if project and env:
        query = query.filter(environment=await get_environment(project, env))
    elif project:
        query = query.filter(environment__project=await get_project(project))
    rows = [await task_row(task) for task in await query]
    columns = ["id", "project", "env", "kind", "version", "ref", "status", "requester", "seconds"]
    emit_rows(rows, columns, as_json=as_json)


@tasks_group.command("show")
@click.argument("task_id", type=int)
@click.option("--tail", type=int, default=20, show_default=True, help="Output lines per stage.")
@json_option
@with_database
async def tasks_show(state: CliState, task_id: int, tail: int, as_json: bool) -> None:
    """A task with every stage's status, timing and output tail."""
    task = await DeployTask.get_or_none(id=task_id)
    if task is None:
        raise NotFoundError(f"unknown task #{task_id}")
    detail = await task_detail(task, tail=tail)
    if as_json:
        click.echo(json.dumps(detail, indent=2))
        return
    click.echo(
        f"#{detail['id']} {detail['project']}/{detail['env']} {detail['version']} "
        f"{detail['status']} ({detail['ref']} {detail['commit'][:12]}, by {detail['requester']})"
    )
    if detail["scheduled_at"]:
        click.echo(f"  scheduled for {detail['scheduled_at']}")
    for line in plan_lines(detail):
        click.echo(line)
    if detail["reason"]:
        click.echo(f"  why: {detail['reason']}")
    if detail["transfer"]:
        click.echo(f"  sent: {detail['transfer']}")
    if detail["timing"]:
        click.echo(f"  time per stage: {detail['timing']}")
    if detail["status"] == "paused":
        since = f" since {detail['paused_at']}" if detail["paused_at"] else ""
        until = (
            f"; it continues by itself at {detail['resume_at']}"
            if detail["resume_at"]
            else "; it waits for someone to continue"
        )
        click.echo(f"  paused{since}{until}")
        failed = any(n["status"] == "failed" for n in detail["nodes"])
        retry = f"hoist retry {task_id} | " if failed else ""
        click.echo(f"  next: hoist continue {task_id} | {retry}hoist abort {task_id} --rollback")
    for node in detail["nodes"]:
        where = node["server"] or "local"
        seconds = f" {node['seconds']:.1f}s" if node["seconds"] is not None else ""
        error = f": {node['error']}" if node["error"] else ""
        click.echo(
            f"  {where:<20} {node['stage']:<14} {node['status']}{seconds}{_sent(node)}{error}"
        )
        for line in node["output"].splitlines() if node["output"] else []:
            click.echo(f"      {line}")


def _sent(node: dict[str, Any]) -> str:
    """`  delta: 3 files, 14.2 KB` beside an upload node that sent something."""
    if node["transfer"] == "delta":
        return f"  delta: {files(node['files_sent'])}, {size(node['bytes_sent'])}"
    if node["transfer"] == "full":
        return f"  whole release: {size(node['bytes_sent'])} ({node['transfer_note']})"
    return ""


STEP_MARKS = {
    "done": "✓",
    "failed": "✗",
    "running": "▶",
    "next": "→",
    "pending": "·",
    "skipped": "–",
}


def plan_lines(detail: dict[str, Any]) -> list[str]:
    """The rollout plan of a task's detail: a heading, then a marked line per step."""
    steps = detail["steps"]
    if not steps:
        return []
    lines = [f"  plan {detail['plan']}: step {detail['step']} of {len(steps)} done"]
    for step in steps:
        mark = STEP_MARKS.get(step["state"], "·")
        lines.append(f"    {mark} {step['step']}. {step['text']}  [{step['state']}]")
    return lines


@click.command("releases")
@click.argument("project")
@click.argument("env")
@json_option
@with_database
async def releases_command(state: CliState, project: str, env: str, as_json: bool) -> None:
    """Which release each server points at, read from the servers."""
    environment = await get_environment(project, env)
    engine = await make_engine(state)
    found = await read_releases(environment, engine.box, engine.settings.connect)
    rows = [asdict(r) for r in found]
    emit_rows(rows, ["server", "live", "releases", "error"], as_json=as_json)
