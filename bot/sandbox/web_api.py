"""The Web API methods Hoist uses, each a function of the stand-in's state and the arguments.

A handler returns the fields of a successful answer (`ok` is added by `call`) or raises
`ApiError` with the code Slack would send. Arguments arrive already merged from the query
string and the form or JSON body; JSON-valued arguments (`blocks`, `view`) may still be
strings, as they are in form-encoded calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox.limits import MAX_MESSAGE_TEXT, block_errors, view_errors
from bot.sandbox.state import ApiError, ResponseHook, SlackState
from bot.sandbox.views import ViewStore
from bot.sandbox.workspace import JSON, Channel

__all__ = ["RATE_LIMITED", "Api", "call", "rate_key", "respond", "say"]

RATE_LIMITED = frozenset({"chat.postMessage", "chat.update"})
"""Methods under the per-channel message rate."""


@dataclass
class Api:
    state: SlackState
    views: ViewStore


Handler = Callable[[Api, JSON], JSON]


def _arg(p: JSON, name: str) -> str:
    value = p.get(name)
    if value in (None, ""):
        raise ApiError("invalid_arguments", f"[ERROR] missing required field: {name}")
    return str(value)


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _json_arg(p: JSON, name: str, error: str) -> Any:
    """A JSON-valued argument, decoded if it came as a string (form bodies)."""
    value = p.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except json.JSONDecodeError:
            raise ApiError(error) from None
    return value


def _blocks(p: JSON) -> list[JSON] | None:
    blocks = _json_arg(p, "blocks", "invalid_blocks_format")
    if blocks is not None and not isinstance(blocks, list):
        raise ApiError("invalid_blocks_format")
    return blocks


def _check_message(text: str | None, blocks: list[JSON] | None) -> None:
    if not text and not blocks:
        raise ApiError("no_text")
    if text is not None and len(text) > MAX_MESSAGE_TEXT:
        raise ApiError("msg_too_long")
    errors = [] if blocks is None else block_errors(blocks)
    if errors:
        raise ApiError("invalid_blocks", *errors)


def _channel(api: Api, p: JSON, posting: bool = False) -> Channel:
    """The channel an argument names; posting needs the bot in it (or a DM)."""
    channel = api.state.ws.find_channel(str(p.get("channel") or ""))
    if channel is None or (channel.is_private and not channel.is_member):
        raise ApiError("channel_not_found")
    if posting and not channel.is_member and channel.im_user is None:
        raise ApiError("not_in_channel")
    return channel


def _view(p: JSON) -> JSON:
    spec = _json_arg(p, "view", "invalid_arguments")
    errors = view_errors(spec)
    if errors:
        raise ApiError("invalid_arguments", *errors)
    assert isinstance(spec, dict)
    return spec


def auth_test(api: Api, p: JSON) -> JSON:
    ws = api.state.ws
    return {
        "url": ws.url,
        "team": ws.name,
        "user": ws.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def chat_post_message(api: Api, p: JSON) -> JSON:
    channel = _channel(api, p, posting=True)
    text, blocks = str(p.get("text") or ""), _blocks(p)
    _check_message(text, blocks)
    msg = api.state.post(channel.id, text, blocks or [], p.get("thread_ts") or None)
    return {"channel": channel.id, "ts": msg.ts, "message": msg.payload(api.state.ws)}


def chat_update(api: Api, p: JSON) -> JSON:
    channel = _channel(api, p)
    ts, text, blocks = _arg(p, "ts"), p.get("text"), _blocks(p)
    _check_message(None if text is None else str(text), blocks)
    msg = api.state.update(channel.id, ts, None if text is None else str(text), blocks)
    return {"channel": channel.id, "ts": ts, "text": msg.text, "message": msg.payload(api.state.ws)}


def chat_post_ephemeral(api: Api, p: JSON) -> JSON:
    channel = _channel(api, p, posting=True)
    user = _arg(p, "user")
    if user not in api.state.ws.users:
        raise ApiError("user_not_in_channel")
    text, blocks = str(p.get("text") or ""), _blocks(p)
    _check_message(text, blocks)
    thread_ts = p.get("thread_ts") or None
    note = api.state.post_ephemeral(
        channel.id, user, text, blocks or [], "chat.postEphemeral", thread_ts=thread_ts
    )
    return {"message_ts": note.ts}


def chat_get_permalink(api: Api, p: JSON) -> JSON:
    channel = _channel(api, p)
    msg = api.state.message(channel.id, _arg(p, "message_ts"))
    link = f"{api.state.ws.url}archives/{channel.id}/p{msg.ts.replace('.', '')}"
    if msg.thread_ts is not None:
        link += f"?thread_ts={msg.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


def views_open(api: Api, p: JSON) -> JSON:
    view = api.views.open(p.get("trigger_id"), _view(p))
    return {"view": view.payload(api.state.ws)}


def views_push(api: Api, p: JSON) -> JSON:
    view = api.views.push(p.get("trigger_id"), _view(p))
    return {"view": view.payload(api.state.ws)}


def views_update(api: Api, p: JSON) -> JSON:
    view = api.views.update(p.get("view_id"), p.get("external_id"), _view(p), p.get("hash"))
    return {"view": view.payload(api.state.ws)}


def views_publish(api: Api, p: JSON) -> JSON:
    view = api.views.publish(_arg(p, "user_id"), _view(p), p.get("hash"))
    return {"view": view.payload(api.state.ws)}


def users_info(api: Api, p: JSON) -> JSON:
    user = api.state.ws.users.get(_arg(p, "user"))
    if user is None:
        raise ApiError("user_not_found")
    return {"user": user.payload(api.state.ws.team_id)}


def usergroups_users_list(api: Api, p: JSON) -> JSON:
    group = _arg(p, "usergroup")
    if group not in api.state.ws.groups:
        raise ApiError("no_such_subteam")
    return {"users": list(api.state.ws.groups[group].users)}


def usergroups_list(api: Api, p: JSON) -> JSON:
    ws, with_users = api.state.ws, _flag(p.get("include_users"))
    return {"usergroups": [g.payload(ws.team_id, with_users) for g in ws.groups.values()]}


def conversations_info(api: Api, p: JSON) -> JSON:
    return {"channel": _channel(api, p).payload()}


def conversations_join(api: Api, p: JSON) -> JSON:
    channel = _channel(api, p)
    if channel.is_private or channel.im_user is not None:
        raise ApiError("method_not_supported_for_channel_type")
    answer: JSON = {"warning": "already_in_channel"} if channel.is_member else {}
    channel.is_member = True
    return answer | {"channel": channel.payload()}


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
    "users.info": users_info,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroups_users_list,
    "conversations.info": conversations_info,
    "conversations.join": conversations_join,
}


def call(api: Api, method: str, params: JSON) -> JSON:
    """Run one method; the whole answer body, `{"ok": false, ...}` included."""
    handler = METHODS.get(method)
    try:
        if handler is None:
            raise ApiError("unknown_method")
        return {"ok": True} | handler(api, params)
    except ApiError as refused:
        return refused.body()


def rate_key(api: Api, method: str, params: JSON) -> str | None:
    """The channel a rate-limited call counts against, or None if the method is not limited."""
    if method not in RATE_LIMITED:
        return None
    ref = str(params.get("channel") or "")
    channel = api.state.ws.find_channel(ref)
    return ref if channel is None else channel.id


def respond(api: Api, hook_id: str, body: JSON) -> JSON:
    """A post to a response_url: replace or delete the original, or say something new."""
    try:
        hook = api.state.use_hook(hook_id)
        text, blocks = str(body.get("text") or ""), _blocks(body)
        if hook.message_ts and _flag(body.get("delete_original")):
            _delete_original(api, hook)
            return {"ok": True}
        if hook.message_ts and _flag(body.get("replace_original")):
            _check_message(text, blocks)
            _replace_original(api, hook, text, blocks or [])
        else:
            say(api, hook.channel, hook.user, body, via="response_url")
        return {"ok": True}
    except ApiError as refused:
        return refused.body()


def say(api: Api, channel: str, user: str, body: JSON, via: str) -> None:
    """Post a reply body (`response_type` in_channel or, by default, ephemeral to `user`)."""
    text, blocks = str(body.get("text") or ""), _blocks(body)
    _check_message(text, blocks)
    thread_ts = body.get("thread_ts") or None
    if body.get("response_type") == "in_channel":
        api.state.post(channel, text, blocks or [], thread_ts)
    else:
        api.state.post_ephemeral(channel, user, text, blocks or [], via, thread_ts=thread_ts)


def _replace_original(api: Api, hook: ResponseHook, text: str, blocks: list[JSON]) -> None:
    assert hook.message_ts is not None
    note = api.state.find_ephemeral(hook.channel, hook.message_ts) if hook.ephemeral else None
    if note is not None:
        note.text, note.blocks = text, blocks
    else:
        api.state.update(hook.channel, hook.message_ts, text, blocks)


def _delete_original(api: Api, hook: ResponseHook) -> None:
    assert hook.message_ts is not None
    note = api.state.find_ephemeral(hook.channel, hook.message_ts) if hook.ephemeral else None
    if note is not None:
        note.deleted = True
    else:
        api.state.message(hook.channel, hook.message_ts).deleted = True
