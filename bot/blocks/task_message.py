"""A task's message in its project's channel.

One builder draws every state: the facts, the changes since the live release, approvals, the
hook scripts reviewers approve, the pipeline while it runs, and the buttons the status allows.
The listener posts it once and updates it in place with the same function.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import texts
from bot.blocks import actions as ids
from bot.blocks.actions import (
    MAX_BLOCKS,
    MAX_FALLBACK,
    MAX_TEXT,
    Block,
    button,
    confirm,
    context,
    divider,
    fields,
    header,
    section,
)
from bot.blocks.data import TaskView
from bot.blocks.progress import FAILED_NAMED, failure, progress_blocks, server_chains
from core.engine import rollout
from core.engine.views import chain_state, step_states

CHANGES_SHOWN = 10
"""Commit subjects listed before "and N more"."""
CANARY_NAMED = 10
REVIEWERS_NAMED = 15
CANCELLABLE = frozenset({"pending_approval", "scheduled", "queued", "running", "canary"})
_SUBJECT = 150
_REASON = 500
_STEP_LINE = 300
_NAME = 60


def task_message(view: TaskView, now: datetime | None = None) -> dict[str, Any]:
    """The whole message (`text` and `blocks`) for `view`; `now` dates a running task's clock."""
    blocks = [header(_title(view)), section(_status(view)), fields(_facts(view))]
    blocks += _note(view) + _changes(view) + _approvals(view) + _hooks(view) + _plan(view)
    progress = progress_blocks(view, now)
    if progress:
        blocks += [divider(), *progress]
    blocks += _buttons(view)
    return {"text": _fallback(view), "blocks": blocks[:MAX_BLOCKS]}


def _title(view: TaskView) -> str:
    return texts.task_title(view.kind, view.id, view.project, view.env, view.version)


def _fallback(view: TaskView) -> str:
    line = texts.task_fallback(texts.safe(_title(view), 300), view.status)
    if view.status == "pending_approval" and view.approvals_required:
        line += f" ({_approved_count(view)} of {view.approvals_required})"
    return texts.clip(line, MAX_FALLBACK)


def _status(view: TaskView) -> str:
    if view.status == "paused":
        return _paused(view)
    line = texts.status_line(view.status)
    if view.status == "scheduled" and view.scheduled_at:
        line += f" · {texts.slack_date(view.scheduled_at)}"
    if view.reason:
        line += f": {texts.safe(view.reason, _REASON)}"
    return line


def _paused(view: TaskView) -> str:
    """Which step it paused after, why, until when, and which servers failed with what."""
    lines = [texts.paused_heading(view.step, len(view.plan))]
    if view.reason:
        lines.append(texts.safe(view.reason, _REASON))
    lines.append(texts.pause_ends(view.resume_at) if view.resume_at else texts.PAUSE_WAITS)
    head = "\n".join(lines)
    failed = failed_servers(view)
    if not failed:
        return head
    chains = server_chains(view)
    named = failed[:FAILED_NAMED]
    rows = [f"❌ {texts.code(name, _NAME)}{failure(chains[name].values())}" for name in named]
    room = MAX_TEXT - len(head) - len(texts.SERVER_FAILURES) - 2
    listed = texts.join_within(rows, room, texts.and_more, extra=len(failed) - len(named))
    return f"{head}\n{texts.SERVER_FAILURES}\n{listed}"


def failed_servers(view: TaskView) -> list[str]:
    """Servers whose chain failed, in the task's order."""
    chains = server_chains(view)
    return [
        name
        for name, chain in chains.items()
        if chain_state(n.status for n in chain.values()) == "failed"
    ]


def _plan(view: TaskView) -> list[Block]:
    """The rollout plan: one line per step, marked done, failed, running, next or to come."""
    if not view.plan:
        return []
    chains = server_chains(view)
    servers = {name: chain_state(n.status for n in c.values()) for name, c in chains.items()}
    states = step_states([s.servers for s in view.plan], view.step, view.status, servers)
    lines = [
        texts.plan_step(state, number, texts.safe(line, _STEP_LINE))
        for number, (state, line) in enumerate(
            zip(states, rollout.describe(view.plan), strict=True), start=1
        )
    ]
    heading = texts.plan_heading(view.plan_name, view.step, len(view.plan), view.status)
    room = MAX_TEXT - len(heading) - 1
    return [section(f"{heading}\n{texts.join_within(lines, room, texts.and_more)}")]


def _failed_in_done_steps(view: TaskView) -> bool:
    """Some server of a step that ran failed (what Retry failed runs again)."""
    failed = set(failed_servers(view))
    if not view.plan:
        return bool(failed)
    return any(failed & set(step.servers) for step in view.plan[: view.step])


def _facts(view: TaskView) -> list[tuple[str, str]]:
    ref = f"{texts.code(view.ref, 120)}\n{texts.commit_line(view.commit, view.subject)}"
    facts = [
        (texts.FIELD_PROJECT, texts.safe(view.project, 200)),
        (texts.FIELD_ENV, texts.safe(view.env, 200)),
        (texts.FIELD_VERSION, texts.code(view.version, 200)),
        (texts.FIELD_REF, ref),
        (texts.FIELD_REQUESTER, texts.mention(view.requester)),
        (texts.FIELD_MODE, _mode(view)),
    ]
    if view.scheduled_at:
        facts.append((texts.FIELD_STARTS, texts.slack_date(view.scheduled_at)))
    if view.kind == "rollback" and view.rollback_to:
        facts.append((texts.FIELD_ROLLBACK_TO, texts.code(view.rollback_to, 200)))
    return facts


