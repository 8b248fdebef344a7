"""Every word Hoist says in Slack, and the mrkdwn helpers that make user text safe to show.

Kept in one module, as Bolt keeps its messages in `slack_bolt/logger/messages.py`: builders in
`bot/blocks/` arrange these into Block Kit and never spell a sentence of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from core.engine.summary import size as size  # re-exported: texts speak in sizes too

# --- mrkdwn safety --------------------------------------------------------------------------------

_USER_ID = re.compile(r"[UW][A-Z0-9]{8,}")
_GROUP_ID = re.compile(r"S[A-Z0-9]{8,}")
_FENCE = re.compile(r"`{3,}")
_ZERO_WIDTH_SPACE = "\u200b"
ELLIPSIS = "…"


def escape(text: str) -> str:
    """Slack's three control characters as entities, so user text cannot mention or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, never inside an `&…;` entity."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    amp = cut.rfind("&", max(len(cut) - 4, 0))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ELLIPSIS


def safe(text: str, limit: int) -> str:
    """User text escaped for mrkdwn, unable to open a code block, clipped to `limit` characters."""
    return clip(defuse_fences(escape(text)), limit)


def one_line(text: str) -> str:
    """The first line of `text`, for places that show a single line."""
    return text.strip().split("\n", 1)[0]


def code(text: str, limit: int = 100) -> str:
    """A name in inline code: escaped, one line, with no backtick left to close it early."""
    return f"`{safe(one_line(text).replace('`', 'ˋ'), limit) or ' '}`"


def mention(who: str) -> str:
    """A Slack user or user-group id as a mention; any other name as plain, escaped text."""
    if _USER_ID.fullmatch(who):
        return f"<@{who}>"
    if _GROUP_ID.fullmatch(who):
        return f"<!subteam^{who}>"
    return safe(who, 80)


def defuse_fences(text: str) -> str:
    """Break runs of three or more backticks with zero-width spaces: shown alike, inert."""
    return _FENCE.sub(lambda m: _ZERO_WIDTH_SPACE.join(m.group()), text)


def code_block(text: str, limit: int, *, tail: bool = False) -> str:
    """`text` in a fenced block of at most `limit` characters, cut at lines (head or tail)."""
    lines = defuse_fences(escape(text.rstrip())).split("\n")
    room = limit - len("```\n\n```") - len(hidden_lines(10**6)) - 1
    shown = _fit(list(reversed(lines)) if tail else lines, room)
    if tail:
        shown.reverse()
    block = "```\n" + "\n".join(shown) + "\n```"
    hidden = len(lines) - len(shown)
    if not hidden:
        return block
    if tail:
        return f"{hidden_lines(hidden, earlier=True)}\n{block}"
    return f"{block}\n{hidden_lines(hidden)}"


def _fit(lines: list[str], room: int) -> list[str]:
    """The leading lines that fit in `room` characters; at least one, clipped if it must be."""
    shown: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > room:
            break
        shown.append(line)
        used += len(line) + 1
    return shown or [clip(lines[0], room)]


def join_within(lines: list[str], limit: int, more: Callable[[int], str], *, extra: int = 0) -> str:
    """Lines joined as far as they fit in `limit` characters, then `more(count)` for the rest.

    `extra` counts lines left out beforehand, to be included in the `more` line.
    """
    text = ""
    reserve = len(more(len(lines) + extra)) + 1
    for index, line in enumerate(lines):
        candidate = f"{text}\n{line}" if text else line
        last = index == len(lines) - 1 and not extra
        if len(candidate) + (0 if last else reserve) > limit:
            extra += len(lines) - index
            break
        text = candidate
    if not extra:
        return text
    return f"{text}\n{more(extra)}" if text else more(extra)


def slack_date(when: datetime) -> str:
    """A time each reader sees in their own time zone, with a UTC fallback."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    fallback = aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(aware.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def duration(seconds: float) -> str:
    """`42s`, `3m 12s`, `1h 05m`."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


