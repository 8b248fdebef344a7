"""Creating deploy and rollback tasks: every check happens here, before anything runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.audit import Actor, record
from core.engine import rollout
from core.engine.plan import plan_nodes, rollback_nodes, version_name
from core.engine.recorder import Clock, utcnow
from core.errors import ConflictError, UsageError
from core.inventory.lookup import get_environment, get_template
from core.inventory.names import not_found
from core.secrets import SecretBox
from core.source.git import Commit, GitAuth, GitSource
from core.status import DeployMode, HookStage, TaskKind, TaskStatus
from core.store.models import DeployTask, Environment, Project, Server, StageRun


@dataclass(frozen=True)
class HookChoice:
    """A hook as a person chose it: a script typed in, or a saved template by title."""

    script: str = ""
    template: str | None = None


@dataclass(frozen=True)
class DeployRequest:
    project: str
    env: str
    requester: str
    ref: str | None = None
    mode: DeployMode = DeployMode.FULL
    canary: tuple[str, ...] = ()
    hooks: Mapping[HookStage, HookChoice] = field(default_factory=dict)
    note: str = ""
    via: str = "cli"
    scheduled_at: datetime | None = None
    skip_approval: bool = False
    plan: str | None = None
    """A rollout plan of the environment, by name (None: its default plan, if any)."""


async def env_servers(env: Environment) -> list[Server]:
    """The environment's enabled servers, by name."""
    return [s for s in await env.servers.all().order_by("name") if s.enabled]


def git_auth(project: Project, box: SecretBox) -> GitAuth | None:
    """Credentials for the project's repository, decrypted into memory."""
    key = project.git_key
    if key is None:
        return None
    return GitAuth(ssh_private_key=box.open(key.private_key_encrypted, what=f"key `{key.name}`"))


async def resolve_ref(project: Project, ref: str, git: GitSource, box: SecretBox) -> Commit:
    """Fetch the project's mirror and resolve `ref` to one commit (never re-resolved later)."""
    await project.fetch_related("git_key")
    await git.ensure_mirror(project.slug, project.repo_url, git_auth(project, box))
    return await git.resolve(project.slug, ref)


async def create_deploy(
    request: DeployRequest,
    actor: Actor,
    *,
    git: GitSource,
    box: SecretBox,
    clock: Clock = utcnow,
) -> DeployTask:
    """Check a request, resolve its ref, and store the task with all its nodes."""
    env = await _deployable_env(request.project, request.env)
    servers = await env_servers(env)
    if not servers:
        raise ConflictError(f"{request.project}/{request.env} has no enabled servers")
    canary = _check_canary(request, [s.name for s in servers])
    plan_name, steps = _plan(request, env, [s.name for s in servers])
    hooks, sources = await _hooks(request, env)
    status = _initial_status(request, env, actor)
    commit = await resolve_ref(env.project, request.ref or env.project.default_branch, git, box)
    values: dict[str, Any] = dict(
        kind=TaskKind.DEPLOY,
        ref=request.ref or env.project.default_branch,
        commit_sha=commit.sha,
        commit_subject=commit.subject[:500],
        mode=request.mode,
        canary_servers=canary,
        hook_sources=sources,
        note=request.note,
        requester=request.requester,
        via=request.via,
        status=status,
        scheduled_at=request.scheduled_at,
        plan_name=plan_name,
        plan_steps=[step.stored() for step in steps],
        **hooks,
    )
    task = await _store(env, values, [s.name for s in servers], clock, TaskKind.DEPLOY)
    await record(
        actor,
        "task.create",
        f"task:{task.id}",
        env=f"{request.project}/{request.env}",
        ref=task.ref,
        commit=task.commit_sha,
        status=str(status),
    )
    if request.skip_approval and env.approvals_required:
        await record(actor, "task.skip_approval", f"task:{task.id}")
    return task


async def _deployable_env(project: str, name: str) -> Environment:
    env = await get_environment(project, name)
    await env.fetch_related("project")
    if not env.enabled or not env.project.enabled:
        raise ConflictError(f"{project}/{name} is disabled")
    return env


def _plan(
    request: DeployRequest, env: Environment, servers: list[str]
) -> tuple[str, list[rollout.Step]]:
    """The rollout plan this release follows: the one asked for, or the environment's default."""
    plans: dict[str, str] = dict(env.rollout_plans or {})
    name = request.plan or env.rollout_default
    if name is None:
        return "", []
    if request.mode == DeployMode.CANARY:
        if request.plan:
            raise UsageError("a canary deploy has its own order: choose a plan or canary servers")
        return "", []
    if name not in plans:
        raise not_found(f"rollout plan of {request.project}/{request.env}", name, sorted(plans))
    return name, rollout.resolve(rollout.parse_plan(plans[name]), servers)


def _check_canary(request: DeployRequest, names: list[str]) -> list[str]:
    if request.mode == DeployMode.FULL:
        if request.canary:
            raise UsageError("canary servers were given for a full deploy: use canary mode")
        return []
    if not request.canary:
        raise UsageError("a canary deploy needs at least one canary server (--canary s1,s2)")
    for name in request.canary:
        if name not in names:
            raise not_found(f"server of {request.project}/{request.env}", name, names)
    return list(dict.fromkeys(request.canary))


