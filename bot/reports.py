"""Plain-text answers to `/deploy status`, `history` and `schedule`."""

from __future__ import annotations

from datetime import datetime

from bot import texts
from bot.command_parser import Status
from bot.hoist_bot import HoistBot
from core.engine.requests import live_version
from core.errors import HoistError, NotFoundError
from core.inventory.lookup import get_environment, get_project
from core.locks import current_lock
from core.scheduling.cron import digest_trigger, next_fire
from core.status import TaskStatus
from core.store.models import DeployTask, Environment, Project
from core.weblinks import LINK_TTL

ACTIVE = [
    TaskStatus.PENDING_APPROVAL,
    TaskStatus.SCHEDULED,
    TaskStatus.QUEUED,
    TaskStatus.RUNNING,
    TaskStatus.CANARY,
    TaskStatus.PAUSED,
]


async def status_text(bot: HoistBot, command: Status, user: str = "") -> str:
    """One task in detail (with its release page, linked for `user`), or the live release and
    open tasks of environments."""
    if command.task_id is not None:
        return await _one_task(bot, command.task_id, user)
    envs = await _environments(command.project, command.env)
    lines = []
    for env in envs:
        live = await live_version(env)
        open_tasks = await DeployTask.filter(environment=env, status__in=ACTIVE).order_by("id")
        held = await current_lock(env, bot.now())
        if held is not None:
            lines.append(texts.env_locked(held.holder, held.reason, held.until))
        lines.append(
            texts.env_status(
                env.project.slug,
                env.name,
                live,
                [(t.id, t.version, str(t.status)) for t in open_tasks],
            )
        )
    return "\n".join(lines) or texts.NOTHING_YET


async def history_text(project: str | None, env: str | None) -> str:
    envs = await _environments(project, env)
    tasks = (
        await DeployTask.filter(environment__in=envs)
        .order_by("-id")
        .limit(15)
        .prefetch_related("environment__project")
    )
    return (
        "\n".join(
            texts.history_line(
                t.id,
                f"{t.environment.project.slug}/{t.environment.name}",
                t.version,
                str(t.kind),
                str(t.status),
                t.requester,
            )
            for t in tasks
        )
        or texts.NOTHING_YET
    )


async def schedule_text(project: str | None, now: datetime) -> str:
    """Scheduled releases (soonest first), then when each project's digest is posted."""
    query = DeployTask.filter(
        status__in=[TaskStatus.SCHEDULED, TaskStatus.PENDING_APPROVAL],
        scheduled_at__not_isnull=True,
    ).order_by("scheduled_at")
    projects = Project.filter(digest_cron__not_isnull=True, enabled=True).order_by("slug")
    if project:
        chosen = await get_project(project)
        query = query.filter(environment__project=chosen)
        projects = projects.filter(id=chosen.id)
    tasks = await query.prefetch_related("environment__project")
    releases = [
        texts.scheduled_line(
            t.id,
            f"{t.environment.project.slug}/{t.environment.name}",
            t.version,
            t.scheduled_at,
            str(t.status),
        )
        for t in tasks
    ] or [texts.NOTHING_SCHEDULED]
    digests = []
    for p in await projects:
        assert p.digest_cron is not None
        trigger = digest_trigger(p.digest_cron, p.digest_timezone)
        digests.append(
            texts.digest_line(p.slug, p.digest_cron, p.digest_timezone, next_fire(trigger, now))
        )
    return "\n".join(releases + [""] + (digests or [texts.NO_DIGESTS]))


async def _one_task(bot: HoistBot, task_id: int, user: str) -> str:
    task = await DeployTask.get_or_none(id=task_id).prefetch_related("environment__project")
    if task is None:
        raise NotFoundError(f"unknown task #{task_id}")
    env = task.environment
    line = texts.task_status(
        task.id,
        f"{env.project.slug}/{env.name}",
        task.version,
        str(task.status),
        bot.message_link(task),
    )
    if not user:
        return line
    try:
        page = bot.page_link(user, task.id)
    except HoistError:  # this bot serves no page: the status alone
        return line
    return f"{line}\n{texts.status_page(page, bot.now() + LINK_TTL)}"


async def _environments(project: str | None, env: str | None) -> list[Environment]:
    if project and env:
        return [await get_environment(project, env)]
    query = Environment.filter(enabled=True).prefetch_related("project").order_by("id")
    if project:
        query = query.filter(project=await get_project(project))
    return list(await query)
