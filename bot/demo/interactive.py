"""`hoist demo --interactive`: the demo's sandbox with you at the keyboard instead of the script.

You act as alice, bob or carol in the stand-in Slack: type `/deploy …`, press buttons by their
number, look at the channel. Standard input is read by a daemon thread, so the bot keeps serving
while the prompt waits and Ctrl-C never hangs on a half-typed line.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Awaitable
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.demo.form import Reader, fill_form
from bot.demo.render import Renderer, SlackWatch, buttons, names_in
from bot.demo.setup import CHANNEL, SERVERS, Sandbox
from bot.sandbox import BotReply

PEOPLE = {"alice": "U0ALICE00", "bob": "U0BOB0000", "carol": "U0CAROL00"}
COMMANDS = ("as", "/deploy", "click", "messages", "servers", "help", "?", "quit", "exit", "q")
"""The prompt's command words; typed where the form expects a number, they leave the form."""
ANSWER_WAIT = 5.0
"""Seconds to wait for the bot's private answer before showing what changed anyway."""
HELP = """Commands:
  as alice|bob|carol   act as someone else (bob and carol review prod)
  /deploy TEXT         a slash command: `/deploy shop test v1.1`, `/deploy help`
  /deploy              the deploy form, filled in here field by field
  click N              press button N of the last message in #deploys
  messages             every message in #deploys as it stands
  servers              which release each server's links point at
  help                 this list
  quit                 stop the bot, the servers and the stand-in, and leave"""


async def play_interactively(
    sandbox: Sandbox, console: Console, stream: TextIO | None = None
) -> None:
    """A prompt loop until `quit` or the end of input."""
    source = stream or sys.stdin
    session = Session(sandbox, console, line_reader(source, console))
    session.introduce()
    while True:
        console.print(Text(f"{session.name}> ", "bold cyan"), end="")
        line = await session.read()
        if line is None:
            console.print()
            return
        if not await session.handle(line.strip()):
            return


def line_reader(stream: TextIO, console: Console) -> Reader:
    """The next line typed on `stream`, echoed when it is not a terminal (which shows it)."""
    echoed = stream.isatty()
    lines = read_lines(stream)

    async def read() -> str | None:
        line = await lines.get()
        if line is not None and not echoed:
            console.print(line.rstrip("\n"), markup=False, highlight=False)
        return line

    return read


