"""`hoist deploy`, `promote`, `retry`, `continue`, `abort`, `cancel`, `rollback`: running tasks
from the terminal."""

from __future__ import annotations

import sys
from collections.abc import Awaitable
from datetime import datetime, tzinfo
from pathlib import Path

import click
import tzlocal

from core.cli.live import follow
from core.cli.runtime import CliState, with_database
from core.engine.engine import Engine
from core.engine.recorder import utcnow
from core.engine.requests import DeployRequest, HookChoice
from core.engine.settings import EngineSettings
from core.errors import ConflictError, NotFoundError, UsageError
from core.inventory.names import split_list
from core.scheduling.scheduler import reschedule
from core.scheduling.times import parse_start
from core.status import DeployMode, HookStage, NodeStatus, TaskStatus
from core.store.models import DeployTask, StageRun

GOOD_ENDS = (TaskStatus.SUCCEEDED, TaskStatus.CANARY)


async def make_engine(state: CliState) -> Engine:
    """An engine for this CLI process, with Hoist's own secret files hidden from hooks."""
    engine = Engine(EngineSettings.for_hoist(state.settings), await state.box())
    state.engines.append(engine)
    await engine.reap()  # a task whose runner died must not hold its environment forever
    return engine


async def drive(engine: Engine, task: DeployTask, run: Awaitable[TaskStatus]) -> None:
    """Follow a task to rest in the terminal; exit 0 only if it came to a good rest (a
    rollout paused as planned is one; a pause because servers failed is not)."""
    click.echo(f"task #{task.id} {task.version} ({task.commit_sha[:12]})")
    status = await follow(engine.bus, task, run, tty=sys.stdout.isatty())
    await task.refresh_from_db()
    click.echo(f"task #{task.id} {status}")
    if status == TaskStatus.PAUSED:
        failed = await _any_failed(task.id)
        for line in pause_lines(task, failed=failed):
            click.echo(line)
        if failed:
            sys.exit(1)
        return
    if status not in GOOD_ENDS:
        sys.exit(1)


def pause_lines(task: DeployTask, *, failed: bool) -> list[str]:
    """Why a task is paused, until when, and what to type next."""
    lines = [f"  {task.reason}"] if task.reason else []
    if task.resume_at is not None:
        lines.append(f"  it continues by itself at {task.resume_at:%Y-%m-%d %H:%M:%S} UTC")
    retry = f"`hoist retry {task.id}` runs the failed servers again; " if failed else ""
    lines.append(
        f"  next: `hoist continue {task.id}` runs step {task.step + 1} of "
        f"{len(task.plan_steps)}; {retry}`hoist abort {task.id} --rollback` stops it and puts "
        "the servers it switched back"
    )
    return lines


async def _any_failed(task_id: int) -> bool:
    return await StageRun.filter(task_id=task_id, status=NodeStatus.FAILED).exists()


def parse_hooks(values: tuple[str, ...]) -> dict[HookStage, HookChoice]:
    """`STAGE=FILE` or `STAGE=@TEMPLATE`, at most one per stage."""
    hooks: dict[HookStage, HookChoice] = {}
    stages = ", ".join(s.value for s in HookStage)
    for value in values:
        stage_name, sep, source = value.partition("=")
        if not sep or not source:
            raise UsageError(f"--hook `{value}` must be STAGE=FILE or STAGE=@TEMPLATE")
        if stage_name not in HookStage.__members__.values():
            raise UsageError(f"--hook stage `{stage_name}` is not one of {stages}")
        stage = HookStage(stage_name)
        if stage in hooks:
            raise UsageError(f"--hook {stage} is given twice")
        hooks[stage] = _choice(source)
    return hooks