# --- Tasks ----------------------------------------------------------------------------------------

KIND = {"deploy": "Deploy", "rollback": "Rollback"}
STATUS = {
    "pending_approval": "Waiting for approval",
    "scheduled": "Scheduled",
    "queued": "Queued",
    "running": "Running",
    "canary": "Canary done: waiting for promotion",
    "paused": "Paused",
    "succeeded": "Succeeded",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "rejected": "Rejected",
    "interrupted": "Interrupted",
    "missed": "Missed its start time",
}
STATUS_EMOJI = {
    "pending_approval": "⏳",
    "scheduled": "🗓️",
    "queued": "⏳",
    "running": "🔄",
    "canary": "🐤",
    "paused": "⏸️",
    "succeeded": "✅",
    "failed": "❌",
    "cancelled": "🚫",
    "rejected": "⛔",
    "interrupted": "⚠️",
    "missed": "⌛",
}
NODE_MARK = {"pending": "⚪", "running": "🔄", "succeeded": "✅", "failed": "❌", "skipped": "➖"}
STEP_MARK = {
    "done": "✅",
    "failed": "❌",
    "running": "🔄",
    "next": "⏭️",
    "pending": "⚪",
    "skipped": "➖",
}
NODE_STATUS = {
    "pending": "pending",
    "running": "running",
    "succeeded": "done",
    "failed": "failed",
    "skipped": "skipped",
}

FIELD_PROJECT = "*Project*"
FIELD_ENV = "*Environment*"
FIELD_VERSION = "*Version*"
FIELD_REF = "*Ref*"
FIELD_REQUESTER = "*Requested by*"
FIELD_MODE = "*Mode*"
FIELD_STARTS = "*Starts*"
FIELD_ROLLBACK_TO = "*Rolls back to*"
MODE_FULL = "Full"
NO_HOOKS = "_No hook scripts: the release is uploaded and switched over as is._"
HOOKS_HEADING = "*Hook scripts that will run*"
LOCAL_ROW = "*Local*"
SERVERS_HEADING = "*Servers*"
CANARY_TAG = " _(canary)_"
SERVER_FAILURES = "*Failed servers*"
NOTE_HEADING = "*Note*"
PAUSE_WAITS = "✋ It waits for someone to press *Continue* (or *Abort and roll back*)."


def task_title(kind: str, task_id: int, project: str, env: str, version: str) -> str:
    """Plain text: `Deploy #42 · shop v1.2.3 → production`."""
    return f"{KIND.get(kind, kind.title())} #{task_id} · {project} {version} → {env}"


def status_line(status: str) -> str:
    return f"{STATUS_EMOJI.get(status, '')} *{STATUS.get(status, status)}*".strip()


def paused_heading(done: int, total: int) -> str:
    if not total:
        return status_line("paused")
    return f"{STATUS_EMOJI['paused']} *Paused after step {done} of {total}*"


def pause_ends(at: datetime) -> str:
    return f"⏳ It continues by itself {slack_date(at)}, or when someone presses *Continue*."


def plan_heading(name: str, done: int, total: int, status: str) -> str:
    where = f"step {done} of {total} done" if done else f"{total} steps"
    if status == "succeeded":
        where = f"all {total} steps done"
    return f"*Rollout plan* {code(name, 64)} · {where}"


def plan_step(state: str, number: int, line: str) -> str:
    """`✅ *1.* 1 server (web1), then wait…` with `← next` on the step Continue runs."""
    mark = STEP_MARK.get(state, STEP_MARK["pending"])
    tail = "  ← _next_" if state == "next" else ""
    return f"{mark} *{number}.* {line}{tail}"


def mode_plan(mode: str, plan: str) -> str:
    return f"{mode} · plan {code(plan, 64)}"


def commit_line(sha: str, subject: str) -> str:
    return f"{code(sha[:7], 12)} {safe(one_line(subject), 150)}"


