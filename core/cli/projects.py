"""`hoist project …` and `hoist env …`"""

from __future__ import annotations

import json
from typing import Any

import click

from core.cli.output import emit_rows, json_option
from core.cli.runtime import CliState, with_database
from core.errors import UsageError
from core.health import spec as health_spec
from core.inventory import lookup, rows, service
from core.inventory.env_settings import (
    SettingsEdit,
    parse_reminder,
    parse_seconds,
    reminder_text,
)
from core.inventory.names import split_list
from core.inventory.specs import EnvSpec, ProjectSpec

DIGEST_HELP = (
    "When to post the release digest to the project's channel, as a crontab line "
    '(minute hour day month weekday), e.g. "0 17 * * 1-5" for weekdays at 17:00.'
)
TZ_HELP = "IANA time zone the digest schedule is read in, e.g. Europe/Berlin."


@click.group("project")
def project_group() -> None:
    """Projects: a git repository and where its releases are announced."""


@project_group.command("add")
@click.argument("slug")
@click.option("--repo", required=True, help="Git repository URL.")
@click.option("--branch", default="main", show_default=True, help="Default branch.")
@click.option("--keep", type=int, default=5, show_default=True, help="Releases to keep.")
@click.option("--channel", help="Slack channel for its releases.")
@click.option("--git-key", help="Inventory key for a private repository over SSH.")
@click.option("--digest", "digest_cron", metavar="CRON", help=DIGEST_HELP)
@click.option("--digest-tz", "digest_timezone", default="UTC", show_default=True, help=TZ_HELP)
@with_database
async def project_add(
    state: CliState,
    slug: str,
    repo: str,
    branch: str,
    keep: int,
    channel: str | None,
    git_key: str | None,
    digest_cron: str | None,
    digest_timezone: str,
) -> None:
    """Add a project."""
    spec = ProjectSpec(slug, repo, branch, keep, channel, git_key, digest_cron, digest_timezone)
    await service.add_project(state.actor, spec)
    click.echo(f"added project {slug}")


@project_group.command("set")
@click.argument("slug")
@click.option("--repo", "repo_url")
@click.option("--branch", "default_branch")
@click.option("--keep", "keep_releases", type=int)
@click.option("--channel")
@click.option("--git-key")
@click.option("--digest", "digest_cron", metavar="CRON", help=DIGEST_HELP)
@click.option("--no-digest", is_flag=True, help="Post no release digest.")
@click.option("--digest-tz", "digest_timezone", metavar="ZONE", help=TZ_HELP)
@with_database
async def project_set(state: CliState, slug: str, no_digest: bool, **changes: Any) -> None:
    """Change a project."""
    if no_digest:
        if changes["digest_cron"] is not None:
            raise UsageError("give --digest CRON or --no-digest, not both")
        changes["digest_cron"] = ""  # empty: no digest
    _report(f"project {slug}", await service.update_project(state.actor, slug, **changes))


@project_group.command("list")
@json_option
@with_database
async def project_list(state: CliState, as_json: bool) -> None:
    """List projects."""
    columns = ["name", "repo_url", "default_branch", "keep_releases", "channel", "digest", "status"]
    emit_rows(await rows.project_rows(), columns, as_json=as_json)


@project_group.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@with_database
async def project_show(state: CliState, slug: str, as_json: bool) -> None:
    """Show one project, with its digest schedule and when it next fires."""
    row = await rows.project_row(await lookup.get_project(slug))
    if as_json:
        click.echo(json.dumps(row, indent=2, default=str))
        return
    width = max(len(key) for key in row)
    for key, value in row.items():
        click.echo(f"{key.ljust(width)}  {'-' if value is None else value}")


@project_group.command("remove")
@click.argument("slug")
@with_database
async def project_remove(state: CliState, slug: str) -> None:
    """Remove a project without environments (one with history is disabled instead)."""
    click.echo(f"project {slug}: {await service.remove_project(state.actor, slug)}")


@click.group("env")
def env_group() -> None:
    """Environments of a project: servers, paths, who may deploy and approve."""


