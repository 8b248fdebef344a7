"""The App Home tab: published when a person opens it, and again when something on it changes.

Opening the tab publishes at once. After that, whoever opened it within `RECENT_SECONDS` gets a
fresh view when a task they could see changes (they requested it, or review or deploy to its
environment): task ids are gathered for `debounce` seconds, so a release that moves through
four statuses costs each viewer one `views.publish`, not four. The facts every viewer shares
(environments, their rules, live versions, pending and scheduled tasks) are read once per
refresh in a `Board`, then cut per viewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.blocks.home import RECENT_SHOWN, HomeData, HomeEnv, HomeTask, home_view
from core.engine.events import Subscription, TaskChanged
from core.engine.requests import live_version
from core.errors import HoistError
from core.locks import current_lock
from core.permissions import Action, Rules, allowed
from core.status import Decision, TaskStatus
from core.store.models import Approval, DeployTask, Environment

if TYPE_CHECKING:
    from bot.hoist_bot import HoistBot

_log = logging.getLogger(__name__)

RECENT_SECONDS = 30 * 60.0
"""How long after opening the tab a person's Home follows changes (Slack says nothing when
they leave it; opening it again publishes afresh anyway)."""
NOBODY = Rules(frozenset(), frozenset(), anyone_deploys=False)
UPCOMING = (TaskStatus.SCHEDULED, TaskStatus.PENDING_APPROVAL)
SLACK_ERRORS = (SlackApiError, aiohttp.ClientError, OSError, TimeoutError)

Sleep = Callable[[float], Awaitable[None]]


def concerns(rules: Rules, requester: str, viewer: str) -> bool:
    """Could a change to a task (requested by `requester`, in an environment with `rules`)
    change what `viewer` sees on their Home?"""
    return viewer == requester or viewer in rules.reviewers or allowed(rules, Action.DEPLOY, viewer)


@dataclass(frozen=True)
class Review:
    task: HomeTask
    rules: Rules
    decided: frozenset[str]
    """Who approved or rejected it already."""


@dataclass(frozen=True)
class Board:
    """What every viewer's Home is cut from, read once per refresh."""

    environments: tuple[tuple[HomeEnv, Rules], ...]
    pending: tuple[Review, ...]
    upcoming: tuple[tuple[HomeTask, Rules], ...]

    def for_viewer(self, user: str, recent: tuple[HomeTask, ...], older: int) -> HomeData:
        """The part of the board `user` may act on or look at."""
        return HomeData(
            environments=tuple(
                env for env, rules in self.environments if allowed(rules, Action.DEPLOY, user)
            ),
            to_review=tuple(
                r.task
                for r in self.pending
                if allowed(r.rules, Action.APPROVE, user, requester=r.task.requester)
                and user not in r.decided
            ),
            upcoming=tuple(t for t, rules in self.upcoming if concerns(rules, t.requester, user)),
            recent=recent,
            older=older,
        )