def mode_canary(servers: str) -> str:
    return f"Canary first on {servers}" if servers else "Canary"


def servers_count(count: int) -> str:
    return "1 server" if count == 1 else f"{count} servers"


def changes_heading(live_version: str | None) -> str:
    since = f" since {code(live_version, 60)}" if live_version else ""
    return f"*Changes{since}*"


def and_more(count: int) -> str:
    return f"_and {count} more_"


def approvals_line(got: int, required: int) -> str:
    return f"*Approvals:* {got} of {required}"


def approved_by(who: list[str]) -> str:
    return f"✅ {', '.join(who)}"


def rejected_by(who: str, reason: str) -> str:
    return f"⛔ {who} rejected: {reason}" if reason else f"⛔ {who} rejected"


def reviewers_line(who: list[str]) -> str:
    return f"Reviewers: {', '.join(who)}"


def hook_heading(stage: str, source: str) -> str:
    """`*post_deploy*: template `restart app``, or typed in the request."""
    if source.startswith("template:"):
        return f"*{stage}*: template {code(source.removeprefix('template:'), 80)}"
    return f"*{stage}*: typed in the request"


def hidden_lines(count: int, *, earlier: bool = False) -> str:
    where = "earlier lines" if earlier else "more lines"
    return f"_… {count:,} {where} not shown_"


def server_summary(done: int, total: int, failed: int) -> str:
    failed_part = f" · ❌ {failed} failed" if failed else ""
    return f"*{done}/{total} servers done*{failed_part}"


def elapsed(seconds: float) -> str:
    return f"⏱️ {duration(seconds)}"


def bytes_sent(count: int) -> str:
    return f"📦 {size(count)} sent"


def sent(summary: str) -> str:
    """How the release reached the servers, e.g. `📦 3 files, 14.2 kB to 50 servers · …`."""
    return f"📦 {summary}"


def stage_times(summary: str) -> str:
    return f"Time per stage: {summary}"


def status_counts(counts: dict[str, int]) -> str:
    """`✅ 100 done · 🔄 5 running …` for the statuses that occur."""
    parts = [f"{NODE_MARK[s]} {n} {NODE_STATUS[s]}" for s, n in counts.items() if n]
    return " · ".join(parts)


def see_all_servers(task_id: int) -> str:
    return f"Too many servers to draw one by one. Every server: `/deploy status {task_id}`."


def stages_legend(stages: list[str]) -> str:
    return " → ".join(stages)


def task_fallback(title: str, status: str) -> str:
    """The notification text: what happened to which task, in one line."""
    return f"{title}: {STATUS.get(status, status)}"


# --- Buttons, log snippets, the reject modal ------------------------------------------------------

APPROVE = "Approve"
REJECT = "Reject"
CANCEL = "Cancel"
RETRY = "Retry failed"
ROLLBACK = "Rollback"
PROMOTE = "Promote"
CONTINUE = "Continue"
ABORT = "Abort and roll back"
VIEW_LOGS = "View logs"
CONFIRM_CANCEL_TITLE = "Cancel this task?"
CONFIRM_CANCEL_TEXT = "Servers already switched stay on the new release until rolled back."
CONFIRM_ROLLBACK_TITLE = "Roll back?"
CONFIRM_ROLLBACK_TEXT = "This requests a rollback to the release that was live before."
CONFIRM_ABORT_TITLE = "Abort and roll back?"
CONFIRM_ABORT_TEXT = (
    "The release stops here, and every server it switched goes back to the release it had."
)
CONFIRM_YES = "Yes"
CONFIRM_NO = "No"

REJECT_TITLE = "Reject deploy"
REJECT_SUBMIT = "Reject"
REJECT_CLOSE = "Back"
REJECT_REASON = "Why reject it?"
REJECT_PLACEHOLDER = "The requester sees this in the task's message."
LOCAL = "local"


