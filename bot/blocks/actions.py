"""Block Kit vocabulary shared by the builders: stable ids, Slack's limits, small constructors.

Listeners find buttons, inputs and suggestions by the ids below (`app.action(APPROVE)`,
`app.options(REF)`, `app.view(DEPLOY_CALLBACK)`), so they never change once released. Every
button's `value` is the task id as a string.
"""

from __future__ import annotations

from typing import Any, Final

from bot.texts import clip

Block = dict[str, Any]

# --- Task message buttons --------------------------------------------------------------------

APPROVE: Final = "hoist.approve"
REJECT: Final = "hoist.reject"
CANCEL: Final = "hoist.cancel"
RETRY: Final = "hoist.retry"
ROLLBACK: Final = "hoist.rollback"
PROMOTE: Final = "hoist.promote"
CONTINUE: Final = "hoist.continue"
"""A paused rollout goes on with its next step."""
ABORT: Final = "hoist.abort"
"""A paused rollout stops, and the servers it switched go back (asks to confirm)."""
VIEW_LOGS: Final = "hoist.view_logs"
TASK_ACTIONS: Final = (
    APPROVE,
    REJECT,
    CANCEL,
    RETRY,
    ROLLBACK,
    PROMOTE,
    CONTINUE,
    ABORT,
    VIEW_LOGS,
)

TASK_BUTTONS_BLOCK: Final = "hoist.task.buttons"
PROGRESS_BLOCK: Final = "hoist.task.progress"

# --- Reject modal ----------------------------------------------------------------------------

REJECT_CALLBACK: Final = "hoist.reject"
REJECT_REASON_BLOCK: Final = "hoist.reject.reason"
REJECT_REASON: Final = "hoist.reject.reason"

# --- /deploy modal: block_id and action_id are the same string for each input ----------------

DEPLOY_CALLBACK: Final = "hoist.deploy"
PROJECT: Final = "hoist.deploy.project"
ENV: Final = "hoist.deploy.env"
REF: Final = "hoist.deploy.ref"
COMMIT: Final = "hoist.deploy.commit"
DESCRIPTION: Final = "hoist.deploy.description"
MODE: Final = "hoist.deploy.mode"
CANARY_SERVERS: Final = "hoist.deploy.canary_servers"
PLAN: Final = "hoist.deploy.plan"
NO_PLAN: Final = "-"
"""The plan picker's value for "no plan" (no plan name can be `-`)."""
START_AT: Final = "hoist.deploy.start_at"
HOOK_STAGES: Final = ("pre_download", "post_download", "pre_deploy", "post_deploy")
HOOK_TEMPLATE: Final = {s: f"hoist.deploy.hook.{s}.template" for s in HOOK_STAGES}
HOOK_SCRIPT: Final = {s: f"hoist.deploy.hook.{s}.script" for s in HOOK_STAGES}
HOOK_SAVE: Final = {s: f"hoist.deploy.hook.{s}.save" for s in HOOK_STAGES}
HOOK_TITLE: Final = {s: f"hoist.deploy.hook.{s}.title" for s in HOOK_STAGES}
TYPED: Final = "typed"
"""The template picker's value for "type a script by hand"."""
SAVE_AS_TEMPLATE: Final = "save"

# --- Slack's limits ----------------------------------------------------------------------------

MAX_BLOCKS: Final = 50
MAX_MODAL_BLOCKS: Final = 100
MAX_TEXT: Final = 3000
MAX_FIELD: Final = 2000
MAX_FIELDS: Final = 10
MAX_HEADER: Final = 150
MAX_BUTTON: Final = 75
MAX_OPTION_TEXT: Final = 75
MAX_OPTION_VALUE: Final = 150
MAX_OPTIONS: Final = 100
MAX_MODAL_TITLE: Final = 24
MAX_PLACEHOLDER: Final = 150
MAX_URL: Final = 3000
MAX_FALLBACK: Final = 4000
"""Our own bound on a message's `text`: a notification line, not the message."""


# --- Constructors ------------------------------------------------------------------------------


def plain(text: str, limit: int = MAX_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def mrkdwn(text: str, limit: int = MAX_TEXT) -> dict[str, Any]:
    """A mrkdwn text object; `text` must already be escaped where it holds user input."""
    return {"type": "mrkdwn", "text": clip(text, limit) or " "}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, MAX_HEADER)}


def section(text: str, *, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    return block


def fields(pairs: list[tuple[str, str]]) -> Block:
    """A section of up to ten `label\\nvalue` fields, two to a row."""
    texts = [mrkdwn(f"{label}\n{value}", MAX_FIELD) for label, value in pairs[:MAX_FIELDS]]
    return {"type": "section", "fields": texts}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:10]]}


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text, MAX_BUTTON),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def link_button(text: str, action_id: str, url: str) -> dict[str, Any]:
    """A button that opens `url` (at most `MAX_URL` long); Slack still sends the click: ack it."""
    return {
        "type": "button",
        "text": plain(text, MAX_BUTTON),
        "action_id": action_id,
        "url": url,
    }


def confirm(title: str, text: str, yes: str, no: str) -> dict[str, Any]:
    return {
        "title": plain(title, 100),
        "text": plain(text, 300),
        "confirm": plain(yes, 30),
        "deny": plain(no, 30),
    }


def actions(elements: list[dict[str, Any]], block_id: str) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": elements[:25]}


def option(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    opt: dict[str, Any] = {"text": plain(text, MAX_OPTION_TEXT), "value": value}
    if description:
        opt["description"] = plain(description, MAX_OPTION_TEXT)
    return opt
