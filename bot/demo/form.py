"""The `/deploy` modal filled in at the demo's prompt, field by field, through the stand-in Slack.

The walk asks the modal's inputs in the order they are drawn and re-reads the view after each
choice that makes the bot redraw it (project, environment, mode, a hook template: those are
clicked with `click_view`, and the walk waits for the new version). Pickers show numbered
options; the branch/tag and commit pickers ask the bot for matches (`block_suggestion`); text
is typed. What is chosen lives where Slack keeps it, in the view's state (`View.picked`).
Then it submits, and asks again the fields the bot marks as wrong.

Input comes from `read`, a function that returns the next line (None at the end of input), so
the walk runs the same from a terminal or a test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.text import Text

from bot.blocks import actions as ids
from bot.demo.render import Renderer
from bot.sandbox import FakeSlack, StandInError, View
from bot.sandbox.payloads import initial_value, selection

Reader = Callable[[], Awaitable[str | None]]
"""The next line the person types (without its newline or with it), or None at the end."""
JSON = dict[str, Any]

REDRAW_WAIT = 10.0
"""Seconds to wait for the bot to redraw the form after a choice that changes it."""
MAX_MATCHES = 10
CANCEL = "cancel"
END_SCRIPT = "."
SKIPPED = {ids.START_AT}
"""Inputs the prompt leaves alone: scheduled releases are not available yet."""
CHOICES = {"static_select", "radio_buttons", "checkboxes", "multi_static_select"}
SEARCHES = {"external_select"}
MULTI = {"checkboxes", "multi_static_select"}
STAGE_OF = {
    block_id: stage
    for table in (ids.HOOK_TEMPLATE, ids.HOOK_SCRIPT, ids.HOOK_SAVE, ids.HOOK_TITLE)
    for stage, block_id in table.items()
}


@dataclass
class FormResult:
    """How the walk ended."""

    submitted: bool = False
    """The bot accepted the form (the modal closed)."""
    leftover: str | None = None
    """A prompt command typed where an answer was expected: the person left to do that."""
    ended: bool = False
    """Input ended in the middle of the form."""


class _Leave(Exception):
    def __init__(self, result: FormResult) -> None:
        super().__init__("left the form")
        self.result = result


@dataclass
class Field:
    """One input block of the view as drawn now."""

    block: JSON

    @property
    def block_id(self) -> str:
        return str(self.block["block_id"])

    @property
    def element(self) -> JSON:
        return dict(self.block["element"])

    @property
    def action_id(self) -> str:
        return str(self.element.get("action_id", ""))

    @property
    def kind(self) -> str:
        return str(self.element.get("type", ""))

    @property
    def optional(self) -> bool:
        return bool(self.block.get("optional"))

    @property
    def name(self) -> str:
        """The label, with the hook stage for a hook's inputs (their labels repeat)."""
        label = str(self.block.get("label", {}).get("text", self.block_id))
        stage = STAGE_OF.get(self.block_id)
        return f"{label} ({stage})" if stage else label


async def fill_form(
    fake: FakeSlack,
    user: str,
    view_id: str,
    read: Reader,
    console: Console,
    renderer: Renderer,
    *,
    settle: Callable[[], Awaitable[None]] | None = None,
    commands: Collection[str] = (),
) -> FormResult:
    """Walk the modal `view_id` of `user` at the prompt and submit it.

    `settle` is awaited after each redraw (e.g. until the bot's background work is done);
    `commands` are the prompt's command words: typed where a number is expected, they leave
    the form and come back as `FormResult.leftover`. `cancel` leaves it at any question.
    """
    walk = FormWalk(fake, user, view_id, read, console, renderer, settle, commands)
    try:
        return await walk.run()
    except _Leave as leaving:
        walk.close()
        return leaving.result