def snippet_heading(where: str, stage: str, status: str, seconds: float | None) -> str:
    took = f" · {duration(seconds)}" if seconds is not None else ""
    mark, word = NODE_MARK.get(status, ""), NODE_STATUS.get(status, status)
    return f"{mark} {where} · *{stage}* {word}{took}"


def snippet_fallback(task_id: int, where: str, stage: str, status: str) -> str:
    return f"Task #{task_id}: {where} {stage} {NODE_STATUS.get(status, status)}"


NO_OUTPUT = "_No output._"
ERROR_HEADING = "*Error*"
OUTPUT_HEADING = "*Output (tail)*"


# --- The /deploy modal and its pickers ------------------------------------------------------------

DEPLOY_TITLE = "Deploy"
DEPLOY_SUBMIT = "Request deploy"
DEPLOY_CLOSE = "Cancel"
NO_PROJECTS = "You may not deploy any project yet. Ask an admin to add you as a deployer."
PROJECT_LABEL = "Project"
PROJECT_PLACEHOLDER = "Choose a project"
PICK_PROJECT_FIRST = "Choose a project to see its environments, branches and commits."
ENV_LABEL = "Environment"
ENV_PLACEHOLDER = "Choose an environment"
PICK_ENV_FIRST = "Choose an environment to set the mode, servers and hook scripts."
REF_LABEL = "Branch or tag"
REF_PLACEHOLDER = "Type to search branches and tags"
COMMIT_LABEL = "Commit"
COMMIT_PLACEHOLDER = "Latest of the branch or tag"
COMMIT_HINT = "Leave empty to deploy the newest commit of the branch or tag."
DESCRIPTION_LABEL = "Description"
DESCRIPTION_PLACEHOLDER = "What this release brings, for reviewers and the history"
MODE_LABEL = "Mode"
MODE_OPTIONS = {"full": "Full: every server", "canary": "Canary: a few servers first"}
PLAN_LABEL = "Rollout plan"
PLAN_HINT = "Which servers each step reaches, and where it pauses; a failed step pauses it."
NO_PLAN = "No plan: every server in one go"
CANARY_LABEL = "Canary servers"
CANARY_PLACEHOLDER = "Servers that get the release first"
START_LABEL = "Start at"
START_HINT = "Leave empty to start as soon as it is approved."
HOOK_HELP = {
    "pre_download": "Runs on the Hoist host before the code is fetched.",
    "post_download": "Runs on the Hoist host in the checked-out code, before packaging.",
    "pre_deploy": "Runs on each server before the new release is switched in.",
    "post_deploy": "Runs on each server after the switch, e.g. to restart the app.",
}
TEMPLATE_LABEL = "Template"
TEMPLATE_PLACEHOLDER = "Type a script, or pick a template"
TYPE_A_SCRIPT = "Type a script"
SCRIPT_LABEL = "Script"
SCRIPT_PLACEHOLDER = "Shell script; leave empty to skip this stage"
SAVE_LABEL = "Template"
SAVE_OPTION = "Save this script as a template"
TITLE_LABEL = "Template title"
TITLE_HINT = "Needed when saving as a template."
TEMPLATES_ONLY = "This environment runs saved templates only."
NO_TEMPLATES = "No template for this stage: it will not run."
BRANCHES = "Branches"
TAGS = "Tags"


def env_missing(project: str) -> str:
    return f"You may not deploy any environment of {code(project, 60)}."


def hook_title(stage: str) -> str:
    return f"*{stage}*  {HOOK_HELP.get(stage, '')}".rstrip()


def template_preview(title: str) -> str:
    return f"Runs template {code(title, 80)}:"


def no_servers(env: str) -> str:
    return f"{code(env, 60)} has no servers to choose from."


def ref_option(name: str, sha: str) -> str:
    return f"{name} · {sha[:7]}" if sha else name


