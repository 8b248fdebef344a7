"""Slack messages drawn in a terminal with rich: Block Kit and mrkdwn as a reader would see them.

Status emoji become coloured marks (green ✓, red ✗, yellow ↻ running, dim – skipped), buttons
become numbered labels (the numbers `click N` takes in interactive mode), and mentions become
names. On a terminal without UTF-8 the marks fall back to ASCII. Colour is rich's business: it
is on for a terminal and off for a pipe or a file.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from bot.sandbox import FakeSlack, Message, Version, Workspace

Names = Callable[[str], str]
"""A Slack id (user, group, channel) to the name a reader sees."""
JSON = dict[str, Any]

MARKS: dict[str, tuple[str, str, str]] = {
    # emoji: (glyph, ASCII glyph, style)
    "✅": ("✓", "+", "bold green"),
    "❌": ("✗", "x", "bold red"),
    "🔄": ("↻", "~", "bold yellow"),
    "➖": ("–", "-", "dim"),
    "⚪": ("·", ".", "dim"),
    "⏳": ("◷", "...", "yellow"),
    "⛔": ("⊘", "!", "bold red"),
    "🚫": ("⊘", "!", "dim"),
    "⚠️": ("!", "!", "bold yellow"),
    "🐤": ("◆", "*", "yellow"),
    "🗓️": ("◷", "@", "cyan"),
    "⌛": ("⌛", "!", "yellow"),
    "⏱️": ("", "", ""),
    "📦": ("", "", ""),
}
_EMOJI = re.compile("(" + "|".join(sorted(map(re.escape, MARKS), key=len, reverse=True)) + r") ?")
_SHORTCODE = re.compile(r":(no_entry|warning|lock|unlock|white_check_mark|x|rocket):")
_SHORTCODES = {"no_entry": "⛔", "warning": "⚠️", "white_check_mark": "✅", "x": "❌"}
_TOKEN = re.compile(
    r"```\n?(?P<pre>.*?)\n?```"
    r"|`(?P<code>[^`\n]+)`"
    r"|<(?P<link>[^<>\n]+)>"
    r"|(?<![\w*])\*(?P<bold>[^*\n]+)\*(?![\w*])"
    r"|(?<![\w_])_(?P<em>[^_\n]+)_(?![\w_])",
    re.S,
)
PANEL_WIDTH = 100


def names_in(workspace: Workspace) -> Names:
    """Names for the workspace's ids: `@alice`, `@reviewers`, `#deploys`."""

    def name(ref: str) -> str:
        if ref in workspace.users:
            return "@" + workspace.users[ref].name
        if ref in workspace.groups:
            return "@" + workspace.groups[ref].handle
        channel = workspace.find_channel(ref)
        return "#" + channel.name if channel is not None else ref

    return name