def read_lines(stream: TextIO) -> asyncio.Queue[str | None]:
    """Lines from `stream` as they are typed (None at the end), read on a daemon thread."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        with contextlib.suppress(RuntimeError, ValueError):  # the loop or stream has closed
            for line in stream:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="hoist-demo-input", daemon=True).start()
    return queue


class Session:
    """One person at the prompt, acting in the stand-in Slack."""

    def __init__(self, sandbox: Sandbox, console: Console, read: Reader) -> None:
        self.sandbox = sandbox
        self.read = read
        self.fake = sandbox.fake
        self.console = console
        self.renderer = Renderer(console, names_in(self.fake.workspace))
        self.watch = SlackWatch(self.fake, self.renderer, CHANNEL)
        self.name = "alice"

    @property
    def user(self) -> str:
        return PEOPLE[self.name]

    def introduce(self) -> None:
        self.console.print()
        self.console.print(HELP, markup=False)
        self.console.print()
        self.console.print(real_slack_help(self.sandbox), markup=False)
        self.console.print()

    async def handle(self, line: str) -> bool:
        """Do what one line asks; False to leave."""
        word, _, rest = line.partition(" ")
        if word in ("quit", "exit", "q"):
            return False
        if word == "as":
            self.switch(rest.strip())
        elif word == "/deploy":
            form = await self.send(self.fake.slash_command(self.user, rest.strip(), CHANNEL))
            if form is not None:
                return await self.fill(form)
        elif word == "click":
            return await self.click(rest.strip())
        elif word == "messages":
            self.watch.show_channel()
        elif word == "servers":
            self.servers()
        elif word in ("help", "?"):
            self.console.print(HELP, markup=False)
        elif word:
            self.say(f"Unknown command `{word}`; type `help`.")
        return True

    def switch(self, name: str) -> None:
        if name not in PEOPLE:
            self.say(f"Who? One of: {', '.join(PEOPLE)}.")
            return
        self.name = name
        self.say(f"You are {name} now.")

    async def click(self, which: str) -> bool:
        """Press a button of the last message (filling in any form it opens); False to leave."""
        message = self.watch.last_message()
        shown = buttons(message.blocks) if message else []
        if not which.isdigit() or not 1 <= int(which) <= len(shown) or message is None:
            count = f"{len(shown)} button" + ("" if len(shown) == 1 else "s")
            self.say(f"The last message has {count}: `click 1` … `click {len(shown)}`.")
            return True
        button = shown[int(which) - 1]
        if button.get("url"):
            self.say(f"That button opens {button['url']}.")
            return True
        where = (message.channel, message.ts)
        action = self.fake.click(self.user, where, button["action_id"], button.get("value"))
        form = await self.send(action)
        return True if form is None else await self.fill(form)

    async def send(self, action: Awaitable[BotReply]) -> str | None:
        """Do it, wait for the bot's answer and for everything to settle, show what changed.

        The id of the modal it opened for this person, if it opened one.
        """
        mark = self.watch.mark()
        known = {key for key, *_ in self.watch.private_notes(self.user)}
        modals = {view.id for view in self.fake.modals(self.user)}
        reply = await action
        if reply.status != 200:
            self.say(f"The bot answered HTTP {reply.status}.")

        def opened() -> str | None:
            return next((v.id for v in self.fake.modals(self.user) if v.id not in modals), None)

        def answered() -> bool | None:
            notes = self.watch.private_notes(self.user)
            return any(key not in known for key, *_ in notes) or opened() is not None or None

        with contextlib.suppress(TimeoutError):
            await self.fake.wait_for(answered, timeout=ANSWER_WAIT)
        await self.sandbox.settle()
        if not self.watch.show_since(mark) and opened() is None:
            self.say("(nothing changed in Slack)")
        return opened()

    async def fill(self, view_id: str) -> bool:
        """Fill in and submit the modal `view_id` at the prompt; False when input ended."""
        self.say(
            "A form opened: fill it in here. Enter keeps what a field holds (or skips it), "
            "`cancel` leaves the form."
        )
        mark = self.watch.mark()
        known = {key for key, *_ in self.watch.private_notes(self.user)}
        result = await fill_form(
            self.fake,
            self.user,
            view_id,
            self.read,
            self.console,
            self.renderer,
            settle=self.sandbox.settle,
            commands=COMMANDS,
        )
        if result.submitted:

            def answered() -> bool | None:
                notes = self.watch.private_notes(self.user)
                return any(key not in known for key, *_ in notes) or None

            with contextlib.suppress(TimeoutError):
                await self.fake.wait_for(answered, timeout=ANSWER_WAIT)
            await self.sandbox.settle()
            self.watch.show_since(mark)
        if result.ended:
            return False
        return True if result.leftover is None else await self.handle(result.leftover)

    def servers(self) -> None:
        table = Table(header_style="bold")
        for column in ("server", "prod", "test"):
            table.add_column(column)
        for server in SERVERS:
            envs = [self.sandbox.live(server, env) or "-" for env in ("prod", "test")]
            table.add_row(server, *envs)
        self.console.print(table)

    def say(self, text: str) -> None:
        self.console.print(self.renderer.mrkdwn(text, "dim"))


def real_slack_help(sandbox: Sandbox) -> str:
    """How to put a real Slack app in front of this home and these servers."""
    home = sandbox.home
    return f"""The bot listens at {sandbox.bot.events_url}
  signing secret  {sandbox.signing_secret}
  Web API         {sandbox.fake.url} (the stand-in)

A real Slack app instead, while this prompt keeps the servers up:
  export HOIST_HOME={home}
  export SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=<your app's secret>
  hoist serve --port 3000    # with SLACK_API_URL unset: the bot calls slack.com
then set the app's /deploy command and Interactivity Request URL to
https://<public address>/slack/events (manifest.yml has the rest), and name
your reviewers with `hoist env set shop prod --reviewers <Slack ids>`."""
