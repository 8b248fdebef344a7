"""Finding inventory rows by the names people use, with helpful errors."""

from __future__ import annotations

from typing import Any

from tortoise.queryset import QuerySet

from core.inventory.names import not_found
from core.store.models import Environment, HookTemplate, Project, Server, SSHKey


async def get_key(name: str) -> SSHKey:
    key = await SSHKey.get_or_none(name=name)
    if key is None:
        raise not_found("key", name, await names_of(SSHKey.all(), "name"))
    return key


async def get_server(name: str) -> Server:
    server = await Server.get_or_none(name=name)
    if server is None:
        raise not_found("server", name, await names_of(Server.all(), "name"))
    return server


async def get_project(slug: str) -> Project:
    project = await Project.get_or_none(slug=slug)
    if project is None:
        raise not_found("project", slug, await names_of(Project.all(), "slug"))
    return project


async def get_environment(project_slug: str, name: str) -> Environment:
    project = await get_project(project_slug)
    env = await Environment.get_or_none(project=project, name=name).prefetch_related("project")
    if env is None:
        names = await names_of(Environment.filter(project=project), "name")
        raise not_found(f"environment of project `{project_slug}`", name, names)
    return env


async def get_template(title: str) -> HookTemplate:
    template = await HookTemplate.get_or_none(title=title)
    if template is None:
        titles = await names_of(HookTemplate.all(), "title")
        raise not_found("template", title, titles)
    return template


async def names_of(query: QuerySet[Any], field: str) -> list[str]:
    """The values of one text column of `query`."""
    return [str(value) for value in await query.values_list(field, flat=True)]
