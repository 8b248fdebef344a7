"""What the Slack listeners call: every request checked, then handed to the core.

Listeners stay thin (parse, call one method here, reply); this class knows the engine, the
Slack client and the rules. Runs happen in background tasks so no request waits for a deploy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import texts
from bot.announcer import Announcer
from bot.blocks.data import NodeView
from bot.blocks.progress import log_snippet
from bot.blocks.task_message import task_message
from bot.command_parser import Deploy, Lock, Unlock
from bot.home import HomeTab
from bot.notifier import Notifier
from bot.people import People
from bot.task_view import ChangeCache, task_view
from core.approvals import NotAllowed, decide
from core.audit import Actor, record
from core.engine.engine import Engine
from core.engine.requests import DeployRequest, git_auth, live_version
from core.engine.views import seconds_between
from core.errors import ConflictError, HoistError, NotFoundError
from core.inventory.lookup import get_environment
from core.inventory.service import add_template
from core.inventory.specs import TemplateSpec
from core.locks import current_lock, expire_locks, lock, note_waiting, unlock
from core.permissions import Action, Rules, allowed, refusal
from core.scheduling.due import Timing
from core.scheduling.scheduler import Scheduler, reschedule
from core.scheduling.times import parse_start
from core.status import Decision, DeployMode, HookStage, NodeStatus, TaskStatus
from core.store.models import DeployTask, Environment, Project, StageRun
from core.weblinks import LINK_TTL, sign

_log = logging.getLogger(__name__)
HOOK_STAGES = frozenset(s.value for s in HookStage)
HOUSEKEEPING_SECONDS = 30.0
STOP_SECONDS = 10.0
"""After a drain, how long a stop waits for runs and messages to settle."""
SNIPPET_LINES = 20


class HoistBot:
    """The Slack surface's use of the core."""

    def __init__(
        self,
        engine: Engine,
        client: AsyncWebClient,
        *,
        public_url: str | None = None,
        link_key: bytes | None = None,
        min_update_interval: float = 1.0,
        timing: Timing | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        # Links to the release page: based on `public_url` (--public-url), else on the bot's
        # own http://host:port once it listens; signed with `link_key` (None: no page).
        self.public_url = public_url
        self.local_url: str | None = None
        self.link_key = link_key
        self.changes = ChangeCache(engine.git)
        self.people = People(client)
        self.notifier = Notifier(
            client, engine.bus, self.render, self.snippet, min_interval=min_update_interval
        )
        self._runs: set[asyncio.Task[Any]] = set()
        self._running: dict[asyncio.Future[Any], int] = {}
        self.home = HomeTab(self, debounce=min_update_interval)
        self.announcer = Announcer(self)
        self.scheduler = Scheduler(
            self.announcer, engine.recorder, owner=engine.owner, timing=timing
        )

    def start(self) -> None:
        self.notifier.start()
        self.home.start()
        self.announcer.start()
        self._housekeeper = asyncio.create_task(self._housekeeping_loop())

    async def stop(self, *, drain: float | None = None) -> list[int]:
        """Stop; with `drain`, running tasks get that many seconds to finish their running
        stages and are then marked interrupted (SIGTERM). Returns the tasks interrupted."""
        await self.scheduler.stop()
        self._housekeeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._housekeeper
        if drain is None:
            await self.wait_idle()
            await self.home.stop()
            await self.announcer.stop()
            await self.notifier.stop()
            return []
        stopped = await self.engine.drain(drain)
        # Bounded from here: a run that would not stop is left to the next start's reap,
        # and messages Slack would not take in time stay as they were.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_SECONDS):
                await self.wait_runs()
                await self.home.stop()
                await self.announcer.stop()
                await self.notifier.stop()
        return stopped

    async def housekeeping(self) -> None:
        """Locks that ran out free their environments; whoever waited is told. Tasks whose
        runner died (its lease ran out) are marked interrupted, so they can be retried."""
        for env_id, waiting in await expire_locks(self.now()):
            env = await Environment.get(id=env_id)
            await self.freed(env, waiting)
        for task_id in await self.engine.reap():
            self.notifier.touch(task_id)
        self.engine.wake()
        await self.scheduler.sync()
        await self.run_orphans()

    async def run_orphans(self) -> None:
        """Queued tasks nobody here waits to run (the process that queued them stopped):
        take them on. Claims are atomic, so two processes doing this run each once."""
        here = set(self._running.values())
        for task in await DeployTask.filter(status=TaskStatus.QUEUED).order_by("id"):
            if task.id not in here and not self.engine.draining:
                self.run(task.id)

    async def _housekeeping_loop(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_SECONDS)
            try:
                await self.housekeeping()
            except Exception:
                _log.exception("housekeeping (expired locks, dead runners) failed")

    async def wait_idle(self) -> None:
        """Every run started here has come to rest and every message caught up (tests)."""
        await self.wait_runs()
        await self.announcer.flush()
        await self.notifier.idle.wait()

    async def wait_runs(self) -> None:
        """Every run started here has come to rest."""
        while self._runs:
            await asyncio.gather(*list(self._runs), return_exceptions=True)

    def now(self) -> datetime:
        return self.engine.recorder.clock()

    async def render(self, task_id: int) -> dict[str, Any]:
        view = await task_view(task_id, self.changes, log_url=self._page_url(task_id))
        return task_message(view, self.now())

    def _page_url(self, task_id: int) -> str | None:
        """Task #N's release page without a token; None when this bot serves no page."""
        base = self.public_url or self.local_url
        if self.link_key is None or base is None:
            return None
        return f"{base}/tasks/{task_id}"

    def page_link(self, user: str, task_id: int) -> str:
        """A fresh link to task #N's release page, signed for `user`; it expires after
        `LINK_TTL`. Made per viewer: a shared message never carries one."""
        page = self._page_url(task_id)
        if page is None or self.link_key is None:
            raise ConflictError(texts.NO_RELEASE_PAGE)
        token = sign(task_id, user, self.now() + LINK_TTL, self.link_key)
        return f"{page}?t={quote(token, safe='')}"

    async def snippet(self, task_id: int, node_id: int) -> dict[str, Any] | None:
        """A thread message for a finished node: a failure's error, or a hook's output tail."""
        node = await StageRun.get_or_none(id=node_id)
        if node is None:
            return None
        hook = str(node.stage) in HOOK_STAGES
        if node.status == NodeStatus.SUCCEEDED and not (hook and node.output.strip()):
            return None
        view = NodeView(
            str(node.stage),
            node.server_name,
            str(node.status),
            seconds_between(node.started_at, node.finished_at),
            node.error,
            node.bytes_sent,
            node.files_sent,
            node.transfer,
        )
        return log_snippet(task_id, view, node.output.splitlines()[-SNIPPET_LINES:])

    async def rules(self, env: Environment) -> Rules:
        return await self.people.rules(list(env.deployers), list(env.reviewers))

    async def check(
        self,
        env: Environment,
        action: Action,
        user: str,
        requester: str | None = None,
        *,
        refused: str | None = None,
    ) -> Rules:
        """The environment's rules, if they let `user` do `action`; else NotAllowed, saying
        `refused` if given (a sentence for the button pressed), else the rules' refusal."""
        rules = await self.rules(env)
        if not allowed(rules, action, user, requester=requester):
            raise NotAllowed(refused or refusal(action, user, rules, requester=requester))
        return rules

    async def deploy(self, user: str, channel: str, command: Deploy) -> str:
        """`/deploy PROJECT ENV [REF] …`: check, create, announce, start when allowed."""
        env = await get_environment(command.project, command.env)
        await self.check(env, Action.DEPLOY, user)
        start = None
        if command.at:
            start = parse_start(command.at, self.now(), await self.people.zone(user))
        request = DeployRequest(
            project=command.project,
            env=command.env,
            requester=user,
            ref=command.ref,
            mode=DeployMode.CANARY if command.canary else DeployMode.FULL,
            canary=command.canary,
            note=command.note,
            via="slack",
            scheduled_at=start,
            plan=command.plan,
        )
        return await self.create(request, env, channel)

    async def create(self, request: DeployRequest, env: Environment, channel: str) -> str:
        task = await self.engine.deploy(request, Actor(request.requester, via="slack"))
        reply = texts.task_created(task.id, task.version, str(task.status))
        if not await self.announce(task, env.project.channel or channel):
            reply += " " + texts.NOT_ANNOUNCED
        self.home.changed(task.id)
        if task.scheduled_at is not None:
            await self.scheduler.watch(task.id)  # it announces the schedule, once
        lock = await current_lock(env, self.now())
        if lock is not None:
            await note_waiting(env, request.requester)
            reply += " " + texts.env_locked(lock.holder, lock.reason, lock.until)
        if task.status == TaskStatus.QUEUED:
            self.run(task.id)
        return reply

    async def announce(self, task: DeployTask, channel: str) -> bool:
        """Post the task's message and remember where it is; False if Slack would not take it
        (the task goes on all the same: a Slack outage never stops a release)."""
        payload = await self.render(task.id)
        try:
            response = await self.client.chat_postMessage(channel=channel, **payload)
        except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as error:
            _log.warning("cannot post the message of task #%s in %s: %s", task.id, channel, error)
            return False
        await DeployTask.filter(id=task.id).update(
            slack_channel=response["channel"], slack_ts=response["ts"]
        )
        return True

    def refresh_mirror(self, slug: str) -> None:
        """Fetch a project's mirror in the background (its pickers read the mirror)."""

        async def fetch() -> None:
            project = await Project.get_or_none(slug=slug)
            if project is None:
                return
            await project.fetch_related("git_key")
            try:
                auth = git_auth(project, self.engine.box)
                await self.engine.git.ensure_mirror(slug, project.repo_url, auth)
            except HoistError as error:
                _log.warning("cannot fetch the mirror of %s: %s", slug, error)

        job = asyncio.ensure_future(fetch())
        self._runs.add(job)
        job.add_done_callback(self._runs.discard)

    def run(self, task_id: int, *, promoted: bool = False) -> None:
        """Run a task in the background; its message follows through the notifier."""
        coro = self.engine.finish_promote(task_id) if promoted else self.engine.run(task_id)
        job = asyncio.ensure_future(coro)
        self._runs.add(job)
        self._running[job] = task_id
        job.add_done_callback(self._runs.discard)
        job.add_done_callback(lambda done: self._running.pop(done, None))

    async def decide(self, user: str, task_id: int, decision: Decision, comment: str = "") -> str:
        task = await _task(task_id)
        env = await Environment.get(id=task.environment_id)
        rules = await self.check(env, Action.APPROVE, user, requester=task.requester)
        outcome = await decide(
            task_id,
            Actor(user, via="slack"),
            decision,
            self.engine.recorder,
            reviewers=rules.reviewers,
            comment=comment,
        )
        self.notifier.touch(task_id)
        self.home.changed(task_id)
        if not outcome.changed:
            return texts.ALREADY_DECIDED
        if outcome.task.status == TaskStatus.SCHEDULED:
            await self.scheduler.watch(task_id)
        if outcome.task.status == TaskStatus.QUEUED:
            self.run(task_id)
        return texts.decision_recorded(task_id, decision, outcome.approvals, outcome.required)

    async def task_action(self, user: str, verb: str, task_id: int) -> str:
        """retry, cancel or promote, from a command or a button."""
        task = await _task(task_id)
        env = await Environment.get(id=task.environment_id)
        actor = Actor(user, via="slack")
        if verb == "cancel":
            await self.check(env, Action.CANCEL, user, requester=task.requester)
            report = await self.engine.cancel(task_id, actor)
            self.notifier.touch(task_id)
            return texts.cancelled(task_id, report.switched)
        if verb == "retry":
            await self.check(env, Action.RETRY, user)
            await self.engine.retry(task_id, actor)
            self.run(task_id)
            return texts.retrying(task_id)
        await self.check(env, Action.PROMOTE, user)
        await self.engine.begin_promote(task_id, actor)
        self.run(task_id, promoted=True)
        return texts.promoting(task_id)

    async def continue_task(self, user: str, task_id: int) -> str:
        """Continue on a paused rollout (a deployer): its next step runs now."""
        task = await _task(task_id)
        env = await Environment.get(id=task.environment_id)
        await self.check(env, Action.RETRY, user, refused=texts.MAY_NOT_CONTINUE)
        await self.engine.continue_(task_id, Actor(user, via="slack"))
        self.home.changed(task_id)
        self.run(task_id)
        reply = texts.continuing(task_id, task.step + 1, len(task.plan_steps))
        held = await current_lock(env, self.now())
        if held is not None:
            reply += " " + texts.env_locked(held.holder, held.reason, held.until)
        return reply

    async def abort_task(self, user: str, task_id: int, channel: str) -> str:
        """Abort and roll back a paused rollout: the task is cancelled, and the servers it
        switched go back to the release each had, in rollback tasks announced like any other.
        A task that is not paused is refused (Cancel stops those)."""
        task = await _task(task_id)
        env = await Environment.get(id=task.environment_id).prefetch_related("project")
        await self.check(
            env, Action.CANCEL, user, requester=task.requester, refused=texts.MAY_NOT_ABORT
        )
        if task.status != TaskStatus.PAUSED:
            raise ConflictError(texts.abort_not_paused(task_id, str(task.status)))
        actor = Actor(user, via="slack")
        report = await self.engine.cancel(task_id, actor)
        self.home.changed(task_id)
        created = await self.engine.rollbacks_for_switched(task, actor)
        await record(
            actor, "task.abort", f"task:{task_id}", rollback=True, rollbacks=[r.id for r in created]
        )
        for rollback in created:
            await self.announce(rollback, env.project.channel or channel)
            self.home.changed(rollback.id)
            self.run(rollback.id)
        return texts.aborted(task_id, report.switched, [(r.id, r.version) for r in created])

    async def reschedule(self, user: str, task_id: int, at: str) -> str:
        """Move a scheduled release that has not started (its requester or a deployer)."""
        task = await _task(task_id)
        env = await Environment.get(id=task.environment_id)
        await self.check(env, Action.RESCHEDULE, user, requester=task.requester)
        when = parse_start(at, self.now(), await self.people.zone(user))
        moved = await reschedule(task_id, when, Actor(user, via="slack"), self.engine.recorder)
        await DeployTask.filter(id=task_id, announced_at__isnull=True).update(
            announced_at=self.now()
        )  # announced here as moved, not again as scheduled
        await self.scheduler.watch(task_id)
        self.notifier.touch(task_id)
        await self.announcer.moved(moved)
        return texts.rescheduled(task_id, when)

    async def create_from_modal(self, request: DeployRequest, saves: list[TemplateSpec]) -> None:
        """A submitted modal: save the new templates, create the task; errors go to the user."""
        user = request.requester
        try:
            for spec in saves:
                await add_template(Actor(user, via="slack"), spec)
            env = await get_environment(request.project, request.env)
            await env.fetch_related("project")
            reply = await self.create(request, env, env.project.channel or user)
        except HoistError as error:
            reply = f":warning: {error}"
        await self.tell(user, reply)

    async def tell(self, user: str, text: str) -> None:
        """A private note to one person (a direct message from the bot)."""
        await self.client.chat_postMessage(channel=user, text=text)

    def message_link(self, task: DeployTask) -> str | None:
        if not task.slack_channel or not task.slack_ts:
            return None
        return f"https://slack.com/archives/{task.slack_channel}/p{task.slack_ts.replace('.', '')}"

    async def check_may_review(self, user: str, task_id: int) -> None:
        task = await _task(task_id)
        env = await Environment.get(id=task.environment_id)
        await self.check(env, Action.APPROVE, user, requester=task.requester)

    async def rollback_task(self, user: str, task_id: int, channel: str) -> str:
        """The Rollback button on task #N: undo what that task did.

        A live release goes back to the one before it; a failed or cancelled one puts the
        servers it switched back on the release each had. An old release that is no longer
        live is refused: rolling back from its message would undo someone else's release.
        """
        task = await _task(task_id)
        env = await Environment.get(id=task.environment_id).prefetch_related("project")
        await self.check(env, Action.ROLLBACK, user)
        if task.status == TaskStatus.SUCCEEDED:
            live = await live_version(env)
            if task.version != live:
                raise ConflictError(texts.not_live(task_id, live, env.project.slug, env.name))
            return await self.rollback(user, channel, env.project.slug, env.name, None)
        created = await self.engine.rollbacks_for_switched(task, Actor(user, via="slack"))
        if not created:
            raise ConflictError(texts.NOTHING_SWITCHED)
        for rollback in created:
            await self.announce(rollback, env.project.channel or channel)
            self.run(rollback.id)
        return texts.rollback_started(created[0].id, created[0].version)

    async def lock(self, user: str, command: Lock) -> str:
        env = await get_environment(command.project, command.env)
        await self.check(env, Action.LOCK, user)
        info = await lock(
            env, Actor(user, via="slack"), command.reason, self.now(), command.duration
        )
        return texts.locked(f"{command.project}/{command.env}", info.reason, info.until)

    async def unlock(self, user: str, command: Unlock) -> str:
        env = await get_environment(command.project, command.env)
        await self.check(env, Action.LOCK, user)
        waiting = await unlock(env, Actor(user, via="slack"))
        await self.freed(env, waiting)
        return texts.unlocked(f"{command.project}/{command.env}")

    async def freed(self, env: Environment, waiting: list[str]) -> None:
        """An environment came free: queued tasks may start, and the people waiting hear it."""
        await env.fetch_related("project")
        self.engine.wake()
        for user in waiting:
            await self.tell(user, texts.env_free(f"{env.project.slug}/{env.name}"))

    async def rollback(
        self, user: str, channel: str, project: str, env_name: str, version: str | None
    ) -> str:
        env = await get_environment(project, env_name)
        await self.check(env, Action.ROLLBACK, user)
        task = await self.engine.rollback(project, env_name, Actor(user, via="slack"), to=version)
        await self.announce(task, env.project.channel or channel)
        self.run(task.id)
        return texts.rollback_started(task.id, task.version)


async def _task(task_id: int) -> DeployTask:
    task = await DeployTask.get_or_none(id=task_id)
    if task is None:
        raise NotFoundError(f"unknown task #{task_id}")
    return task
