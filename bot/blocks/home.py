"""The App Home tab: what waits for the viewer, where they can deploy, what they released.

A pure function from the frozen data below to a `views.publish` view; `bot/home.py` gathers
the data and publishes. Every list is bounded and says "and N more" for the rest, so the view
stays inside Slack's 100 blocks whatever the database holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bot import home_texts as words
from bot.blocks import actions as ids
from bot.blocks.actions import (
    MAX_FIELDS,
    MAX_TEXT,
    Block,
    button,
    context,
    divider,
    fields,
    header,
    section,
)
from bot.texts import APPROVE, REJECT, and_more, commit_line, join_within

MAX_HOME_BLOCKS: Final = 100
REVIEWS_SHOWN: Final = 20
"""Each review takes two blocks (the facts, the buttons)."""
ENVS_SHOWN: Final = 40
UPCOMING_SHOWN: Final = 15
RECENT_SHOWN: Final = 10
REVIEW_BLOCK: Final = "hoist.home.review"
"""Prefix of each review's buttons block; the task id follows, as block ids must be unique."""
FINISHED: Final = frozenset(
    {"succeeded", "failed", "cancelled", "rejected", "interrupted", "missed"}
)


@dataclass(frozen=True)
class HomeEnv:
    """An environment the viewer may deploy to."""

    project: str
    env: str
    live_version: str | None
    approvals_required: int = 0
    locked_by: str | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class HomeTask:
    id: int
    project: str
    env: str
    version: str
    status: str
    requester: str
    kind: str = "deploy"
    ref: str = ""
    commit: str = ""
    subject: str = ""
    approvals: int = 0
    approvals_required: int = 0
    scheduled_at: datetime | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    link: str | None = None
    """The task's message in Slack, when it was posted."""


@dataclass(frozen=True)
class HomeData:
    """One viewer's Home; each list in the order it is shown."""

    environments: tuple[HomeEnv, ...] = ()
    to_review: tuple[HomeTask, ...] = ()
    """Pending tasks this viewer may still approve or reject."""
    upcoming: tuple[HomeTask, ...] = ()
    """Scheduled tasks, soonest first."""
    recent: tuple[HomeTask, ...] = ()
    """Tasks the viewer requested, newest first (at most `RECENT_SHOWN` are drawn)."""
    older: int = 0
    """How many more tasks the viewer requested than `recent` holds."""


def home_view(data: HomeData, now: datetime) -> dict[str, Any]:
    """The Home tab view for `views.publish`; `now` dates running tasks and the footer."""
    blocks = [header(words.TITLE), section(words.INTRO)]
    blocks += _reviews(data.to_review)
    blocks += _upcoming(data.upcoming)
    blocks += _environments(data.environments)
    blocks += _recent(data.recent, data.older, now)
    blocks.append(context(words.updated(now)))
    return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}


def _part(title: str, body: list[Block]) -> list[Block]:
    return [divider(), header(title), *body]


def _reviews(tasks: tuple[HomeTask, ...]) -> list[Block]:
    if not tasks:
        return _part(words.REVIEW_HEADING, [section(words.NO_REVIEWS)])
    body: list[Block] = []
    for task in tasks[:REVIEWS_SHOWN]:
        body += [section(_review_text(task)), _review_buttons(task.id)]
    hidden = len(tasks) - REVIEWS_SHOWN
    if hidden > 0:
        body.append(context(f"{and_more(hidden)}. {words.MORE_REVIEWS}"))
    return _part(words.REVIEW_HEADING, body)


def _review_text(task: HomeTask) -> str:
    lines = [
        words.review_title(task.kind, task.id, task.project, task.env),
        words.review_facts(task.version, task.ref, task.requester),
    ]
    if task.commit:
        lines.append(commit_line(task.commit, task.subject))
    status = [words.review_progress(task.approvals, task.approvals_required)]
    if task.scheduled_at:
        status.append(words.starts(task.scheduled_at))
    if task.link:
        status.append(words.message_link(task.link))
    lines.append(" · ".join(status))
    return "\n".join(lines)


def _review_buttons(task_id: int) -> Block:
    """The task message's own Approve / Reject: the same action ids reach the same handlers."""
    value = str(task_id)
    elements = [
        button(APPROVE, ids.APPROVE, value, style="primary"),
        button(REJECT, ids.REJECT, value, style="danger"),
    ]
    return ids.actions(elements, f"{REVIEW_BLOCK}.{task_id}")


def _upcoming(tasks: tuple[HomeTask, ...]) -> list[Block]:
    lines = [
        words.upcoming_line(
            t.scheduled_at, t.id, t.project, t.env, t.version, t.requester, t.status
        )
        for t in tasks[:UPCOMING_SHOWN]
        if t.scheduled_at is not None
    ]
    if not lines:
        return _part(words.UPCOMING_HEADING, [section(words.NO_UPCOMING)])
    hidden = len(tasks) - len(lines)
    return _part(
        words.UPCOMING_HEADING, [section(join_within(lines, MAX_TEXT, and_more, extra=hidden))]
    )


def _environments(envs: tuple[HomeEnv, ...]) -> list[Block]:
    if not envs:
        return _part(words.ENVS_HEADING, [section(words.NO_ENVS)])
    shown = envs[:ENVS_SHOWN]
    cards = [_env_card(env) for env in shown]
    body = [fields(cards[i : i + MAX_FIELDS]) for i in range(0, len(cards), MAX_FIELDS)]
    if len(envs) > len(shown):
        body.append(context(and_more(len(envs) - len(shown))))
    return _part(words.ENVS_HEADING, body)


def _env_card(env: HomeEnv) -> tuple[str, str]:
    lines = [
        words.live(env.live_version),
        words.deploy_hint(env.project, env.env, env.approvals_required),
    ]
    if env.locked_by:
        lines.append(words.locked_by(env.locked_by, env.locked_until))
    return words.env_title(env.project, env.env), "\n".join(lines)


def _recent(tasks: tuple[HomeTask, ...], older: int, now: datetime) -> list[Block]:
    if not tasks:
        return _part(words.RECENT_HEADING, [section(words.NO_RECENT)])
    lines = [_recent_line(task, now) for task in tasks[:RECENT_SHOWN]]
    hidden = len(tasks) - len(lines) + older
    body = [section(join_within(lines, MAX_TEXT, and_more, extra=hidden))]
    if hidden > 0:
        body.append(context(words.MORE_RECENT))
    return _part(words.RECENT_HEADING, body)


def _recent_line(task: HomeTask, now: datetime) -> str:
    parts = [
        words.recent_line(task.id, task.kind, task.project, task.env, task.version, task.status)
    ]
    finished = task.status in FINISHED
    if task.started_at is not None:
        end = task.finished_at if finished else now
        if end is not None:
            parts.append(words.took((end - task.started_at).total_seconds(), finished))
    if task.created_at is not None:
        parts.append(words.requested(task.created_at))
    return " · ".join(parts)