HEALTH_OPTIONS = [
    click.option(
        "--health-url",
        metavar="URL",
        help="After each server's post-deploy hook, GET this URL; {server} is the server's "
        "address, {name} its name. Empty: no URL.",
    ),
    click.option("--health-status", type=int, metavar="N", help="Healthy status (default 200)."),
    click.option("--health-body", metavar="TEXT", help="Text the answer must contain."),
    click.option(
        "--health-command",
        metavar="CMD",
        help="Run on the server after its post-deploy hook; exit 0 is healthy. Empty: none.",
    ),
    click.option("--health-timeout", metavar="S", help="Seconds per attempt (default 5)."),
    click.option(
        "--health-passes", type=int, metavar="N", help="Passes in a row needed (default 1)."
    ),
    click.option("--health-interval", metavar="S", help="Seconds between attempts (default 2)."),
    click.option(
        "--health-wait",
        metavar="S",
        help="At most this long to become healthy: seconds or e.g. 2m (default 60).",
    ),
]

ROLLOUT_OPTIONS = [
    click.option(
        "--rollout",
        "rollouts",
        multiple=True,
        metavar="NAME=PLAN",
        help='A rollout plan, e.g. careful="1 wait, 10%, 50% 10m, 100%" (repeatable).',
    ),
    click.option(
        "--rollout-default",
        metavar="NAME",
        help='The plan deploys follow unless they choose one ("" for none).',
    ),
    click.option(
        "--max-failed",
        type=int,
        metavar="N",
        help="Failed servers a rollout step may have before the task pauses (default 0).",
    ),
    click.option(
        "--auto-rollback/--no-auto-rollback",
        default=None,
        help="On a failed step, put the task's switched servers back (default: no).",
    ),
    click.option(
        "--pause-reminder",
        metavar="DURATION",
        help="Remind the channel of a pause waiting for a person after e.g. 30m (0: never).",
    ),
]

HEALTH_KEYS = {f"health_{key}": key for key in health_spec.KEYS}
SECONDS = {"timeout", "interval", "wait"}


