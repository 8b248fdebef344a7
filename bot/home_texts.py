"""Every word of the App Home tab.

Kept apart from `bot/texts.py` (task messages, commands) but built from its mrkdwn helpers, so
user text is escaped the same way everywhere.
"""

from __future__ import annotations

from datetime import datetime

from bot.texts import STATUS, STATUS_EMOJI, code, duration, mention, safe, slack_date

TITLE = "Hoist"
INTRO = (
    "Your releases at a glance. Type `/deploy` in any channel to start one, "
    "or `/deploy help` to see every command."
)
FALLBACK = "Hoist: your environments, approvals and releases"

REVIEW_HEADING = "Waiting for your approval"
NO_REVIEWS = (
    ":white_check_mark: Nothing waits for your review. Releases that need your approval "
    "show up here, with the buttons to approve or reject them."
)
MORE_REVIEWS = "Find the others in their project's channel."

UPCOMING_HEADING = "Scheduled releases"
NO_UPCOMING = (
    "No releases are scheduled in your environments. Pick a start time in the `/deploy` "
    "form to schedule one."
)

ENVS_HEADING = "Where you can deploy"
NO_ENVS = (
    "You cannot deploy anywhere yet. Ask whoever keeps Hoist's inventory to add you (or one of "
    "your user groups) to an environment's deployers."
)

RECENT_HEADING = "Your recent releases"
NO_RECENT = "You have not requested a release yet. Type `/deploy` to start your first one."
MORE_RECENT = "`/deploy history` lists every release."


def updated(now: datetime) -> str:
    return f"Updated {slack_date(now)}"


def where(project: str, env: str) -> str:
    return f"{safe(project, 100)}/{safe(env, 100)}"


def review_title(kind: str, task_id: int, project: str, env: str) -> str:
    verb = "Rollback" if kind == "rollback" else "Deploy"
    return f"*{verb} #{task_id}* · {where(project, env)}"


def review_facts(version: str, ref: str, requester: str) -> str:
    on = f" from {code(ref, 120)}" if ref else ""
    return f"{code(version, 200)}{on}, requested by {mention(requester)}"


def review_progress(got: int, required: int) -> str:
    return f"Approvals: {got} of {required}"


def starts(at: datetime) -> str:
    return f"Starts {slack_date(at)}"


def message_link(link: str) -> str:
    return f"<{link}|Open the task's message>"


def env_title(project: str, env: str) -> str:
    return f"*{where(project, env)}*"


def live(version: str | None) -> str:
    return f"Live: {code(version, 200)}" if version else "Live: _nothing yet_"


def deploy_hint(project: str, env: str, approvals: int) -> str:
    hint = code(f"/deploy {project} {env}", 150)
    if approvals:
        hint += f" · needs {approvals} approval{'s' if approvals != 1 else ''}"
    return hint


def locked_by(holder: str, until: datetime | None) -> str:
    end = f" until {slack_date(until)}" if until else ""
    return f":lock: locked by {mention(holder)}{end}"


def status(value: str) -> str:
    return f"{STATUS_EMOJI.get(value, '')} {STATUS.get(value, value)}".strip()


def upcoming_line(
    at: datetime, task_id: int, project: str, env: str, version: str, requester: str, state: str
) -> str:
    return (
        f"{slack_date(at)} · *#{task_id}* {where(project, env)} {code(version, 120)} "
        f"by {mention(requester)} · {status(state)}"
    )


def recent_line(task_id: int, kind: str, project: str, env: str, version: str, state: str) -> str:
    what = " rollback" if kind == "rollback" else ""
    return f"{status(state)} · *#{task_id}*{what} {where(project, env)} {code(version, 120)}"


def took(seconds: float, finished: bool) -> str:
    return f"took {duration(seconds)}" if finished else f"running for {duration(seconds)}"


def requested(at: datetime) -> str:
    return slack_date(at)
