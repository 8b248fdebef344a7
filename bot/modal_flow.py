"""The `/deploy` modal: opening it, redrawing it as choices are made, live pickers, submitting.

Choices that change the form (project, environment, mode, a template) dispatch an action; the
listener reads the view's state and redraws with `views.update`. Branches, tags and commits
load live from the project's mirror through options requests (no network fetch on that path,
so they answer well inside Slack's 3 seconds).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.blocks import actions as ids
from bot.blocks.data import (
    CommitOption,
    DeployFormView,
    PlanOption,
    RefOption,
    TemplateOption,
)
from bot.blocks.modal import deploy_modal, options_for_commits, options_for_refs, ref_from_value
from bot.hoist_bot import HoistBot
from core.engine.requests import DeployRequest, HookChoice
from core.errors import HoistError, UsageError
from core.inventory.lookup import get_environment
from core.inventory.specs import TemplateSpec
from core.permissions import Action, allowed
from core.scheduling.times import check_start
from core.status import DeployMode, HookStage
from core.store.models import Environment, HookTemplate, Project

Values = dict[str, dict[str, dict[str, Any]]]


async def open_deploy_modal(bot: HoistBot, user: str, trigger_id: str) -> None:
    form = DeployFormView(projects=tuple(await deployable_projects(bot, user)))
    await bot.client.views_open(trigger_id=trigger_id, view=deploy_modal(form))


async def deployable_projects(bot: HoistBot, user: str) -> list[str]:
    slugs = []
    for project in await Project.filter(enabled=True).order_by("slug"):
        if await _deployable_envs(bot, user, project.slug):
            slugs.append(project.slug)
    return slugs


async def _deployable_envs(bot: HoistBot, user: str, slug: str) -> list[Environment]:
    envs = await Environment.filter(project__slug=slug, enabled=True).order_by("name")
    return [e for e in envs if allowed(await bot.rules(e), Action.DEPLOY, user)]


async def form_from_view(bot: HoistBot, user: str, view: dict[str, Any]) -> DeployFormView:
    """The form's state as the user left it (a picked project or environment may be gone)."""
    values: Values = view["state"]["values"]
    project = _selected(values, ids.PROJECT)
    projects = tuple(await deployable_projects(bot, user))
    if project not in projects:
        return DeployFormView(projects=projects)
    envs = await _deployable_envs(bot, user, project)
    env_name = _selected(values, ids.ENV)
    env = next((e for e in envs if e.name == env_name), None)
    if env is None:
        return DeployFormView(projects, project, tuple(e.name for e in envs))
    servers = [s.name for s in await env.servers.filter(enabled=True).order_by("name")]
    templates = tuple(
        TemplateOption(t.id, t.title, str(t.stage), t.script)
        for t in await HookTemplate.all().order_by("title")
    )
    chosen = {
        s: int(v)
        for s in ids.HOOK_STAGES
        if (v := _selected(values, ids.HOOK_TEMPLATE[s])) and v != ids.TYPED
    }
    plans = dict(env.rollout_plans or {})
    return DeployFormView(
        projects,
        project,
        tuple(e.name for e in envs),
        env.name,
        tuple(servers),
        _selected(values, ids.MODE) or "full",
        templates,
        chosen,
        env.templates_only,
        plans=tuple(PlanOption(name, plans[name]) for name in sorted(plans)),
        plan_default=env.rollout_default if env.rollout_default in plans else None,
        plan=_selected(values, ids.PLAN),
    )


