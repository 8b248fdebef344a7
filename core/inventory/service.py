"""Inventory operations: each validates, changes the database in one transaction, and audits."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from core.audit import Actor, record
from core.errors import ConflictError
from core.inventory import lookup, state
from core.inventory.env_settings import SettingsEdit
from core.inventory.specs import EnvSpec, KeySpec, ProjectSpec, ServerSpec, TemplateSpec, diff
from core.secrets import SecretBox
from core.store.models import Environment, HookTemplate, Project, Server, SSHKey, StageRun


async def add_key(actor: Actor, spec: KeySpec, box: SecretBox) -> SSHKey:
    async with in_transaction():
        if await SSHKey.exists(name=spec.name):
            raise ConflictError(f"key `{spec.name}` already exists")
        key = await state.write_key(None, spec, box)
        await record(actor, "key.add", f"key:{spec.name}", fingerprint=key.fingerprint)
    return key


async def remove_key(actor: Actor, name: str) -> None:
    async with in_transaction():
        key = await lookup.get_key(name)
        users = await lookup.names_of(Server.filter(key=key), "name")
        users += await lookup.names_of(Project.filter(git_key=key), "slug")
        if users:
            raise ConflictError(
                f"key `{name}` is used by {_names(users)}: give them another key first, "
                f"or disable it with `hoist key disable {name}`"
            )
        await key.delete()
        await record(actor, "key.remove", f"key:{name}")


async def set_key_enabled(actor: Actor, name: str, enabled: bool) -> None:
    async with in_transaction():
        key = await lookup.get_key(name)
        key.enabled = enabled
        await key.save(update_fields=["enabled"])
        await record(actor, "key.enable" if enabled else "key.disable", f"key:{name}")


async def add_server(actor: Actor, spec: ServerSpec) -> Server:
    async with in_transaction():
        if await Server.exists(name=spec.name):
            raise ConflictError(f"server `{spec.name}` already exists")
        server = await state.write_server(None, spec)
        await record(actor, "server.add", f"server:{spec.name}", **spec.desired())
    return server


async def check_new_server(spec: ServerSpec) -> None:
    """Refuse early (before a host-key scan) what `add_server` would refuse."""
    if await Server.exists(name=spec.name):
        raise ConflictError(f"server `{spec.name}` already exists")
    state.validate_server(spec)
    await lookup.get_key(spec.key)


async def remove_server(actor: Actor, name: str) -> str:
    """Erase a server, or disable it when past tasks ran on it. Returns what was done."""
    async with in_transaction():
        server = await lookup.get_server(name)
        envs = [
            f"{e.project.slug}/{e.name}"
            for e in await server.environments.all().prefetch_related("project")
        ]
        if envs:
            raise ConflictError(
                f"server `{name}` is in {_names(envs)}: take it out with "
                "`hoist env set PROJECT ENV --servers …` first"
            )
        if await Server.exists(jump=server):
            raise ConflictError(f"server `{name}` is the jump host of other servers")
        if await StageRun.exists(server=server):
            server.enabled = False
            await server.save(update_fields=["enabled"])
            await record(actor, "server.disable", f"server:{name}", reason="has history")
            return "disabled (it has deploy history, which is kept)"
        await server.delete()
        await record(actor, "server.remove", f"server:{name}")
        return "removed"


async def set_server_enabled(actor: Actor, name: str, enabled: bool) -> None:
    async with in_transaction():
        server = await lookup.get_server(name)
        server.enabled = enabled
        await server.save(update_fields=["enabled"])
        await record(actor, "server.enable" if enabled else "server.disable", f"server:{name}")


async def add_project(actor: Actor, spec: ProjectSpec) -> Project:
    async with in_transaction():
        if await Project.exists(slug=spec.slug):
            raise ConflictError(f"project `{spec.slug}` already exists")
        project = await state.write_project(None, spec)
        await record(actor, "project.add", f"project:{spec.slug}", **spec.desired())
    return project


async def update_project(actor: Actor, slug: str, **changes: Any) -> dict[str, Any]:
    """Change some fields of a project; returns the fields that changed as (old, new)."""
    async with in_transaction():
        project = await lookup.get_project(slug)
        current = await state.project_state(project)
        spec = ProjectSpec(slug=slug, **(current | _given(changes)))
        changed = diff(current, spec.desired())
        if changed:
            await state.write_project(project, spec)
            await record(actor, "project.set", f"project:{slug}", **_news(changed))
    return changed


async def remove_project(actor: Actor, slug: str) -> str:
    async with in_transaction():
        project = await lookup.get_project(slug)
        envs = await lookup.names_of(Environment.filter(project=project, enabled=True), "name")
        if envs:
            raise ConflictError(
                f"project `{slug}` still has environments {_names(envs)}: remove them first"
            )
        if await Environment.exists(project=project):
            project.enabled = False
            await project.save(update_fields=["enabled"])
            await record(actor, "project.disable", f"project:{slug}", reason="has history")
            return "disabled (it has deploy history, which is kept)"
        await project.delete()
        await record(actor, "project.remove", f"project:{slug}")
        return "removed"


async def add_env(actor: Actor, spec: EnvSpec) -> Environment:
    async with in_transaction():
        project = await lookup.get_project(spec.project)
        if await Environment.exists(project=project, name=spec.name):
            raise ConflictError(f"environment `{spec.label}` already exists")
        env = await state.write_env(None, spec)
        await record(actor, "env.add", f"env:{spec.label}", **spec.desired())
    return env


async def update_env(
    actor: Actor, project: str, name: str, edit: SettingsEdit | None = None, **changes: Any
) -> dict[str, Any]:
    """Change some fields of an environment (None: unchanged), and its health check and plans
    by `edit`; returns the fields that changed as (old, new)."""
    async with in_transaction():
        env = await lookup.get_environment(project, name)
        current = await state.env_state(env)
        given = _given(changes)
        values = current | given
        if "approvals_required" in given and "templates_only" not in given:
            values["templates_only"] = None  # back to the default that follows approvals
        if edit is not None:
            values = edit.apply(values)
        spec = EnvSpec.from_state(project, name, values)
        changed = diff(current, spec.desired())
        if changed:
            await state.write_env(env, spec)
            await record(actor, "env.set", f"env:{spec.label}", **_news(changed))
    return changed


async def remove_env(actor: Actor, project: str, name: str) -> str:
    async with in_transaction():
        env = await lookup.get_environment(project, name)
        label = f"{project}/{name}"
        if await env.tasks.all().exists():
            env.enabled = False
            await env.save(update_fields=["enabled"])
            await record(actor, "env.disable", f"env:{label}", reason="has history")
            return "disabled (it has deploy history, which is kept)"
        await env.servers.clear()
        await env.delete()
        await record(actor, "env.remove", f"env:{label}")
        return "removed"


async def add_template(actor: Actor, spec: TemplateSpec) -> HookTemplate:
    async with in_transaction():
        if await HookTemplate.exists(title=spec.title):
            raise ConflictError(f"template `{spec.title}` already exists")
        template = await state.write_template(None, spec, actor.name)
        await record(actor, "template.add", f"template:{spec.title}", stage=str(spec.stage))
    return template


async def remove_template(actor: Actor, title: str) -> None:
    async with in_transaction():
        template = await lookup.get_template(title)
        await template.delete()
        await record(actor, "template.remove", f"template:{title}")


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _given(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in changes.items() if v is not None}


def _news(changed: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    return {k: new for k, (_, new) in changed.items()}