def commit_option(sha: str, subject: str) -> str:
    return f"{sha[:7]} {one_line(subject)}"


def reject_prompt(task_id: int) -> str:
    return f"Reject task #{task_id}. The requester and reviewers see your reason."


# --- Help -----------------------------------------------------------------------------------------

HELP_TITLE = "Hoist: deploys from Slack"
HELP_FALLBACK = "Hoist commands: /deploy, status, history, retry, rollback, cancel, promote, lock"
HELP_COMMANDS: tuple[tuple[str, str], ...] = (
    ("/deploy", "Open the deploy form."),
    (
        "/deploy PROJECT ENV [REF] [--canary s1,s2] [--plan NAME] [--at TIME] [--note TEXT]",
        "Request a deploy in one line: canary servers first, or a rollout plan of the "
        "environment; a start time, a note.",
    ),
    ("/deploy status [PROJECT [ENV]]", "What runs, waits or is live, everywhere or in one place."),
    ("/deploy history", "Recent deploys and rollbacks."),
    ("/deploy retry ID", "Run a failed or interrupted task again, on the servers that failed."),
    ("/deploy rollback PROJECT ENV [VERSION]", "Go back to the previous (or a given) release."),
    ("/deploy cancel ID", "Stop a task that waits or runs."),
    ("/deploy promote ID", "Take a canary on to the remaining servers."),
    ("/deploy continue ID", "Run the next step of a paused rollout."),
    ("/deploy abort ID", "Stop a paused rollout and put the servers it switched back."),
    (
        "/deploy lock|unlock PROJECT ENV [REASON] [--for 2h]",
        "Hold deploys to an environment, for a while or until unlocked.",
    ),
    (
        "/deploy schedule [PROJECT]",
        "Scheduled releases, and when each project's release digest is posted.",
    ),
    ("/deploy reschedule ID TIME", "Move a scheduled release that has not started."),
    ("/deploy help", "This list."),
)
HELP_FOOTER = (
    "Approve, reject, cancel, retry, continue and roll back also from the buttons on each task."
)


def help_line(usage: str, what: str) -> str:
    return f"`{usage}`\n{what}"


# --- Replies to commands and buttons --------------------------------------------------------------

ALREADY_DECIDED = "You have already decided on this task."


def task_created(task_id: int, version: str, status: str) -> str:
    return f"Task #{task_id} for {code(version, 80)}: {STATUS.get(status, status).lower()}."


def env_locked(holder: str, reason: str, until: datetime | None) -> str:
    why = f": {safe(reason, 300)}" if reason.strip() else ""
    end = f" until {slack_date(until)}" if until else ""
    return f"The environment is locked by {mention(holder)}{end}{why}; the task waits."


def decision_recorded(task_id: int, decision: str, approvals: int, required: int) -> str:
    if decision == "reject":
        return f"Task #{task_id} rejected: it will not run."
    return f"Task #{task_id} approved: {approvals} of {required}."


def cancelled(task_id: int, switched: list[str]) -> str:
    if not switched:
        return f"Task #{task_id} cancelled."
    names = ", ".join(code(s, 60) for s in switched[:10])
    more = f" and {len(switched) - 10} more" if len(switched) > 10 else ""
    return f"Task #{task_id} cancelled. Already on the new release: {names}{more}."


def retrying(task_id: int) -> str:
    return f"Retrying task #{task_id} on the servers that failed."


def promoting(task_id: int) -> str:
    return f"Promoting task #{task_id} to the remaining servers."


def continuing(task_id: int, step: int, total: int) -> str:
    return f"Task #{task_id} goes on with step {step} of {total}."


