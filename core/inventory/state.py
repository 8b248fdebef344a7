"""Stored rows in the shape of their specs, and writing a spec into a row."""

from __future__ import annotations

from typing import Any

from core.errors import ConflictError, UsageError
from core.inventory.env_settings import check_settings
from core.inventory.lookup import get_key, get_project, get_server
from core.inventory.names import (
    check_absolute,
    check_name,
    check_positive,
    check_slug,
    is_group,
)
from core.inventory.specs import EnvSpec, KeySpec, ProjectSpec, ServerSpec, TemplateSpec
from core.keys import parse_host_key_line
from core.scheduling.cron import check_timezone, digest_trigger
from core.secrets import SecretBox
from core.store.models import Environment, HookTemplate, Project, Server, SSHKey


async def key_state(key: SSHKey) -> dict[str, Any]:
    return {"user": key.user, "fingerprint": key.fingerprint}


async def server_state(server: Server) -> dict[str, Any]:
    await server.fetch_related("key", "jump")
    jump = server.jump
    return {
        "address": server.address,
        "key": server.key.name,
        "port": server.port,
        "host_key": server.host_key,
        "labels": list(server.labels),
        "owner": server.owner,
        "team": server.team,
        "jump": jump.name if jump else None,
    }


async def project_state(project: Project) -> dict[str, Any]:
    await project.fetch_related("git_key")
    git_key = project.git_key
    return {
        "repo_url": project.repo_url,
        "default_branch": project.default_branch,
        "keep_releases": project.keep_releases,
        "channel": project.channel,
        "git_key": git_key.name if git_key else None,
        "digest_cron": project.digest_cron,
        "digest_timezone": project.digest_timezone,
    }


async def env_state(env: Environment) -> dict[str, Any]:
    servers = await env.servers.all().order_by("name").values_list("name", flat=True)
    return {
        "deploy_path": env.deploy_path,
        "codes_root": env.codes_root,
        "servers": list(servers),
        "deployers": list(env.deployers),
        "reviewers": list(env.reviewers),
        "approvals_required": env.approvals_required,
        "batch_size": env.batch_size,
        "templates_only": env.templates_only,
        "health_check": env.health_check,
        "rollout_plans": dict(env.rollout_plans or {}),
        "rollout_default": env.rollout_default,
        "max_failed": env.max_failed,
        "auto_rollback": env.auto_rollback,
        "pause_reminder": env.pause_reminder,
    }


async def template_state(template: HookTemplate) -> dict[str, Any]:
    return {"stage": str(template.stage), "script": template.script}


def validate_server(spec: ServerSpec) -> None:
    check_name("server", spec.name)
    if not spec.address or any(c.isspace() for c in spec.address):
        raise UsageError(f"server address `{spec.address}` is not valid")
    if not 0 < spec.port < 65536:
        raise UsageError(f"port {spec.port} of server `{spec.name}` is not between 1 and 65535")
    if spec.host_key:
        parse_host_key_line(spec.host_key)
    if spec.jump == spec.name:
        raise UsageError(f"server `{spec.name}` cannot be its own jump host")


async def write_key(key: SSHKey | None, spec: KeySpec, box: SecretBox) -> SSHKey:
    check_name("key", spec.name)
    if not spec.user:
        raise UsageError(f"key `{spec.name}` needs a login user (--user)")
    values: dict[str, Any] = {
        "user": spec.user,
        "private_key_encrypted": box.seal(spec.material.private),
        "public_key": spec.material.public,
        "fingerprint": spec.material.fingerprint,
    }
    if key is None:
        return await SSHKey.create(name=spec.name, **values)
    await key.update_from_dict(values).save()
    return key


async def write_server(server: Server | None, spec: ServerSpec) -> Server:
    validate_server(spec)
    key = await get_key(spec.key)
    jump = await get_server(spec.jump) if spec.jump else None
    values = spec.desired() | {"key": key, "jump": jump}
    if server is None:
        return await Server.create(name=spec.name, **values)
    await server.update_from_dict(values).save()
    return server


async def write_project(project: Project | None, spec: ProjectSpec) -> Project:
    check_slug(spec.slug)
    if not spec.repo_url.strip():
        raise UsageError(f"project `{spec.slug}` needs a git repository URL (--repo)")
    check_positive("releases to keep (--keep)", spec.keep_releases, minimum=2)
    check_digest(spec)
    git_key = await get_key(spec.git_key) if spec.git_key else None
    values = spec.desired() | {"git_key": git_key}
    if project is None:
        return await Project.create(slug=spec.slug, **values)
    await project.update_from_dict(values).save()
    return project


async def write_env(env: Environment | None, spec: EnvSpec) -> Environment:
    check_name("environment", spec.name)
    check_absolute("deploy path", spec.deploy_path)
    check_absolute("codes root", spec.codes_root)
    check_positive("required approvals", spec.approvals_required)
    check_positive("batch size", spec.batch_size)
    groups = any(is_group(name) for name in spec.reviewers)
    if spec.approvals_required > len(spec.reviewers) and spec.reviewers and not groups:
        raise UsageError(
            f"{spec.label} requires {spec.approvals_required} approvals "
            f"but names only {len(spec.reviewers)} reviewers"
        )
    check_settings(spec)
    servers = [await _usable_server(name, spec.label) for name in spec.servers]
    values = spec.desired()
    del values["servers"]
    if env is None:
        project = await get_project(spec.project)
        env = await Environment.create(project=project, name=spec.name, **values)
    else:
        await env.update_from_dict(values).save()
        await env.servers.clear()
    if servers:
        await env.servers.add(*servers)
    return env


def check_digest(spec: ProjectSpec) -> None:
    """The project's digest schedule and time zone are ones a trigger can be built from."""
    cron = spec.desired()["digest_cron"]
    check_timezone(spec.digest_timezone)
    if cron is not None:
        digest_trigger(cron, spec.digest_timezone)


async def _usable_server(name: str, label: str) -> Server:
    server = await get_server(name)
    if not server.enabled:
        raise ConflictError(f"server `{name}` is disabled and cannot join {label}")
    return server


async def write_template(
    template: HookTemplate | None, spec: TemplateSpec, created_by: str
) -> HookTemplate:
    if not spec.title.strip():
        raise UsageError("a template needs a title")
    if not spec.script.strip():
        raise UsageError(f"template `{spec.title}` has an empty script")
    if template is None:
        return await HookTemplate.create(
            title=spec.title, stage=spec.stage, script=spec.script, created_by=created_by
        )
    await template.update_from_dict({"stage": spec.stage, "script": spec.script}).save()
    return template
