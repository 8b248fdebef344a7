"""Buttons on task messages. Every click is checked against the rules, not just drawn for them."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import texts
from bot.blocks import actions as ids
from bot.blocks.modal import reject_modal
from bot.hoist_bot import HoistBot
from core.errors import HoistError
from core.status import Decision
from core.weblinks import LINK_TTL


def register(app: AsyncApp, bot: HoistBot) -> None:
    async def ack_now(ack: Any) -> None:
        await ack()

    async def open_reject(body: dict[str, Any], client: Any, respond: Any) -> None:
        task_id = int(body["actions"][0]["value"])
        try:
            await bot.check_may_review(body["user"]["id"], task_id)
        except HoistError as error:
            await _private(bot, body, respond, f":no_entry: {error}")
            return
        await client.views_open(trigger_id=body["trigger_id"], view=reject_modal(task_id))

    async def click(body: dict[str, Any], respond: Any) -> None:
        action = body["actions"][0]
        user, task_id = body["user"]["id"], int(action["value"])
        try:
            reply = await on_click(bot, action["action_id"], user, task_id, body)
        except HoistError as error:
            reply = f":no_entry: {error}"
        if reply:
            await _private(bot, body, respond, reply)

    async def submit_reject(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        reason = values[ids.REJECT_REASON_BLOCK][ids.REJECT_REASON].get("value") or ""
        if not reason.strip():
            await ack(response_action="errors", errors={ids.REJECT_REASON_BLOCK: "say why"})
            return
        await ack()
        task_id = int(view["private_metadata"])
        try:
            await bot.decide(body["user"]["id"], task_id, Decision.REJECT, reason.strip())
        except HoistError as error:
            await bot.tell(body["user"]["id"], f":no_entry: {error}")

    app.action(ids.REJECT)(ack=ack_now, lazy=[open_reject])
    clicks = (
        ids.APPROVE,
        ids.CANCEL,
        ids.RETRY,
        ids.ROLLBACK,
        ids.PROMOTE,
        ids.CONTINUE,
        ids.ABORT,
        ids.VIEW_LOGS,
    )
    for action_id in clicks:
        app.action(action_id)(ack=ack_now, lazy=[click])
    app.view(ids.REJECT_CALLBACK)(submit_reject)


async def on_click(
    bot: HoistBot, action_id: str, user: str, task_id: int, body: dict[str, Any]
) -> str | None:
    """What a button does; returns a private reply for the person who clicked."""
    if action_id == ids.VIEW_LOGS:
        return texts.page_link(task_id, bot.page_link(user, task_id), bot.now() + LINK_TTL)
    if action_id == ids.APPROVE:
        return await bot.decide(user, task_id, Decision.APPROVE)
    if action_id == ids.ROLLBACK:
        return await bot.rollback_task(user, task_id, body.get("channel", {}).get("id", ""))
    if action_id == ids.CONTINUE:
        return await bot.continue_task(user, task_id)
    if action_id == ids.ABORT:
        return await bot.abort_task(user, task_id, body.get("channel", {}).get("id", ""))
    verb = {ids.CANCEL: "cancel", ids.RETRY: "retry", ids.PROMOTE: "promote"}[action_id]
    return await bot.task_action(user, verb, task_id)


async def _private(bot: HoistBot, body: dict[str, Any], respond: Any, text: str) -> None:
    """An answer only the clicker sees: ephemeral under the message, or, for a click in the
    App Home (which has no response_url), a direct message from the bot."""
    if body.get("response_url"):
        await respond(text=text, response_type="ephemeral", replace_original=False)
    else:
        await bot.tell(body["user"]["id"], text)
