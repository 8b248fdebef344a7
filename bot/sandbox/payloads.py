"""What Slack sends an app, built as plain data: slash commands, interactions, events.

Pure functions of the workspace and the stored messages and views. Slack form-encodes slash
commands, puts interaction payloads as JSON in a form field named `payload`, and sends Events
API envelopes as a JSON body; `form_body`, `payload_body` and `event_body` produce those bytes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode

from bot.sandbox.state import StandInError
from bot.sandbox.workspace import JSON, Channel, Workspace

__all__ = [
    "app_home_opened",
    "block_actions",
    "block_suggestion",
    "command_form",
    "event_body",
    "find_element",
    "form_body",
    "payload_body",
    "state_values",
    "view_submission",
    "with_block_ids",
]

_SELECTED: dict[str, tuple[str, str]] = {
    "plain_text_input": ("value", "raw"),
    "number_input": ("value", "raw"),
    "email_text_input": ("value", "raw"),
    "url_text_input": ("value", "raw"),
    "static_select": ("selected_option", "option"),
    "external_select": ("selected_option", "option"),
    "radio_buttons": ("selected_option", "option"),
    "overflow": ("selected_option", "option"),
    "multi_static_select": ("selected_options", "options"),
    "multi_external_select": ("selected_options", "options"),
    "checkboxes": ("selected_options", "options"),
    "users_select": ("selected_user", "raw"),
    "multi_users_select": ("selected_users", "raw"),
    "conversations_select": ("selected_conversation", "raw"),
    "multi_conversations_select": ("selected_conversations", "raw"),
    "channels_select": ("selected_channel", "raw"),
    "multi_channels_select": ("selected_channels", "raw"),
    "datepicker": ("selected_date", "raw"),
    "timepicker": ("selected_time", "raw"),
    "datetimepicker": ("selected_date_time", "raw"),
}
"""Where each element type puts its value in `state.values` and in an action."""


def form_body(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


def payload_body(payload: JSON) -> bytes:
    """An interaction request body: `payload=<JSON>`, form-encoded."""
    return form_body({"payload": json.dumps(payload, separators=(",", ":"))})


def event_body(envelope: JSON) -> bytes:
    return json.dumps(envelope, separators=(",", ":")).encode()


def with_block_ids(blocks: list[JSON]) -> list[JSON]:
    """The blocks with a block_id on each, as Slack fills in the ones an app leaves out."""
    return [
        block if "block_id" in block else block | {"block_id": _auto_id(i, block)}
        for i, block in enumerate(blocks)
    ]


def _auto_id(index: int, block: JSON) -> str:
    digest = hashlib.sha1(json.dumps([index, block], sort_keys=True).encode()).hexdigest()
    return digest[:5]


def _elements(block: JSON) -> list[JSON]:
    if block.get("type") == "actions":
        return list(block.get("elements", []))
    inner = block.get("accessory") or block.get("element")
    return [inner] if isinstance(inner, dict) else []


def _options(element: JSON) -> list[JSON]:
    options = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options.extend(group.get("options", []))
    return options


def find_element(blocks: list[JSON], action_id: str, value: str | None) -> tuple[str, JSON]:
    """The block_id and element a user would click: `action_id`, and `value` if given."""
    for block in with_block_ids(blocks):
        for element in _elements(block):
            if element.get("action_id") != action_id:
                continue
            values = [element.get("value")] + [o.get("value") for o in _options(element)]
            if value is None or value in values:
                return str(block["block_id"]), element
    raise StandInError(f"Nothing with action_id {action_id!r} and value {value!r} is on screen.")


def _option(element: JSON, value: str) -> JSON:
    found = next((o for o in _options(element) if o.get("value") == value), None)
    return found or {"text": {"type": "plain_text", "text": value}, "value": value}


def selection(element: JSON, value: Any) -> JSON:
    """The typed value of an element: `{"selected_option": …}`, `{"value": …}`, …"""
    key, kind = _SELECTED.get(str(element.get("type")), ("value", "raw"))
    if kind == "option" and value is not None:
        value = _option(element, str(value))
    elif kind == "options":
        value = [_option(element, str(v)) for v in value or []]
    return {key: value}


_INITIAL = {
    "initial_option": "selected_option",
    "initial_options": "selected_options",
    "initial_value": "value",
    "initial_date_time": "selected_date_time",
    "initial_date": "selected_date",
}


def initial_value(element: JSON) -> JSON | None:
    """What an input holds before the user touches it, as Slack reports it in the state."""
    for initial, selected in _INITIAL.items():
        if initial in element:
            return {selected: element[initial]}
    return None


def action(block_id: str, element: JSON, value: str | None, action_ts: str) -> JSON:
    """One entry of `actions` in a block_actions payload."""
    entry: JSON = {"type": element.get("type"), "action_id": element.get("action_id")}
    entry |= {"block_id": block_id, "action_ts": action_ts}
    if element.get("type") == "button":
        keep = ("text", "value", "style", "url")
        return entry | {k: element[k] for k in keep if k in element}
    return entry | selection(element, value)


def state_values(blocks: list[JSON], values: dict[str, dict[str, Any]]) -> JSON:
    """`view.state.values` for a submission: every input block, filled from `values`.

    `values` maps block_id → action_id → a plain value (text, option value, user id, or a
    list for multi-selects) or an already Slack-shaped dict. Leaving out a required input
    raises, because Slack's client would not let the user submit.
    """
    state: JSON = {}
    for block in with_block_ids(blocks):
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        block_id, action_id = str(block["block_id"]), str(element.get("action_id", ""))
        given = values.get(block_id, {}).get(action_id)
        if given is None:
            given = initial_value(element)
        if given is None and not block.get("optional"):
            raise StandInError(f"The required input {block_id}/{action_id} has no value.")
        typed = given if isinstance(given, dict) else selection(element, given)
        state[block_id] = {action_id: {"type": element.get("type")} | typed}
    return state


def _interaction(ws: Workspace, kind: str, user: str) -> JSON:
    return {
        "type": kind,
        "user": ws.user_brief(user),
        "api_app_id": ws.app_id,
        "token": ws.verification_token,
        "team": ws.team(),
        "enterprise": None,
        "is_enterprise_install": False,
    }


def block_actions(
    ws: Workspace, user: str, trigger_id: str, actions: list[JSON], **where: Any
) -> JSON:
    """A block_actions payload; `where` holds container, channel, message, view, response_url."""
    body = _interaction(ws, "block_actions", user)
    return body | {"trigger_id": trigger_id, "state": {"values": {}}, "actions": actions} | where


def view_submission(ws: Workspace, user: str, trigger_id: str, view: JSON) -> JSON:
    body = _interaction(ws, "view_submission", user)
    return body | {"trigger_id": trigger_id, "view": view, "response_urls": []}


def block_suggestion(
    ws: Workspace, user: str, view: JSON, found: tuple[str, str], value: str
) -> JSON:
    """An options request from an external select: `found` is (block_id, action_id)."""
    body = _interaction(ws, "block_suggestion", user)
    container = {"type": "view", "view_id": view["id"]}
    block_id, action_id = found
    return (
        body
        | {"container": container, "view": view, "block_id": block_id}
        | {
            "action_id": action_id,
            "value": value,
        }
    )


def command_form(ws: Workspace, user: str, channel: Channel, **fields: str) -> dict[str, str]:
    """A slash command's form fields; `fields` gives command, text, response_url, trigger_id."""
    return {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "team_domain": ws.domain,
        "channel_id": channel.id,
        "channel_name": "directmessage" if channel.im_user else channel.name,
        "user_id": user,
        "user_name": ws.user_brief(user)["name"],
        "command": fields["command"],
        "text": fields["text"],
        "api_app_id": ws.app_id,
        "is_enterprise_install": "false",
        "response_url": fields["response_url"],
        "trigger_id": fields["trigger_id"],
    }


def app_home_opened(ws: Workspace, user: str, channel: str, view: JSON | None, ts: str) -> JSON:
    """The Events API envelope of a user opening the app's Home tab."""
    event: JSON = {"type": "app_home_opened", "user": user, "channel": channel, "tab": "home"}
    event["event_ts"] = ts
    if view is not None:
        event["view"] = view
    authorization: JSON = {"enterprise_id": None, "team_id": ws.team_id, "user_id": ws.bot_user_id}
    authorization |= {"is_bot": True, "is_enterprise_install": False}
    return {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "api_app_id": ws.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": "Ev" + hashlib.sha1(ts.encode()).hexdigest()[:9].upper(),
        "event_time": int(float(ts)),
        "authorizations": [authorization],
        "is_ext_shared_channel": False,
    }
