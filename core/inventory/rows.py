"""Inventory listings as rows of JSON-safe values with stable field names (`--json`)."""

from __future__ import annotations

from typing import Any

from core.inventory import state
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


async def project_rows() -> list[Row]:
    rows = []
    for project in await Project.all().order_by("slug"):
        values = await state.project_state(project)
        values["repo_url"] = redact_url(values["repo_url"])
        rows.append(
            {"id": project.id, "name": project.slug}
            | values
            | {"status": "enabled" if project.enabled else "disabled"}
        )
    return rows


async def env_rows(project: str | None = None) -> list[Row]:
    query = Environment.all().prefetch_related("project").order_by("project__slug", "name")
    if project:
        query = query.filter(project__slug=project)
    rows = []
    for env in await query:
        values = await state.env_state(env)
        rows.append(
            {"id": env.id, "project": env.project.slug, "name": env.name}
            | values
            | {"status": "enabled" if env.enabled else "disabled"}
        )
    return rows


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