class Renderer:
    """Turns Block Kit into rich renderables for one console (which decides on UTF-8)."""

    def __init__(self, console: Console, names: Names) -> None:
        self.console = console
        self.names = names
        self.ascii = not console.encoding.lower().startswith("utf")

    def mark(self, emoji: str) -> str:
        """The glyph an emoji mark is drawn as on this console."""
        glyph, plain, _ = MARKS[emoji]
        return plain if self.ascii else glyph

    # -- mrkdwn --------------------------------------------------------------------------------

    def mrkdwn(self, source: str, style: str = "", *, code_lines: int = 8) -> Text:
        """One mrkdwn string as styled text."""
        source = _SHORTCODE.sub(lambda m: _SHORTCODES.get(m[1], ""), source)
        out = Text(style=style)
        at = 0
        for found in _TOKEN.finditer(source):
            self._plain(out, source[at : found.start()])
            self._token(out, found, code_lines)
            at = found.end()
        self._plain(out, source[at:])
        return out

    def _token(self, out: Text, found: re.Match[str], code_lines: int) -> None:
        if found["pre"] is not None:
            lines = html.unescape(found["pre"]).splitlines()
            if len(lines) > code_lines:
                lines = ["…"] + lines[-code_lines:]
            gutter = "  | " if self.ascii else "  │ "
            out.append("\n".join(gutter + line for line in lines), "cyan")
        elif found["code"] is not None:
            out.append(html.unescape(found["code"]), "cyan")
        elif found["link"] is not None:
            out.append(self._link(html.unescape(found["link"])), "bold blue")
        elif found["bold"] is not None:
            out.append_text(self.mrkdwn(found["bold"], "bold"))
        else:
            out.append_text(self.mrkdwn(found["em"], "italic"))

    def _link(self, inner: str) -> str:
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return self.names(target[1:])
        if target.startswith("!subteam^"):
            return label or self.names(target.removeprefix("!subteam^"))
        if target.startswith("#"):
            return "#" + label if label else self.names(target[1:])
        return label or target

    def _plain(self, out: Text, text: str, style: str = "") -> None:
        at = 0
        for found in _EMOJI.finditer(text):
            out.append(html.unescape(text[at : found.start()]), style)
            glyph, plain, mark_style = MARKS[found[1]]
            shown = plain if self.ascii else glyph
            if shown:
                out.append(shown + (" " if found[0].endswith(" ") else ""), mark_style)
            at = found.end()
        out.append(html.unescape(text[at:]), style)

    # -- blocks --------------------------------------------------------------------------------

    def blocks(self, blocks: list[JSON], *, code_lines: int = 8) -> list[RenderableType]:
        """Each block as a renderable, in order; unknown kinds are skipped."""
        parts: list[RenderableType] = []
        for block in blocks:
            kind = block.get("type")
            if kind == "header":
                parts.append(Text(block["text"]["text"], "bold"))
            elif kind == "section":
                parts.extend(self._section(block, code_lines))
            elif kind == "context":
                texts = [e.get("text", "") for e in block.get("elements", [])]
                parts.append(self.mrkdwn("  ".join(texts), "dim", code_lines=code_lines))
            elif kind == "divider":
                parts.append(Rule(style="dim", characters="-" if self.ascii else "─"))
            elif kind == "actions":
                parts.append(self.button_row(block.get("elements", [])))
        return parts

    def _section(self, block: JSON, code_lines: int) -> list[RenderableType]:
        parts: list[RenderableType] = []
        if "text" in block:
            parts.append(self.mrkdwn(block["text"]["text"], code_lines=code_lines))
        fields = [self.mrkdwn(f["text"]) for f in block.get("fields", [])]
        if fields:
            grid = Table.grid(padding=(0, 3), expand=False)
            grid.add_column(min_width=30)
            grid.add_column()
            for left in range(0, len(fields), 2):
                grid.add_row(*fields[left : left + 2])
            parts.append(grid)
        return parts

    def button_row(self, elements: list[JSON]) -> Text:
        row = Text()
        for number, element in enumerate(elements, 1):
            style = {"primary": "bold green", "danger": "bold red"}.get(element.get("style", ""))
            label = element["text"]["text"] + (
                " ↗" if element.get("url") and not self.ascii else ""
            )
            row.append(f"[{number}] ", "dim")
            row.append(label, style or "bold")
            row.append("   ")
        return row

    # -- whole messages ------------------------------------------------------------------------

    def message(self, blocks: list[JSON], text: str, title: str) -> Panel:
        """A channel message as a panel titled with where it is."""
        parts = self.blocks(blocks) if blocks else [self.mrkdwn(text)]
        return Panel(
            Group(*parts),
            title=Text(title, "bold"),
            title_align="left",
            box=box.ASCII if self.ascii else box.ROUNDED,
            width=min(self.console.width, PANEL_WIDTH),
            padding=(0, 1),
        )

    def reply(self, blocks: list[JSON], text: str) -> RenderableType:
        """A thread reply: indented under its message, its code cut to a few lines."""
        parts = self.blocks(blocks, code_lines=4) if blocks else [self.mrkdwn(text)]
        arrow = "-> " if self.ascii else "↳ "
        return indent(Group(Text(arrow + "in the thread:", "dim"), indent(Group(*parts))))

    def private(self, who: str, text: str, how: str) -> Text:
        """An ephemeral message or a direct message from the bot to one person."""
        line = Text(f"  {how} {self.names(who)}: ", "dim italic")
        return line.append_text(self.mrkdwn(text))


def indent(renderable: RenderableType, by: int = 2) -> Padding:
    """`renderable` shifted right, without padding its lines out to the console's width."""
    return Padding(renderable, (0, 0, 0, by), expand=False)