def _choice(source: str) -> HookChoice:
    if source.startswith("@"):
        return HookChoice(template=source[1:])
    try:
        return HookChoice(script=Path(source).read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read hook file {source}") from exc


@click.command("deploy")
@click.argument("project")
@click.argument("env")
@click.option("--ref", help="Branch, tag or commit (default: the project's branch).")
@click.option("--canary", help="Canary servers, comma-separated: deploy them first.")
@click.option("--note", default="", help="Why this release.")
@click.option(
    "--at",
    "at",
    metavar="TIME",
    help="Start then, not now (17:30, tomorrow 9:00, 2026-12-01T17:30+01:00, +30m; local time "
    "unless an offset is given). `hoist serve` starts it.",
)
@click.option("--hook", "hooks", multiple=True, metavar="STAGE=FILE|STAGE=@TEMPLATE")
@click.option("--skip-approval", is_flag=True, help="Admins: deploy without approvals (audited).")
@click.option(
    "--plan",
    metavar="NAME",
    help="A rollout plan of the environment (default: its default plan, if any).",
)
@with_database
async def deploy_command(
    state: CliState,
    project: str,
    env: str,
    ref: str | None,
    canary: str | None,
    note: str,
    at: str | None,
    hooks: tuple[str, ...],
    skip_approval: bool,
    plan: str | None,
) -> None:
    """Release a commit to an environment's servers, showing each stage live."""
    canaries = tuple(split_list(canary))
    start = parse_start(at, utcnow(), local_zone()) if at else None
    request = DeployRequest(
        project=project,
        env=env,
        requester=state.actor.name,
        ref=ref,
        mode=DeployMode.CANARY if canaries else DeployMode.FULL,
        canary=canaries,
        hooks=parse_hooks(hooks),
        note=note,
        via="cli",
        scheduled_at=start,
        skip_approval=skip_approval,
        plan=plan,
    )
    engine = await make_engine(state)
    task = await engine.deploy(request, state.actor)
    if task.scheduled_at is not None:
        click.echo(scheduled_note(task.id, task.version, task.scheduled_at))
        return
    await drive(engine, task, engine.run(task.id))


def local_zone() -> tzinfo:
    """This machine's time zone by name (TZ or /etc/localtime), so dates after a daylight
    saving change get their own offset, not today's."""
    return tzlocal.get_localzone()


def scheduled_note(task_id: int, version: str, at: datetime) -> str:
    local = at.astimezone(local_zone())
    return (
        f"task #{task_id} ({version}) is scheduled for {at:%Y-%m-%d %H:%M} UTC "
        f"({local:%Y-%m-%d %H:%M %Z} here); the running `hoist serve` starts it then"
    )


@click.command("reschedule")
@click.argument("task_id", type=int)
@click.argument("when", metavar="TIME")
@with_database
async def reschedule_command(state: CliState, task_id: int, when: str) -> None:
    """Move a scheduled release that has not started to another TIME."""
    engine = await make_engine(state)
    at = parse_start(when, utcnow(), local_zone())
    task = await reschedule(task_id, at, state.actor, engine.recorder)
    click.echo(scheduled_note(task.id, task.version, at))


@click.command("retry")
@click.argument("task_id", type=int)
@with_database
async def retry_command(state: CliState, task_id: int) -> None:
    """Run again the stages of a failed task that did not succeed."""
    engine = await make_engine(state)
    task = await engine.retry(task_id, state.actor)
    await drive(engine, task, engine.run(task.id))


@click.command("promote")
@click.argument("task_id", type=int)
@with_database
async def promote_command(state: CliState, task_id: int) -> None:
    """Deploy a waiting canary to the rest of its servers."""
    engine = await make_engine(state)
    task = await DeployTask.get_or_none(id=task_id)
    if task is None:
        raise UsageError(f"unknown task #{task_id}")
    await drive(engine, task, engine.promote(task_id, state.actor))


@click.command("continue")
@click.argument("task_id", type=int)
@with_database
async def continue_command(state: CliState, task_id: int) -> None:
    """Run the next step of a paused rollout, showing it live."""
    engine = await make_engine(state)
    task = await engine.continue_(task_id, state.actor)
    await drive(engine, task, engine.run(task.id))


@click.command("abort")
@click.argument("task_id", type=int)
@click.option("--rollback", is_flag=True, help="Point the servers it switched back.")
@with_database
async def abort_command(state: CliState, task_id: int, rollback: bool) -> None:
    """Stop a paused rollout; with --rollback, its switched servers go back to the release
    each had. Only for paused tasks: `hoist cancel` stops the others."""
    engine = await make_engine(state)
    task = await DeployTask.get_or_none(id=task_id)
    if task is None:
        raise NotFoundError(f"unknown task #{task_id}")
    if task.status != TaskStatus.PAUSED:
        raise ConflictError(
            f"task #{task_id} is {task.status}, not paused: abort is for a paused rollout; "
            f"use `hoist cancel {task_id}`{' --rollback' if rollback else ''} to stop it"
        )
    report = await engine.cancel(task_id, state.actor, rollback=rollback)
    switched = ", ".join(report.switched) or "none"
    click.echo(f"task #{task_id} aborted; servers it had switched: {switched}")
    if rollback and report.switched and not report.rollbacks:
        click.echo("nothing to roll back to: those servers had no release Hoist made")
    good = True
    for rollback_id in report.rollbacks:
        done = await DeployTask.get(id=rollback_id)
        click.echo(f"rollback task #{rollback_id} to {done.version}: {done.status}")
        good = good and done.status == TaskStatus.SUCCEEDED
    if not good:
        sys.exit(1)


@click.command("cancel")
@click.argument("task_id", type=int)
@click.option("--rollback", is_flag=True, help="Also point switched servers back.")
@with_database
async def cancel_command(state: CliState, task_id: int, rollback: bool) -> None:
    """Stop a task; servers keep the release they point at (unless --rollback)."""
    engine = await make_engine(state)
    report = await engine.cancel(task_id, state.actor, rollback=rollback)
    switched = ", ".join(report.switched) or "none"
    click.echo(f"task #{task_id} cancelled; servers it had switched: {switched}")
    for rollback_id in report.rollbacks:
        done = await DeployTask.get(id=rollback_id)
        click.echo(f"rollback task #{rollback_id} to {done.version}: {done.status}")


@click.command("rollback")
@click.argument("project")
@click.argument("env")
@click.option("--to", "to", metavar="VERSION", help="Release to go back to (default: previous).")
@with_database
async def rollback_command(state: CliState, project: str, env: str, to: str | None) -> None:
    """Point every server back at an earlier release that is still there."""
    engine = await make_engine(state)
    task = await engine.rollback(project, env, state.actor, to=to)
    await drive(engine, task, engine.run(task.id))
