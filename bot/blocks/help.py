"""`/deploy help`: every command in one message."""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.blocks.actions import MAX_TEXT, context, header, section
from bot.texts import join_within


def help_message() -> dict[str, Any]:
    """The command list (`text` and `blocks`), as an ephemeral reply or a DM."""
    lines = [texts.help_line(usage, what) for usage, what in texts.HELP_COMMANDS]
    body = join_within(lines, MAX_TEXT, texts.and_more)
    blocks = [header(texts.HELP_TITLE), section(body), context(texts.HELP_FOOTER)]
    return {"text": texts.HELP_FALLBACK, "blocks": blocks}
