"""Inventory listings as rows of JSON-safe values with stable field names (`--json`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.errors import UsageError
from core.inventory import state
from core.scheduling import cron
from core.store.db import redact_url
from core.store.models import Environment, HookTemplate, Project, Server, SSHKey

Row = dict[str, Any]


async def key_rows() -> list[Row]:
    return [
        {
            "id": key.id,
            "name": key.name,
            "user": key.user,
            "fingerprint": key.fingerprint,
            "public_key": key.public_key,
            "status": "enabled" if key.enabled else "disabled",
        }
        for key in await SSHKey.all().order_by("name")
    ]


async def server_rows() -> list[Row]:
    rows = []
    for server in await Server.all().order_by("name"):
        values = await state.server_state(server)
        rows.append(
            {"id": server.id, "name": server.name}
            | values
            | {"status": "enabled" if server.enabled else "disabled"}
        )
    return rows


async def project_rows(now: datetime | None = None) -> list[Row]:
    """Every project; `now` dates the next digest (default: the current time)."""
    return [await project_row(p, now) for p in await Project.all().order_by("slug")]


async def project_row(project: Project, now: datetime | None = None) -> Row:
    values = await state.project_state(project)
    values["repo_url"] = redact_url(values["repo_url"])
    return (
        {"id": project.id, "name": project.slug}
        | values
        | _digest_fields(project, now or datetime.now(UTC))
        | {"status": "enabled" if project.enabled else "disabled"}
    )


def _digest_fields(project: Project, now: datetime) -> Row:
    """The digest schedule as listings show it, and when it next fires."""
    if not project.digest_cron:
        return {"digest": None, "digest_next": None}
    described = cron.describe(project.digest_cron, project.digest_timezone)
    try:
        trigger = cron.digest_trigger(project.digest_cron, project.digest_timezone)
    except UsageError:  # stored before a rule tightened, or this host lacks the zone
        return {"digest": f"{described} (invalid)", "digest_next": None}
    upcoming = cron.next_fire(trigger, now)
    return {"digest": described, "digest_next": upcoming.isoformat() if upcoming else None}


async def env_rows(project: str | None = None) -> list[Row]:
    query = Environment.all().prefetch_related("project").order_by("project__slug", "name")
    if project:
        query = query.filter(project__slug=project)
    return [await env_row(env) for env in await query]


async def env_row(env: Environment) -> Row:
    """One environment (its `project` fetched): every setting, as stored."""
    return (
        {"id": env.id, "project": env.project.slug, "name": env.name}
        | await state.env_state(env)
        | {"status": "enabled" if env.enabled else "disabled"}
    )


async def template_rows() -> list[Row]:
    return [
        {
            "id": t.id,
            "name": t.title,
            "stage": str(t.stage),
            "script": t.script,
            "created_by": t.created_by,
        }
        for t in await HookTemplate.all().order_by("title")
    ]