def aborted(task_id: int, switched: list[str], rollbacks: list[tuple[int, str]]) -> str:
    if not switched:
        return f"Task #{task_id} aborted. It had switched no server: nothing to roll back."
    names = ", ".join(code(s, 60) for s in switched[:10])
    more = f" and {len(switched) - 10} more" if len(switched) > 10 else ""
    if not rollbacks:
        return (
            f"Task #{task_id} aborted. {names}{more} point at releases Hoist did not make: "
            "nothing to roll back to."
        )
    back = ", ".join(f"#{n} to {code(version, 80)}" for n, version in rollbacks)
    return f"Task #{task_id} aborted. Rolling back {names}{more}: {back}."


def abort_not_paused(task_id: int, status: str) -> str:
    what = STATUS.get(status, status).lower()
    return (
        f"Task #{task_id} is {what}, not paused: abort is for a paused rollout. "
        f"To stop it, use `/deploy cancel {task_id}`."
    )


MAY_NOT_CONTINUE = "only this environment's deployers can continue or retry a paused release"
MAY_NOT_ABORT = (
    "only the requester, this environment's deployers or its reviewers can abort this release"
)


def rollback_started(task_id: int, version: str) -> str:
    return f"Rollback #{task_id} to {code(version, 80)} started."


# --- /deploy status, history, schedule, locks, App Home ----------------------------------------

NOTHING_YET = "Nothing released here yet."
NOTHING_SCHEDULED = "No releases are scheduled."
NO_DIGESTS = "No release digests are set up (`hoist project set SLUG --digest CRON`)."


def env_status(project: str, env: str, live: str | None, tasks: list[tuple[int, str, str]]) -> str:
    line = (
        f"*{safe(project, 100)}/{safe(env, 100)}*: live {code(live) if live else '_nothing yet_'}"
    )
    for task_id, version, status in tasks:
        line += f"\n  • #{task_id} {code(version)} {STATUS.get(status, status)}"
    return line


def history_line(task_id: int, where: str, version: str, kind: str, status: str, who: str) -> str:
    return (
        f"#{task_id} {safe(where, 200)} {KIND.get(kind, kind).lower()} {code(version)} "
        f"{STATUS.get(status, status)} by {mention(who)}"
    )


def scheduled_line(task_id: int, where: str, version: str, at: datetime | None, status: str) -> str:
    when = slack_date(at) if at else "?"
    waiting = " (waiting for approval)" if status == "pending_approval" else ""
    return f"#{task_id} {safe(where, 200)} {code(version)} at {when}{waiting}"


def task_status(task_id: int, where: str, version: str, status: str, link: str | None) -> str:
    text = f"#{task_id} {safe(where, 200)} {code(version)}: {STATUS.get(status, status)}"
    return f"{text} (<{link}|message>)" if link else text


def locked(where: str, reason: str, until: datetime | None) -> str:
    end = f" until {slack_date(until)}" if until else " until someone unlocks it"
    why = f": {safe(reason, 300)}" if reason.strip() else ""
    return f":lock: {safe(where, 200)} is locked{end}{why}."


def unlocked(where: str) -> str:
    return f":unlock: {safe(where, 200)} is unlocked; queued releases may start."


def env_free(where: str) -> str:
    return f":unlock: {safe(where, 200)} is free again: your release can go ahead."


NOT_ANNOUNCED = (
    "Slack did not take the task's message (is the bot in the project's channel?); "
    "the task goes on, and `/deploy status ID` follows it."
)


NOTHING_SWITCHED = "This task switched no server, so there is nothing to roll back."


def not_live(task_id: int, live: str | None, project: str, env: str) -> str:
    now = code(live) if live else "nothing"
    return (
        f"Task #{task_id}'s release is not live any more ({now} is). To go back to it, "
        f"use `/deploy rollback {project} {env} VERSION`."
    )


# --- Scheduled releases: announcements in the project's channel ------------------------------


def release_name(where: str, version: str, task_id: int) -> str:
    return f"*{safe(where, 200)}* {code(version)} (task #{task_id})"


