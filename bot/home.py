"""The App Home tab (filled in by the scheduling work; for now a pointer to /deploy)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import texts
from bot.hoist_bot import HoistBot


def register(app: AsyncApp, bot: HoistBot) -> None:
    async def opened(event: dict[str, Any], client: Any) -> None:
        view = {
            "type": "home",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": texts.HOME_INTRO}},
            ],
        }
        await client.views_publish(user_id=event["user"], view=view)

    app.event("app_home_opened")(opened)
