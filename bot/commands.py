"""The `/deploy` slash command: ack at once, do the work after, answer the user privately."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import command_parser as parser
from bot.blocks.help import help_message
from bot.hoist_bot import HoistBot
from bot.modal_flow import open_deploy_modal
from bot.reports import history_text, schedule_text, status_text
from core.errors import HoistError


def register(app: AsyncApp, bot: HoistBot) -> None:
    async def ack_now(ack: Any) -> None:
        await ack()

    async def handle(body: dict[str, Any], respond: Any, client: Any) -> None:
        user, channel = body["user_id"], body["channel_id"]
        try:
            command = parser.parse(body.get("text", ""))
            reply = await run(bot, command, user, channel, body.get("trigger_id", ""))
        except HoistError as error:
            reply = f":warning: {error}"
        if isinstance(reply, dict):
            await respond(response_type="ephemeral", **reply)
        elif reply:
            await respond(text=reply, response_type="ephemeral")

    app.command("/deploy")(ack=ack_now, lazy=[handle])


async def run(
    bot: HoistBot, command: parser.Command, user: str, channel: str, trigger_id: str
) -> str | dict[str, Any] | None:
    """Carry out one parsed command; returns the private reply."""
    match command:
        case parser.OpenModal():
            await open_deploy_modal(bot, user, trigger_id)
            return None
        case parser.Help():
            return help_message()
        case parser.Deploy():
            return await bot.deploy(user, channel, command)
        case parser.Status():
            return await status_text(bot, command, user)
        case parser.History():
            return await history_text(command.project, command.env)
        case parser.TaskAction(verb="continue"):
            return await bot.continue_task(user, command.task_id)
        case parser.TaskAction(verb="abort"):
            return await bot.abort_task(user, command.task_id, channel)
        case parser.TaskAction():
            return await bot.task_action(user, command.verb, command.task_id)
        case parser.Rollback():
            return await bot.rollback(user, channel, command.project, command.env, command.version)
        case parser.Lock():
            return await bot.lock(user, command)
        case parser.Unlock():
            return await bot.unlock(user, command)
        case parser.Reschedule():
            return await bot.reschedule(user, command.task_id, command.at)
        case parser.Schedule():
            return await schedule_text(command.project, bot.now())
    return None