def _mode(view: TaskView) -> str:
    total = texts.servers_count(len(view.servers))
    if view.mode != "canary":
        full = f"{texts.MODE_FULL} · {total}"
        return texts.mode_plan(full, view.plan_name) if view.plan_name else full
    names = ", ".join(texts.code(s, 60) for s in view.canary_servers[:CANARY_NAMED])
    extra = len(view.canary_servers) - CANARY_NAMED
    if extra > 0:
        names += f", {texts.and_more(extra)}"
    return f"{texts.mode_canary(names)} · {total}"


def _note(view: TaskView) -> list[Block]:
    if not view.note.strip():
        return []
    return [section(f"{texts.NOTE_HEADING}\n{texts.safe(view.note.strip(), MAX_TEXT - 50)}")]


def _changes(view: TaskView) -> list[Block]:
    if not view.changes:
        return []
    shown = [f"• {texts.safe(texts.one_line(s), _SUBJECT)}" for s in view.changes[:CHANGES_SHOWN]]
    hidden = len(view.changes) - len(shown) + view.more_changes
    heading = texts.changes_heading(view.live_version)
    room = MAX_TEXT - len(heading) - 1
    return [section(f"{heading}\n{texts.join_within(shown, room, texts.and_more, extra=hidden)}")]


def _approved_count(view: TaskView) -> int:
    return sum(1 for a in view.approvals if a.decision == "approve")


def _approvals(view: TaskView) -> list[Block]:
    if view.kind == "rollback" or not (view.approvals_required or view.approvals):
        return []
    approvers = [texts.mention(a.reviewer) for a in view.approvals if a.decision == "approve"]
    lines = [texts.approvals_line(len(approvers), view.approvals_required)]
    if approvers:
        lines.append(texts.approved_by(approvers[:REVIEWERS_NAMED]))
    for rejection in (a for a in view.approvals if a.decision == "reject"):
        reason = texts.safe(rejection.comment.strip(), _REASON)
        lines.append(texts.rejected_by(texts.mention(rejection.reviewer), reason))
    if view.reviewers and view.status == "pending_approval":
        names = [texts.mention(r) for r in view.reviewers[:REVIEWERS_NAMED]]
        lines.append(texts.reviewers_line(names))
    return [section(texts.join_within(lines, MAX_TEXT, texts.and_more))]


def _hooks(view: TaskView) -> list[Block]:
    stages = [s for s in ids.HOOK_STAGES if view.hooks.get(s, "").strip()]
    if not stages:
        return [context(texts.NO_HOOKS)]
    blocks = [context(texts.HOOKS_HEADING)]
    for stage in stages:
        heading = texts.hook_heading(stage, view.hook_sources.get(stage, "typed"))
        script = texts.code_block(view.hooks[stage], MAX_TEXT - len(heading) - 1)
        blocks.append(section(f"{heading}\n{script}"))
    return blocks


def _buttons(view: TaskView) -> list[Block]:
    value, status = str(view.id), view.status
    elements: list[dict[str, Any]] = []
    if status == "pending_approval":
        elements.append(button(texts.APPROVE, ids.APPROVE, value, style="primary"))
        elements.append(button(texts.REJECT, ids.REJECT, value, style="danger"))
    if status == "canary":
        elements.append(button(texts.PROMOTE, ids.PROMOTE, value, style="primary"))
    if status == "paused":
        elements.append(button(texts.CONTINUE, ids.CONTINUE, value, style="primary"))
        if _failed_in_done_steps(view):
            elements.append(button(texts.RETRY, ids.RETRY, value))
        elements.append(
            button(texts.ABORT, ids.ABORT, value, style="danger", confirm=_confirm_abort())
        )
    if status in ("failed", "interrupted"):
        elements.append(button(texts.RETRY, ids.RETRY, value, style="primary"))
    if status in ("succeeded", "failed"):
        elements.append(button(texts.ROLLBACK, ids.ROLLBACK, value, confirm=_confirm_rollback()))
    if status in CANCELLABLE:
        elements.append(button(texts.CANCEL, ids.CANCEL, value, confirm=_confirm_cancel()))
    if view.log_url:  # the message is shared: a click asks for a link signed for the clicker
        elements.append(button(texts.VIEW_LOGS, ids.VIEW_LOGS, value))
    return [ids.actions(elements, ids.TASK_BUTTONS_BLOCK)] if elements else []


def _confirm_cancel() -> dict[str, Any]:
    return confirm(
        texts.CONFIRM_CANCEL_TITLE, texts.CONFIRM_CANCEL_TEXT, texts.CONFIRM_YES, texts.CONFIRM_NO
    )


def _confirm_abort() -> dict[str, Any]:
    return confirm(
        texts.CONFIRM_ABORT_TITLE, texts.CONFIRM_ABORT_TEXT, texts.CONFIRM_YES, texts.CONFIRM_NO
    )


def _confirm_rollback() -> dict[str, Any]:
    return confirm(
        texts.CONFIRM_ROLLBACK_TITLE,
        texts.CONFIRM_ROLLBACK_TEXT,
        texts.CONFIRM_YES,
        texts.CONFIRM_NO,
    )