def register(app: AsyncApp, bot: HoistBot) -> None:
    async def redraw(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        view = body["view"]
        form = await form_from_view(bot, body["user"]["id"], view)
        if body["actions"][0]["action_id"] == ids.PROJECT and form.project:
            bot.refresh_mirror(form.project)  # the pickers then show today's branches
        await client.views_update(
            view_id=view["id"], hash=view.get("hash"), view=deploy_modal(form)
        )

    async def refs(ack: Any, body: dict[str, Any]) -> None:
        try:
            project = await _project_for(bot, body)
            branches = [
                RefOption(r.name, "branch", r.sha) for r in await bot.engine.git.branches(project)
            ]
            tags = [RefOption(r.name, "tag", r.sha) for r in await bot.engine.git.tags(project)]
        except HoistError:
            await ack(options=[])  # no project picked, or its mirror is being fetched
            return
        await ack(**options_for_refs(branches, tags, body.get("value", "")))

    async def commits(ack: Any, body: dict[str, Any]) -> None:
        view = body["view"]
        ref = _selected(view["state"]["values"], ids.REF)
        try:
            found = (
                await bot.engine.git.commits(await _project_for(bot, body), ref_from_value(ref)[1])
                if ref
                else []
            )
        except HoistError:
            found = []
        options = [CommitOption(c.sha, c.subject, c.author) for c in found]
        await ack(**options_for_commits(options, body.get("value", "")))

    async def submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        try:
            request, saves = await request_from_view(bot, user, view)
        except FieldError as error:
            await ack(response_action="errors", errors={error.block_id: str(error)})
            return
        except HoistError as error:  # e.g. the environment was removed meanwhile
            await ack(response_action="errors", errors={ids.ENV: str(error)})
            return
        await ack()
        await bot.create_from_modal(request, saves)

    for action_id in (ids.PROJECT, ids.ENV, ids.MODE, *ids.HOOK_TEMPLATE.values()):
        app.action(action_id)(redraw)
    app.options(ids.REF)(refs)
    app.options(ids.COMMIT)(commits)
    app.view(ids.DEPLOY_CALLBACK)(submit)


class FieldError(HoistError):
    """A field of the modal is wrong; shown on that field."""

    def __init__(self, block_id: str, message: str) -> None:
        super().__init__(message)
        self.block_id = block_id


async def request_from_view(
    bot: HoistBot, user: str, view: dict[str, Any]
) -> tuple[DeployRequest, list[TemplateSpec]]:
    """Check the submitted form (cheaply: no git): a deploy request and templates to save."""
    values: Values = view["state"]["values"]
    project, env_name = _selected(values, ids.PROJECT), _selected(values, ids.ENV)
    if not project:
        raise FieldError(ids.PROJECT, "pick a project")
    if not env_name:
        raise FieldError(ids.ENV, "pick an environment")
    env = await get_environment(project, env_name)
    if not allowed(await bot.rules(env), Action.DEPLOY, user):
        raise FieldError(ids.ENV, "you are not allowed to deploy here")
    ref = _selected(values, ids.REF)
    commit = _selected(values, ids.COMMIT)
    if not ref and not commit:
        raise FieldError(ids.REF, "pick a branch or tag")
    mode = _selected(values, ids.MODE) or "full"
    canary = tuple(
        o["value"] for o in _element(values, ids.CANARY_SERVERS).get("selected_options") or []
    )
    if mode == "canary" and not canary:
        raise FieldError(ids.CANARY_SERVERS, "pick the canary servers")
    hooks, saves = await _hooks(values, env)
    plan = _plan(values, env) if mode == "full" else None
    request = DeployRequest(
        project=project,
        env=env_name,
        requester=user,
        ref=commit or ref_from_value(ref or "")[1],
        mode=DeployMode(mode),
        canary=canary,
        hooks=hooks,
        note=_text(values, ids.DESCRIPTION),
        via="slack",
        scheduled_at=_start_at(values, bot.now()),
        plan=plan,
    )
    return request, saves


def _plan(values: Values, env: Environment) -> str | None:
    """The rollout plan picked (None: no plan, or the environment's default)."""
    picked = _selected(values, ids.PLAN)
    if not picked or picked == ids.NO_PLAN:
        return None
    if picked not in (env.rollout_plans or {}):
        raise FieldError(ids.PLAN, f"`{picked}` is no longer a rollout plan of this environment")
    return picked


async def _hooks(
    values: Values, env: Environment
) -> tuple[dict[HookStage, HookChoice], list[TemplateSpec]]:
    hooks: dict[HookStage, HookChoice] = {}
    saves: list[TemplateSpec] = []
    for stage in ids.HOOK_STAGES:
        picked = _selected(values, ids.HOOK_TEMPLATE[stage])
        script = _text(values, ids.HOOK_SCRIPT[stage])
        if picked and picked != ids.TYPED:
            template = await HookTemplate.get_or_none(id=int(picked))
            if template is None:
                raise FieldError(ids.HOOK_TEMPLATE[stage], "that template is gone")
            hooks[HookStage(stage)] = HookChoice(template=template.title)
        elif script.strip():
            if env.templates_only:
                raise FieldError(ids.HOOK_TEMPLATE[stage], "this environment runs only templates")
            hooks[HookStage(stage)] = HookChoice(script=script)
            if _saving(values, stage):
                saves.append(await _template_to_save(values, stage, script))
    return hooks, saves


async def _template_to_save(values: Values, stage: str, script: str) -> TemplateSpec:
    title = _text(values, ids.HOOK_TITLE[stage]).strip()
    if not title:
        raise FieldError(ids.HOOK_TITLE[stage], "a template needs a title")
    if await HookTemplate.exists(title=title):
        raise FieldError(ids.HOOK_TITLE[stage], f"a template called `{title}` already exists")
    return TemplateSpec(title, HookStage(stage), script)


def _saving(values: Values, stage: str) -> bool:
    chosen = _element(values, ids.HOOK_SAVE[stage]).get("selected_options") or []
    return any(o.get("value") == ids.SAVE_AS_TEMPLATE for o in chosen)


def _start_at(values: Values, now: datetime) -> datetime | None:
    stamp = _element(values, ids.START_AT).get("selected_date_time")
    if not stamp:
        return None
    try:
        return check_start(datetime.fromtimestamp(int(stamp), UTC), now)
    except UsageError as error:
        raise FieldError(ids.START_AT, str(error)) from None


def _element(values: Values, block_id: str) -> dict[str, Any]:
    return values.get(block_id, {}).get(block_id, {})


def _selected(values: Values, block_id: str) -> str | None:
    element = _element(values, block_id)
    chosen = element.get("selected_option") or {}
    value = chosen.get("value")
    return str(value) if value else None


def _text(values: Values, block_id: str) -> str:
    return str(_element(values, block_id).get("value") or "")


async def _project_for(bot: HoistBot, body: dict[str, Any]) -> str:
    """The project the pickers list, if the user may deploy some environment of it."""
    project = _project_of(body["view"])
    if not await _deployable_envs(bot, body["user"]["id"], project):
        raise HoistError(f"you may not deploy `{project}`")
    return project


def _project_of(view: dict[str, Any]) -> str:
    metadata = json.loads(view.get("private_metadata") or "{}")
    project = _selected(view["state"]["values"], ids.PROJECT) or metadata.get("project")
    if not project:
        raise HoistError("pick a project first")
    return str(project)