def announce_scheduled(name: str, at: datetime, who: str, approvals_needed: int) -> str:
    text = f"🗓️ {name} is scheduled for {slack_date(at)}, requested by {mention(who)}."
    if approvals_needed:
        text += f" It needs {approvals_needed} more approval(s) before then, or it will not run."
    return text


def announce_reminder(name: str, at: datetime, ref: str, commit: str) -> str:
    return f"⏰ Starting {slack_date(at)}: {name}, {code(ref)} at {code(commit[:10])}."


def reminder_changes(subjects: list[str], more: int, live: str | None) -> str:
    if not subjects:
        return "No new commits since the live release." if live else "The first release here."
    lines = [f"• {safe(one_line(s), 150)}" for s in subjects]
    if more:
        lines.append(f"…and {more} more")
    since = f" since {code(live)}" if live else ""
    return f"*Changes{since}:*\n" + "\n".join(lines)


def reminder_reviewers(reviewers: list[str], approved_by: list[str], needed: int) -> str:
    who = ", ".join(mention(r) for r in reviewers) or "none"
    text = f"*Reviewers:* {who}"
    if approved_by:
        text += f" · approved by {', '.join(mention(a) for a in approved_by)}"
    if needed:
        text += f" · ⚠️ still needs {needed} approval(s), or it will not run"
    return text


def announce_started(name: str, at: datetime | None) -> str:
    planned = f" (scheduled for {slack_date(at)})" if at else ""
    return f"🚀 {name} has started{planned}."


def announce_ended(name: str, status: str, seconds: float | None, reason: str) -> str:
    took = f" in {duration(seconds)}" if seconds is not None else ""
    why = f": {safe(reason, 500)}" if reason else ""
    return f"{STATUS_EMOJI.get(status, '')} {name}: {STATUS.get(status, status)}{took}{why}."


def announce_resumed(name: str) -> str:
    return f"▶️ {name}: its pause is over; the rollout goes on."


def announce_pause_waiting(name: str, since: datetime, reason: str) -> str:
    why = f" ({safe(reason, 300)})" if reason else ""
    return (
        f"⏸️ {name} has been paused since {slack_date(since)}{why}, waiting for someone to "
        "continue, retry or abort it."
    )


def announce_moved(name: str, at: datetime) -> str:
    return f"🗓️ {name} was moved: it now starts {slack_date(at)}."


def announce_missed(name: str, at: datetime | None, reason: str) -> str:
    when = f" at {slack_date(at)}" if at else ""
    return f"⌛ {name} did not start{when}: {safe(reason, 500)}. It will not run; request it again."


def announce_interrupted(name: str, reason: str) -> str:
    why = safe(reason, 500) if reason else "its runner stopped"
    return f"⚠️ {name} was interrupted: {why}. Retry runs what did not finish."


def missed_dm(name: str, reason: str) -> str:
    return f"Your scheduled release {name} did not run: {safe(reason, 500)}."


def rescheduled(task_id: int, at: datetime) -> str:
    return f"🗓️ Task #{task_id} now starts {slack_date(at)}."


def digest_line(slug: str, cron: str, zone: str, next_at: datetime | None) -> str:
    after = f", next {slack_date(next_at)}" if next_at else ""
    return f"Release digest of *{safe(slug, 100)}*: {code(cron)} ({safe(zone, 64)}){after}"


# --- The release page -----------------------------------------------------------------------------

NO_RELEASE_PAGE = "This Hoist serves no release page, so there is no link to give."


def page_link(task_id: int, url: str, expires: datetime) -> str:
    """The private answer to View logs: a link made for the person who asked."""
    return (
        f":page_facing_up: <{escape(url)}|The release page of task #{task_id}>: every stage and "
        f"every log line, live. The link is yours alone and works until {slack_date(expires)}; "
        "press View logs again for a new one."
    )


def status_page(url: str, expires: datetime) -> str:
    """The release page in `/deploy status ID`, linked for the asker."""
    return f"<{escape(url)}|Release page> (your link, until {slack_date(expires)})"
