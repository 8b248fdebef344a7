"""Channel announcements of scheduled releases, and of tasks that were interrupted."""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.blocks import actions as ids
from bot.blocks.actions import actions, button, section


def announcement(text: str, *details: str) -> dict[str, Any]:
    """One announcement: its line, then any detail sections (changes, reviewers)."""
    blocks = [section(text)] + [section(d) for d in details if d]
    return {"text": texts.clip(text, ids.MAX_FALLBACK), "blocks": blocks}


def interrupted(text: str, task_id: int) -> dict[str, Any]:
    """An interrupted task, offered a Retry (the same button as on the task's message)."""
    return {
        "text": texts.clip(text, ids.MAX_FALLBACK),
        "blocks": [
            section(text),
            actions(
                [button(texts.RETRY, ids.RETRY, str(task_id), style="primary")],
                f"{ids.TASK_BUTTONS_BLOCK}.{task_id}",
            ),
        ],
    }