async def _hooks(request: DeployRequest, env: Environment) -> tuple[dict[str, str], dict[str, str]]:
    scripts: dict[str, str] = {}
    sources: dict[str, str] = {}
    for stage in HookStage:
        choice = request.hooks.get(stage, HookChoice())
        if choice.template:
            template = await get_template(choice.template)
            if template.stage != stage:
                raise UsageError(
                    f"template `{template.title}` is a {template.stage} hook, not {stage}"
                )
            scripts[f"hook_{stage}"] = template.script
            sources[str(stage)] = f"template:{template.title}"
        elif choice.script.strip():
            if env.templates_only:
                raise ConflictError(
                    f"{request.project}/{request.env} runs only saved hook templates: "
                    f"pick a template for the {stage} hook"
                )
            scripts[f"hook_{stage}"] = choice.script
            sources[str(stage)] = "typed"
    return scripts, sources


def _initial_status(request: DeployRequest, env: Environment, actor: Actor) -> TaskStatus:
    if env.approvals_required and not request.skip_approval:
        if actor.via == "cli":
            raise ConflictError(
                f"{request.project}/{request.env} requires {env.approvals_required} approvals: "
                "deploy it from Slack, or pass --skip-approval as an admin (it is audited)"
            )
        return TaskStatus.PENDING_APPROVAL
    return TaskStatus.SCHEDULED if request.scheduled_at else TaskStatus.QUEUED


async def _store(
    env: Environment,
    values: dict[str, Any],
    servers: list[str],
    clock: Clock,
    kind: TaskKind,
) -> DeployTask:
    """Create the task and its nodes; the task number is retried if another process won it."""
    by_name = {s.name: s for s in await env.servers.all()}
    fixed_version = values.pop("version", None)
    for _ in range(5):
        try:
            async with in_transaction():
                number = await DeployTask.filter(environment=env).count() + 1
                version = fixed_version or version_name(env.project.slug, number, clock())
                task = await DeployTask.create(
                    environment=env, number=number, version=version, **values
                )
                health = env.health_check is not None
                nodes = (
                    plan_nodes(servers, health=health)
                    if kind == TaskKind.DEPLOY
                    else rollback_nodes(servers, health=health)
                )
                await StageRun.bulk_create(
                    [
                        StageRun(
                            task=task,
                            stage=n.stage,
                            server=by_name.get(n.server),
                            server_name=n.server,
                        )
                        for n in nodes
                    ]
                )
                return task
        except IntegrityError:
            continue
    raise ConflictError(f"could not number a new task of {env.project.slug}/{env.name}")


async def live_version(env: Environment) -> str | None:
    """The release the environment last switched to successfully."""
    last = (
        await DeployTask.filter(environment=env, status=TaskStatus.SUCCEEDED)
        .order_by("-id")
        .first()
    )
    return last.version if last else None


async def rollback_target(env: Environment, to: str | None) -> DeployTask:
    """The good release to go back to: `to`, or the one before the live one."""
    good = await DeployTask.filter(
        environment=env, kind=TaskKind.DEPLOY, status=TaskStatus.SUCCEEDED
    ).order_by("-id")
    if to is not None:
        for task in good:
            if task.version == to:
                return task
        raise not_found(
            f"good release of {env.project.slug}/{env.name}", to, [t.version for t in good]
        )
    live = await live_version(env)
    older = [t for t in good if t.version != live]
    if live is not None:
        live_ids = [t.id for t in good if t.version == live]
        older = [t for t in older if not live_ids or t.id < live_ids[0]]
    if not older:
        raise ConflictError(
            f"{env.project.slug}/{env.name} has no earlier good release to roll back to"
        )
    return older[0]


async def create_rollback(
    env: Environment,
    target: DeployTask,
    actor: Actor,
    *,
    servers: list[str] | None = None,
    clock: Clock = utcnow,
) -> DeployTask:
    """A task that points servers back at `target`'s release and runs its post-deploy hook."""
    await env.fetch_related("project")
    names = servers or [s.name for s in await env_servers(env)]
    if not names:
        raise ConflictError(f"{env.project.slug}/{env.name} has no enabled servers")
    values: dict[str, Any] = dict(
        kind=TaskKind.ROLLBACK,
        version=target.version,
        ref=target.ref,
        commit_sha=target.commit_sha,
        commit_subject=target.commit_subject,
        hook_post_deploy=target.hook_post_deploy,
        hook_sources=target.hook_sources,
        requester=actor.name,
        via=actor.via,
        status=TaskStatus.QUEUED,
        rollback_to=target.version,
        package_sha256=target.package_sha256,
        package_size=target.package_size,
        package_files=target.package_files,
    )
    task = await _store(env, values, names, clock, TaskKind.ROLLBACK)
    await record(
        actor,
        "task.rollback",
        f"task:{task.id}",
        env=f"{env.project.slug}/{env.name}",
        to=target.version,
        servers=names,
    )
    return task
