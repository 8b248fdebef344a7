"""Telling the project's channel about scheduled releases, and about interrupted tasks.

The scheduler calls `reminded`, `started`, `missed` and `digest` in the one process that won
each claim; the end of a scheduled task and any interruption come from the engine's events,
which are published only by the process that stored the change. So every announcement is
posted once, however many bot processes run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot import texts
from bot.blocks.announcements import announcement, interrupted
from bot.blocks.digest import digest_message
from core.engine.events import TaskChanged
from core.engine.views import seconds_between
from core.scheduling.digest import build_digest
from core.status import Decision, TaskStatus
from core.store.models import Approval, DeployTask, Environment, Project

if TYPE_CHECKING:
    from bot.hoist_bot import HoistBot

_log = logging.getLogger(__name__)

SEND_ATTEMPTS = 4
ENDS = frozenset(
    {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.REJECTED}
)


class Announcer:
    """Posts announcements; implements the scheduler's listener."""

    def __init__(self, bot: HoistBot) -> None:
        self.bot = bot
        self.idle = asyncio.Event()
        self.idle.set()
        self._watcher: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._subscription = self.bot.engine.bus.subscribe(max_log_backlog=0)
        self._watcher = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        await self.flush()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        self._subscription.close()

    async def flush(self) -> None:
        """Every event seen so far has been announced (tests, shutdown)."""
        while self._subscription.pending or not self.idle.is_set():
            self.idle.clear()
            await self.idle.wait()

    async def _watch(self) -> None:
        while True:
            event = self._subscription.get_nowait()
            if event is None:
                self.idle.set()
                event = await self._subscription.get()
            self.idle.clear()
            if not isinstance(event, TaskChanged):
                continue
            try:
                if event.status == TaskStatus.INTERRUPTED:
                    await self._interrupted(event.task_id)
                elif event.status in ENDS:
                    await self._ended(event.task_id)
                elif event.status == TaskStatus.PAUSED:
                    await self.bot.scheduler.watch(event.task_id)  # a timed pause's end
            except Exception:
                _log.exception("cannot announce the change of task #%s", event.task_id)

    async def scheduled(self, task: DeployTask) -> None:
        env = await _env(task)
        needed = 0
        if task.status == TaskStatus.PENDING_APPROVAL:
            needed = env.approvals_required - await _approved_count(task)
        assert task.scheduled_at is not None
        text = texts.announce_scheduled(_name(task, env), task.scheduled_at, task.requester, needed)
        await self._post(env, task, announcement(text))

    async def moved(self, task: DeployTask) -> None:
        env = await _env(task)
        assert task.scheduled_at is not None
        text = texts.announce_moved(_name(task, env), task.scheduled_at)
        await self._post(env, task, announcement(text))

    async def reminded(self, task: DeployTask) -> None:
        env = await _env(task)
        assert task.scheduled_at is not None
        await task.fetch_related("environment__project")
        subjects, more, live = await self.bot.changes.fresh(task)
        approvers = [
            a.reviewer
            for a in await Approval.filter(task=task, decision=Decision.APPROVE).order_by("id")
        ]
        needed = 0
        if task.status == TaskStatus.PENDING_APPROVAL:
            needed = max(0, env.approvals_required - len(approvers))
        message = announcement(
            texts.announce_reminder(_name(task, env), task.scheduled_at, task.ref, task.commit_sha),
            texts.reminder_changes(list(subjects), more, live),
            texts.reminder_reviewers(list(env.reviewers), approvers, needed),
        )
        await self._post(env, task, message)

    async def started(self, task: DeployTask) -> None:
        env = await _env(task)
        await self._post(
            env, task, announcement(texts.announce_started(_name(task, env), task.scheduled_at))
        )
        self.bot.notifier.touch(task.id)
        self.bot.run(task.id)

    async def missed(self, task: DeployTask) -> None:
        env = await _env(task)
        name = _name(task, env)
        await self._post(
            env, task, announcement(texts.announce_missed(name, task.scheduled_at, task.reason))
        )
        self.bot.notifier.touch(task.id)
        await self._tell(task.requester, texts.missed_dm(name, task.reason))

    async def resumed(self, task: DeployTask) -> None:
        self.bot.run(task.id)  # first: a slow Slack must not hold up the rollout
        self.bot.notifier.touch(task.id)
        env = await _env(task)
        await self._post(env, task, announcement(texts.announce_resumed(_name(task, env))))

    async def pause_waiting(self, task: DeployTask) -> None:
        env = await _env(task)
        assert task.paused_at is not None
        text = texts.announce_pause_waiting(_name(task, env), task.paused_at, task.reason)
        await self._post(env, task, announcement(text))

    async def digest(self, project: Project, since: datetime, until: datetime) -> None:
        digest = await build_digest(project.id, since, until)
        if not project.channel:
            _log.warning("project %s has a digest schedule but no channel", project.slug)
            return
        await self._send(project.channel, digest_message(digest))

    async def _ended(self, task_id: int) -> None:
        task = await DeployTask.get(id=task_id)
        if task.scheduled_at is None:
            return
        env = await _env(task)
        seconds = seconds_between(task.started_at, task.finished_at)
        text = texts.announce_ended(_name(task, env), str(task.status), seconds, task.reason)
        await self._post(env, task, announcement(text))

    async def _interrupted(self, task_id: int) -> None:
        task = await DeployTask.get(id=task_id)
        env = await _env(task)
        text = texts.announce_interrupted(_name(task, env), task.reason)
        await self._post(env, task, interrupted(text, task.id))

    async def _post(self, env: Environment, task: DeployTask, message: dict[str, Any]) -> None:
        channel = env.project.channel or task.slack_channel or task.requester
        await self._send(channel, message)

    async def _send(self, channel: str, message: dict[str, Any]) -> None:
        """Post, trying again over a short outage or a rate limit: the action was claimed
        in the database, so no other process will post it."""
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                await self.bot.client.chat_postMessage(channel=channel, **message)
                return
            except SlackApiError as error:
                if error.response.status_code != 429 and error.response.status_code < 500:
                    _log.warning("cannot post an announcement in %s: %s", channel, error)
                    return
                wait = float(error.response.headers.get("Retry-After", attempt))
            except (aiohttp.ClientError, OSError, TimeoutError) as error:
                _log.warning("posting an announcement in %s failed: %s", channel, error)
                wait = float(attempt)
            if attempt < SEND_ATTEMPTS:
                await asyncio.sleep(min(wait, 30.0))
        _log.warning("gave up posting an announcement in %s after %s tries", channel, SEND_ATTEMPTS)

    async def _tell(self, user: str, text: str) -> None:
        try:
            await self.bot.tell(user, text)
        except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as error:
            _log.warning("cannot tell %s: %s", user, error)


async def _env(task: DeployTask) -> Environment:
    return await Environment.get(id=task.environment_id).prefetch_related("project")


async def _approved_count(task: DeployTask) -> int:
    return await Approval.filter(task=task, decision=Decision.APPROVE).count()


def _name(task: DeployTask, env: Environment) -> str:
    return texts.release_name(f"{env.project.slug}/{env.name}", task.version, task.id)