class FormWalk:
    """One pass over the form and its re-asks after the bot's field errors."""

    def __init__(
        self,
        fake: FakeSlack,
        user: str,
        view_id: str,
        read: Reader,
        console: Console,
        renderer: Renderer,
        settle: Callable[[], Awaitable[None]] | None,
        commands: Collection[str],
    ) -> None:
        self.fake, self.user, self.view_id = fake, user, view_id
        self.read, self.console, self.renderer = read, console, renderer
        self.settle, self.commands = settle, frozenset(commands)
        self.done: set[str] = set()
        self.shown: set[str] = set()

    @property
    def view(self) -> View:
        return self.fake.view(self.view_id)

    async def run(self) -> FormResult:
        while True:
            while (found := self.next_field()) is not None:
                index, field = found
                self.show_notes(index)
                self.done.add(field.block_id)
                await self.ask(field)
            self.show_notes(len(self.view.blocks))
            if "submit" not in self.view.spec:
                self.say("There is nothing to submit in this form.")
                raise _Leave(FormResult())
            if await self.submit():
                return FormResult(submitted=True)

    # -- walking -----------------------------------------------------------------------------

    def next_field(self) -> tuple[int, Field] | None:
        """The first input of the view as drawn now that is still to be asked."""
        for index, block in enumerate(self.view.blocks):
            if block.get("type") != "input" or not isinstance(block.get("element"), dict):
                continue
            field = Field(block)
            if field.block_id in self.done:
                continue
            if field.block_id in SKIPPED or self.pointless(field):
                self.done.add(field.block_id)
                continue
            return index, field
        return None

    def pointless(self, field: Field) -> bool:
        """A hook's save box without a script, or its title when not saving."""
        stage = STAGE_OF.get(field.block_id)
        if stage is None:
            return False
        if field.block_id == ids.HOOK_SAVE[stage]:
            return not str(self.current(ids.HOOK_SCRIPT[stage]).get("value") or "").strip()
        if field.block_id == ids.HOOK_TITLE[stage]:
            ticked = self.current(ids.HOOK_SAVE[stage]).get("selected_options") or []
            return not ticked
        return False

    def show_notes(self, before: int) -> None:
        """Sections and context lines drawn above `before` and not shown yet."""
        for block in self.view.blocks[:before]:
            if block.get("type") == "section" and isinstance(block.get("text"), dict):
                text, style = str(block["text"].get("text", "")), "bold"
            elif block.get("type") == "context":
                parts = [str(e.get("text", "")) for e in block.get("elements", [])]
                text, style = " ".join(parts), "dim"
            else:
                continue
            if text.strip() and text not in self.shown:
                self.shown.add(text)
                self.console.print(self.renderer.mrkdwn(text, style))

    async def ask(self, field: Field) -> None:
        if field.kind in CHOICES:
            await self.choose(field)
        elif field.kind in SEARCHES:
            await self.search(field)
        elif field.kind == "plain_text_input":
            await self.type_text(field)
        else:
            self.say(f"{field.name}: the prompt cannot fill a {field.kind}; left as it is.")

    # -- the kinds of input ----------------------------------------------------------------------

    async def choose(self, field: Field) -> None:
        """Numbered options; several numbers for checkboxes and multi-selects."""
        options: list[JSON] = list(field.element.get("options", []))
        multi = field.kind in MULTI
        held = self.held_values(field)
        self.label(field)
        for number, option in enumerate(options, 1):
            mark = "  (chosen)" if option.get("value") in held else ""
            self.console.print(f"  {number}. {_text(option)}{mark}", markup=False)
        keeps = "keep it" if held else "skip it"
        hint = "numbers" if multi else "a number"
        if multi:
            hint += ", 0 for none"
        if held or field.optional:
            hint += f", Enter to {keeps}"
        while True:
            line = (await self.line(hint)).strip()
            if not line and (held or field.optional):
                return
            picked = _numbers(line, len(options), multi)
            if picked is not None:
                break
            if line.split(" ", 1)[0] in self.commands:
                self.say("You left the form.")
                raise _Leave(FormResult(leftover=line))
            self.say(f"Type {hint} (1 to {len(options)}), or `{CANCEL}` to leave the form.")
        values = [str(options[n - 1]["value"]) for n in picked]
        if field.block.get("dispatch_action") and not multi:
            await self.click(field, values[0])
        else:
            self.remember(field, values if multi else values[0])

    async def search(self, field: Field) -> None:
        """An external select: the bot's matches for what is typed, up to ten, numbered."""
        self.label(field)
        held = self.held_values(field)
        skip = "keep it" if held else "skip it"
        hint = "type to search" + (f", Enter to {skip}" if held or field.optional else "")
        query = (await self.line(hint)).strip()
        while True:
            if not query and (held or field.optional):
                return
            found = await self.fake.block_suggestion(
                self.user, self.view_id, field.action_id, field.block_id, query
            )
            matches = _options(found)[:MAX_MATCHES]
            if not matches:
                query = (await self.line(f"no matches for {query!r}; type another search")).strip()
                continue
            for number, (group, option) in enumerate(matches, 1):
                where = f"  [{group}]" if group else ""
                self.console.print(f"  {number}. {_text(option)}{where}", markup=False)
            answer = (await self.line("a number, or another search")).strip()
            picked = _numbers(answer, len(matches), multi=False)
            if picked is not None:
                self.remember(field, {"selected_option": matches[picked[0] - 1][1]})
                return
            query = answer

    async def type_text(self, field: Field) -> None:
        """A line of text; a hook's script is lines up to a line with a single `.`."""
        self.label(field)
        held = bool(self.current(field.block_id).get("value"))
        keep = ", Enter to keep it" if held else ", Enter to skip it" if field.optional else ""
        if field.block_id in STAGE_OF and field.element.get("multiline"):
            first = await self.line(f"type the script, end with a line `{END_SCRIPT}`{keep}")
            if not first.strip():
                return
            lines = [first]
            while (more := await self.line("", raw=True)) != END_SCRIPT:
                lines.append(more)
            self.remember(field, "\n".join(lines))
            return
        while True:
            text = await self.line(f"type it{keep}")
            if text.strip() or held or field.optional:
                break
            self.say(f"{field.name} cannot be empty.")
        if text.strip():
            self.remember(field, text)

    # -- Slack -----------------------------------------------------------------------------------

    async def click(self, field: Field, value: str) -> None:
        """Pick `value` in an input that makes the bot redraw; wait for the new drawing."""
        before = len(self.view.versions)
        reply = await self.fake.click_view(self.user, self.view_id, field.action_id, value)
        if reply.status != 200:
            self.say(f"The bot answered HTTP {reply.status}.")
            return
        try:
            await self.fake.wait_for(
                lambda: len(self.view.versions) > before or None, timeout=REDRAW_WAIT
            )
        except TimeoutError:
            self.say("The bot did not redraw the form; going on with it as it is.")
        if self.settle is not None:
            await self.settle()

    def remember(self, field: Field, value: Any) -> None:
        """What the person chose, kept in the view's state as Slack's client keeps it."""
        typed = value if isinstance(value, dict) else selection(field.element, value)
        state = {"type": field.kind} | typed
        self.view.picked.setdefault(field.block_id, {})[field.action_id] = state

    def current(self, block_id: str) -> JSON:
        """What an input holds now: chosen, else its initial value."""
        chosen = self.view.picked.get(block_id, {})
        for block in self.view.blocks:
            if block.get("block_id") != block_id or not isinstance(block.get("element"), dict):
                continue
            element = block["element"]
            if element.get("action_id") in chosen:
                return dict(chosen[element["action_id"]])
            return initial_value(element) or {}
        return {}

    def held_values(self, field: Field) -> list[str]:
        held = self.current(field.block_id)
        options = held.get("selected_options") or [held.get("selected_option") or {}]
        return [str(o["value"]) for o in options if o and o.get("value")]

    async def submit(self) -> bool:
        """Submit; True when the bot accepted the form, False after showing its field errors."""
        try:
            reply = await self.fake.submit_view(self.user, self.view_id, {})
        except StandInError as refused:
            self.say(f"Slack would not submit the form: {refused}")
            raise _Leave(FormResult()) from None
        if reply.status != 200:
            self.say(f"The bot answered HTTP {reply.status}; the form stays open.")
            raise _Leave(FormResult())
        view = self.view
        if not view.is_open or not view.errors:
            return True
        fields = {f.block_id: f for f in self.fields()}
        self.say("The bot sent the form back:")
        for block_id, error in view.errors.items():
            name = fields[block_id].name if block_id in fields else block_id
            self.console.print(Text(f"  {name}: ", "bold red") + self.renderer.mrkdwn(error))
        again = [b for b in view.errors if b in fields]
        if not again:
            self.say("None of those fields can be changed here.")
            raise _Leave(FormResult())
        self.done.difference_update(again)
        return False

    def fields(self) -> list[Field]:
        blocks = self.view.blocks
        return [Field(b) for b in blocks if b.get("type") == "input" and "element" in b]

    def close(self) -> None:
        """The person closes the modal (as its Cancel button would)."""
        if self.view.is_open:
            self.fake.views.close(self.view_id)

    # -- the prompt ------------------------------------------------------------------------------

    def label(self, field: Field) -> None:
        optional = " (optional)" if field.optional else ""
        self.console.print(Text(f"{field.name}{optional}", "bold"))

    async def line(self, hint: str, *, raw: bool = False) -> str:
        """The next line typed (`cancel` leaves the form, as does the end of input)."""
        self.console.print(Text(f"  {hint}> " if hint else "  ", "cyan"), end="")
        line = await self.read()
        if line is None:
            self.console.print()
            raise _Leave(FormResult(ended=True))
        line = line.rstrip("\r\n")
        if not raw and line.strip() == CANCEL:
            self.say("You left the form.")
            raise _Leave(FormResult())
        return line

    def say(self, text: str) -> None:
        self.console.print(self.renderer.mrkdwn(text, "dim"))


def _text(option: JSON) -> str:
    return str(option.get("text", {}).get("text", option.get("value", "")))


def _options(found: JSON) -> list[tuple[str, JSON]]:
    """An options answer's options, each with its group's label ('' when not grouped)."""
    grouped = [
        (_text({"text": g.get("label", {})}), dict(o))
        for g in found.get("option_groups", [])
        for o in g.get("options", [])
    ]
    return grouped + [("", dict(o)) for o in found.get("options", [])]


def _numbers(line: str, count: int, multi: bool) -> list[int] | None:
    """The option numbers in `line` (1 to `count`; one unless `multi`; `0` is none), or None."""
    words = line.replace(",", " ").split()
    if not words or not all(w.isdigit() for w in words):
        return None
    numbers = [int(w) for w in words]
    if multi and numbers == [0]:
        return []
    if (not multi and len(numbers) != 1) or not all(1 <= n <= count for n in numbers):
        return None
    return list(dict.fromkeys(numbers))