class HomeTab:
    """Publishes each person's Home: on opening, and (debounced) when their tasks change."""

    def __init__(
        self,
        bot: HoistBot,
        *,
        debounce: float = 1.0,
        recent: float = RECENT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.debounce = debounce
        self.recent = recent
        self.clock = clock
        self.sleep = sleep
        self._viewers: dict[str, float] = {}
        self._gates: dict[str, asyncio.Lock] = {}
        self._changed: set[int] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._listener: asyncio.Task[None] | None = None
        self._stopped = False
        self.idle = asyncio.Event()
        """Set while no refresh is waiting or running."""
        self.idle.set()

    def start(self) -> None:
        """Follow the engine's task changes."""
        self._subscription = self.bot.engine.bus.subscribe(max_log_backlog=0)
        self._listener = asyncio.create_task(self._listen(self._subscription))

    async def stop(self) -> None:
        """Stop following; a refresh still waiting is dropped (the next opening redraws)."""
        self._stopped = True
        if self._subscription is not None:
            self._subscription.close()
        for job in (self._listener, self._flusher):
            if job is not None:
                job.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await job
        self.idle.set()

    async def opened(self, user: str) -> None:
        """`user` opened the tab: publish their Home now and follow changes for a while."""
        self._viewers[user] = self.clock()
        await self._publish_logged(user)

    def changed(self, task_id: int) -> None:
        """Something about the task changed that the event bus may not carry (an approval
        that does not yet move it, a new task): refresh the Homes it concerns, soon."""
        if self._stopped:
            return
        self._changed.add(task_id)
        if self._flusher is None:
            self.idle.clear()
            self._flusher = asyncio.create_task(self._flush())

    async def publish(self, user: str, board: Board | None = None) -> None:
        """Read `user`'s Home and publish it (one at a time per user, so the last read wins)."""
        async with self._gates.setdefault(user, asyncio.Lock()):
            if board is None:
                board = await self.board()
            data = board.for_viewer(user, *await _recent(self.bot, user))
            view = home_view(data, self.bot.now())
            await self.bot.client.views_publish(user_id=user, view=view)

    async def board(self) -> Board:
        """The shared facts, read now."""
        rules = _RulesMemo(self.bot)
        envs = await Environment.filter(enabled=True, project__enabled=True).prefetch_related(
            "project"
        )
        envs.sort(key=lambda e: (e.project.slug, e.name))
        return Board(
            environments=tuple([(await self._env(env), await rules.of(env)) for env in envs]),
            pending=await _pending(self.bot, rules),
            upcoming=await _upcoming(self.bot, rules),
        )

    def viewers(self) -> list[str]:
        """Who opened the tab within `recent` seconds (forgetting the others)."""
        since = self.clock() - self.recent
        for user in [u for u, at in self._viewers.items() if at < since]:
            del self._viewers[user]
            gate = self._gates.get(user)
            if gate is not None and not gate.locked():
                del self._gates[user]
        return list(self._viewers)

    async def _env(self, env: Environment) -> HomeEnv:
        lock = await current_lock(env, self.bot.now())
        return HomeEnv(
            env.project.slug,
            env.name,
            await live_version(env),
            env.approvals_required,
            lock.holder if lock else None,
            lock.until if lock else None,
        )

    async def _listen(self, subscription: Subscription) -> None:
        async for event in subscription:
            if isinstance(event, TaskChanged):
                self.changed(event.task_id)

    async def _flush(self) -> None:
        try:
            while self._changed:
                await self.sleep(self.debounce)
                task_ids, self._changed = self._changed, set()
                await self._refresh(task_ids)
        finally:
            self._flusher = None
            self.idle.set()

    async def _refresh(self, task_ids: Iterable[int]) -> None:
        viewers = self.viewers()
        if not viewers:
            return
        try:
            audience = await self._audience(task_ids, viewers)
            board = await self.board() if audience else None
        except Exception:
            _log.exception("reading the App Home for tasks %s failed", sorted(task_ids))
            return
        for user in sorted(audience):
            await self._publish_logged(user, board)

    async def _audience(self, task_ids: Iterable[int], viewers: list[str]) -> set[str]:
        rules = _RulesMemo(self.bot)
        audience: set[str] = set()
        for task in await DeployTask.filter(id__in=list(task_ids)).prefetch_related("environment"):
            env_rules = await rules.of(task.environment)
            audience |= {v for v in viewers if concerns(env_rules, task.requester, v)}
        return audience

    async def _publish_logged(self, user: str, board: Board | None = None) -> None:
        try:
            await self.publish(user, board)
        except (HoistError, *SLACK_ERRORS) as error:
            _log.warning("cannot publish the App Home of %s: %s", user, error)
        except Exception:
            _log.exception("publishing the App Home of %s failed", user)


class _RulesMemo:
    """Each environment's rules, asked of Slack once per refresh; no rights if Slack fails."""

    def __init__(self, bot: HoistBot) -> None:
        self.bot = bot
        self._rules: dict[int, Rules] = {}

    async def of(self, env: Environment) -> Rules:
        if env.id not in self._rules:
            try:
                self._rules[env.id] = await self.bot.rules(env)
            except HoistError as error:
                _log.warning("App Home: no rules for environment %s: %s", env.id, error)
                self._rules[env.id] = NOBODY
        return self._rules[env.id]


def _home_task(
    bot: HoistBot, task: DeployTask, *, approvals: int = 0, link: bool = False
) -> HomeTask:
    env = task.environment
    return HomeTask(
        id=task.id,
        project=env.project.slug,
        env=env.name,
        version=task.version,
        status=str(task.status),
        requester=task.requester,
        kind=str(task.kind),
        ref=task.ref,
        commit=task.commit_sha,
        subject=task.commit_subject,
        approvals=approvals,
        approvals_required=env.approvals_required,
        scheduled_at=task.scheduled_at,
        created_at=task.created_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
        link=bot.message_link(task) if link else None,
    )


async def _pending(bot: HoistBot, rules: _RulesMemo) -> tuple[Review, ...]:
    tasks = await (
        DeployTask.filter(status=TaskStatus.PENDING_APPROVAL)
        .order_by("id")
        .prefetch_related("environment__project")
    )
    decisions = await Approval.filter(task_id__in=[t.id for t in tasks])
    reviews = []
    for task in tasks:
        mine = [a for a in decisions if a.task_id == task.id]
        approvals = sum(1 for a in mine if a.decision == Decision.APPROVE)
        reviews.append(
            Review(
                _home_task(bot, task, approvals=approvals, link=True),
                await rules.of(task.environment),
                frozenset(a.reviewer for a in mine),
            )
        )
    return tuple(reviews)


async def _upcoming(bot: HoistBot, rules: _RulesMemo) -> tuple[tuple[HomeTask, Rules], ...]:
    tasks = await (
        DeployTask.filter(scheduled_at__isnull=False, status__in=UPCOMING)
        .order_by("scheduled_at", "id")
        .prefetch_related("environment__project")
    )
    return tuple([(_home_task(bot, t), await rules.of(t.environment)) for t in tasks])


async def _recent(bot: HoistBot, user: str) -> tuple[tuple[HomeTask, ...], int]:
    """The user's newest requests (at most `RECENT_SHOWN`) and how many older ones there are."""
    mine = DeployTask.filter(requester=user)
    tasks = await mine.order_by("-id").limit(RECENT_SHOWN).prefetch_related("environment__project")
    total = await mine.count()
    return tuple(_home_task(bot, t) for t in tasks), max(total - len(tasks), 0)


def register(app: AsyncApp, bot: HoistBot) -> None:
    async def opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            await bot.home.opened(event["user"])

    app.event("app_home_opened")(opened)