def buttons(blocks: list[JSON]) -> list[JSON]:
    """The buttons of a message's action blocks, in the order they are numbered."""
    found: list[JSON] = []
    for block in blocks:
        if block.get("type") == "actions":
            found.extend(e for e in block.get("elements", []) if e.get("type") == "button")
    return found


def progress_only(blocks: list[JSON]) -> list[JSON]:
    """The pipeline part of a task message: what follows its divider, without the buttons."""
    after = next((i for i, b in enumerate(blocks) if b.get("type") == "divider"), len(blocks))
    return [b for b in blocks[after + 1 :] if b.get("type") != "actions"]


# --- what changed in the stand-in Slack --------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """What the stand-in showed at one moment: message versions, replies, private notes."""

    versions: dict[str, int]
    replies: frozenset[str]
    private: frozenset[tuple[str, str]]


class SlackWatch:
    """Draws what the bot changed in one channel (and in private notes) since a `Mark`."""

    def __init__(self, fake: FakeSlack, renderer: Renderer, channel: str) -> None:
        self.fake = fake
        self.renderer = renderer
        self.channel = channel

    def private_notes(self, user: str | None = None) -> list[tuple[str, str, str, str]]:
        """(key, user, text, how) of every ephemeral message and bot DM, oldest first."""
        notes = [
            (f"e{e.channel}/{e.ts}", e.user, e.text or flatten(e.blocks), "only visible to")
            for e in self.fake.ephemerals(user=user)
        ]
        for person in [user] if user else list(self.fake.workspace.users):
            notes += [(f"d{m.ts}", person, m.text, "DM to") for m in self.fake.messages(person)]
        return notes

    def mark(self) -> Mark:
        messages = self.fake.messages(self.channel)
        versions = {m.ts: len(m.versions) for m in messages}
        replies = {r.ts for m in messages for r in self.fake.replies(self.channel, m.ts)}
        private = {(key, who) for key, who, _, _ in self.private_notes()}
        return Mark(versions, frozenset(replies), frozenset(private))

    def show_since(self, mark: Mark) -> int:
        """Print every note, message and reply that is new or changed; returns how many."""
        shown = 0
        for key, who, text, how in self.private_notes():
            if (key, who) not in mark.private:
                self.renderer.console.print(self.renderer.private(who, text, how))
                shown += 1
        for message in self.fake.messages(self.channel):
            seen = mark.versions.get(message.ts)
            if seen is None or len(message.versions) > seen:
                self._show_message(message, seen or 0)
                shown += 1
            for reply in self.fake.replies(self.channel, message.ts):
                if reply.ts not in mark.replies:
                    self.renderer.console.print(self.renderer.reply(reply.blocks, reply.text))
        return shown

    def show_channel(self) -> None:
        """Every message of the channel as it stands now."""
        for message in self.fake.messages(self.channel):
            self._show_message(message, len(message.versions), progress=False)

    def _show_message(self, message: Message, seen: int, *, progress: bool = True) -> None:
        console, renderer = self.renderer.console, self.renderer
        running = _busiest(message.versions[seen:-1])
        if running is not None and progress:
            sections = [b for b in progress_only(running) if b.get("type") == "section"]
            console.print(Text("  while it ran:", "dim"))
            console.print(indent(Group(*renderer.blocks(sections)), 4))
        title = f"{self.renderer.names(message.channel)} · hoist"
        if progress:
            title += " · new" if seen == 0 else f" · updated {len(message.versions) - seen}x"
        console.print(renderer.message(message.blocks, message.text, title))

    def last_message(self) -> Message | None:
        messages = self.fake.messages(self.channel)
        return messages[-1] if messages else None


def _busiest(versions: list[Version]) -> list[JSON] | None:
    """The blocks of the version with the most stages running, if any was running."""
    best, most = None, 0
    for version in versions:
        running = sum(str(b).count("🔄") for b in progress_only(version.blocks))
        if running > most:
            best, most = version.blocks, running
    return best


def flatten(blocks: list[JSON]) -> str:
    """Every text in some blocks, joined by newlines (for notes sent with blocks only)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(out)