def _env_options(fn: Any) -> Any:
    options = [
        click.option("--codes-root", help="Where releases are unpacked (default /data/codes)."),
        click.option("--servers", help="Comma-separated server names."),
        click.option("--approvals", "approvals_required", type=int, help="Approvals needed."),
        click.option("--reviewers", help="Comma-separated Slack users or user groups."),
        click.option("--deployers", help="Who may deploy (default: anyone)."),
        click.option("--batch", "batch_size", type=int, help="Servers per batch (0: all)."),
        click.option(
            "--templates-only/--any-hooks",
            default=None,
            help="Allow only saved hook templates (default when approvals are required).",
        ),
        *HEALTH_OPTIONS,
        *ROLLOUT_OPTIONS,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@env_group.command("add")
@click.argument("project")
@click.argument("name")
@click.option("--path", "deploy_path", required=True, help="Deploy path, e.g. /data/prod/.")
@_env_options
@with_database
async def env_add(state: CliState, project: str, name: str, **options: Any) -> None:
    """Add an environment."""
    edit = _settings_edit(options)
    spec = EnvSpec.from_state(project, name, edit.apply(_env_values(options)))
    await service.add_env(state.actor, spec)
    click.echo(f"added environment {spec.label}")


@env_group.command("set")
@click.argument("project")
@click.argument("name")
@click.option("--path", "deploy_path")
@_env_options
@click.option("--no-health", is_flag=True, help="Remove the health check.")
@click.option(
    "--no-rollout", "drop_rollouts", multiple=True, metavar="NAME", help="Remove a rollout plan."
)
@with_database
async def env_set(state: CliState, project: str, name: str, **options: Any) -> None:
    """Change an environment."""
    edit = _settings_edit(options)
    changed = await service.update_env(state.actor, project, name, edit, **_env_values(options))
    _report(f"environment {project}/{name}", changed)


def _env_values(options: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in options.items() if v is not None}
    for key in ("servers", "reviewers", "deployers"):
        if key in values:
            values[key] = tuple(split_list(values[key]))
    if "pause_reminder" in values:
        values["pause_reminder"] = parse_reminder(values["pause_reminder"])
    return values


def _settings_edit(options: dict[str, Any]) -> SettingsEdit:
    """Take the health and rollout plan options out of `options`, as one edit."""
    health: dict[str, Any] = {}
    for option, key in HEALTH_KEYS.items():
        value = options.pop(option, None)
        if value is not None:
            health[key] = parse_seconds(value, f"--health-{key}") if key in SECONDS else value
    plans: dict[str, str] = {}
    for text in options.pop("rollouts", ()):
        plan_name, equals, plan = text.partition("=")
        if not equals or not plan_name.strip():
            raise UsageError(f'--rollout `{text}` must be NAME=PLAN, e.g. careful="1, 10%, 100%"')
        if plan_name.strip() in plans:
            raise UsageError(f"rollout plan `{plan_name.strip()}` is given twice")
        plans[plan_name.strip()] = plan.strip()
    return SettingsEdit(
        health=health,
        no_health=options.pop("no_health", False),
        plans=plans,
        drop_plans=tuple(options.pop("drop_rollouts", ())),
    )


@env_group.command("list")
@click.argument("project", required=False)
@json_option
@with_database
async def env_list(state: CliState, project: str | None, as_json: bool) -> None:
    """List environments."""
    columns = [
        "project",
        "name",
        "deploy_path",
        "servers",
        "approvals_required",
        "reviewers",
        "health_check",
        "rollout_plans",
    ]
    found = await rows.env_rows(project)
    emit_rows(found if as_json else [_brief(row) for row in found], columns, as_json=as_json)


@env_group.command("show")
@click.argument("project")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@with_database
async def env_show(state: CliState, project: str, name: str, as_json: bool) -> None:
    """Show one environment, with its health check and rollout plans."""
    row = await rows.env_row(await lookup.get_environment(project, name))
    if as_json:
        click.echo(json.dumps(row, indent=2, default=str))
        return
    width = max(len(key) for key in row)
    for key, value in _readable(row).items():
        lines = value.splitlines() or [""]
        click.echo(f"{key.ljust(width)}  {lines[0]}")
        for line in lines[1:]:
            click.echo(f"{''.ljust(width)}  {line}")


def _brief(row: dict[str, Any]) -> dict[str, Any]:
    """A listing row for the table: the health check and plans in a word or two."""
    check = health_spec.HealthCheck.from_stored(row["health_check"])
    parts = []
    if check and check.http_url:
        parts.append("http")
    if check and check.command:
        parts.append("command")
    default = row["rollout_default"]
    plans = [f"{n} (default)" if n == default else n for n in sorted(row["rollout_plans"])]
    return row | {"health_check": "+".join(parts) or None, "rollout_plans": plans}


def _readable(row: dict[str, Any]) -> dict[str, str]:
    """`hoist env show`'s lines: lists joined, the check and plans spelled out."""
    shown: dict[str, str] = {}
    for key, value in row.items():
        if value is None or value == [] or value == {}:
            shown[key] = "-"
        elif isinstance(value, list):
            shown[key] = ", ".join(str(v) for v in value)
        elif isinstance(value, bool):
            shown[key] = "yes" if value else "no"
        else:
            shown[key] = str(value)
    check = health_spec.HealthCheck.from_stored(row["health_check"])
    if check:
        shown["health_check"] = check.describe()
    plans = row["rollout_plans"]
    if plans:
        shown["rollout_plans"] = "\n".join(f"{n}: {plans[n]}" for n in sorted(plans))
    shown["pause_reminder"] = reminder_text(row["pause_reminder"])
    return shown


@env_group.command("remove")
@click.argument("project")
@click.argument("name")
@with_database
async def env_remove(state: CliState, project: str, name: str) -> None:
    """Remove an environment (one with history is disabled instead)."""
    outcome = await service.remove_env(state.actor, project, name)
    click.echo(f"environment {project}/{name}: {outcome}")


def _report(what: str, changed: dict[str, Any]) -> None:
    if not changed:
        click.echo(f"{what}: no changes")
        return
    for field, (old, new) in changed.items():
        click.echo(f"{what}: {field} {old!r} → {new!r}")
