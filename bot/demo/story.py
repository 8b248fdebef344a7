"""The scripted story: people click in the stand-in Slack, the real bot ships, the demo checks.

Each step prints a line of narrative, does what a person would do in Slack, waits for the bot
to answer and for every run and message update to come to rest (events, never fixed sleeps),
draws the messages that changed, and then checks the outcome where it really is: the task in
the database and the link on each server's disk. The first check that fails ends the story.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot import texts
from bot.blocks import actions as ids
from bot.demo.render import Renderer, SlackWatch, buttons, flatten, names_in
from bot.demo.setup import CHANNEL, CHANNEL_NAME, PROJECT, SERVERS, Sandbox
from bot.sandbox import BotReply, Message
from core.status import NodeStatus, TaskKind, TaskStatus
from core.store.models import DeployTask, StageRun

ALICE, BOB, CAROL = "U0ALICE00", "U0BOB0000", "U0CAROL00"
WAIT = 30.0
"""Seconds to wait for the bot before calling a step failed; a healthy step takes well under 1."""
SMOKE_TEST = """# smoke test: the new release finds this server's settings
"$HOIST_RELEASE_DIR/bin/start" --check"""
T = TypeVar("T")


class CheckFailed(Exception):
    """A step did not do what it should: what was checked, what was expected, what happened."""

    def __init__(self, what: str, expected: object, happened: object) -> None:
        super().__init__(what)
        self.what, self.expected, self.happened = what, expected, happened


class Story:
    """Alice, Bob and Carol release the shop through the bot, step by step."""

    def __init__(self, sandbox: Sandbox, console: Console) -> None:
        self.sandbox = sandbox
        self.fake = sandbox.fake
        self.console = console
        self.renderer = Renderer(console, names_in(self.fake.workspace))
        self.watch = SlackWatch(self.fake, self.renderer, CHANNEL)
        self.steps = 0
        self.checks = 0
        self.form_errors: dict[str, str] = {}

    async def play(self) -> None:
        """The whole story; raises `CheckFailed` at the first step that goes wrong."""
        first = await self.request_v10()
        await self.first_approval(first)
        await self.second_approval(first)
        second = await self.request_v11_with_a_smoke_test()
        await self.approve_and_fail_on_web2(second)
        await self.fix_web2_and_retry(second)
        await self.roll_back(second, first)
        await self.final_table(first)

    # -- the steps -----------------------------------------------------------------------------

    async def request_v10(self) -> DeployTask:
        self.step(
            "alice asks for a release", f"alice types `/deploy shop prod v1.0` in {CHANNEL_NAME}"
        )
        text = await self.act(ALICE, self.fake.slash_command(ALICE, "shop prod v1.0", CHANNEL))
        task = await self.newest_task()
        self.check_in("alice is told her task number", f"#{task.id}", text)
        self.check(f"task #{task.id} waits for approval", TaskStatus.PENDING_APPROVAL, task.status)
        self.check_in("the message offers Approve", ids.APPROVE, self.actions(task))
        return task

    async def first_approval(self, task: DeployTask) -> None:
        self.step("bob approves", f"bob (in @reviewers) presses {self.button(task, ids.APPROVE)}")
        text = await self.click(BOB, task, ids.APPROVE)
        self.check_in("bob's approval is counted", "1 of 2", text)
        await task.refresh_from_db()
        self.check("one approval is not enough", TaskStatus.PENDING_APPROVAL, task.status)

    async def second_approval(self, task: DeployTask) -> None:
        self.step(
            "carol approves: the release goes out",
            f"carol presses {self.button(task, ids.APPROVE)}: that makes 2 of 2, so v1.0 ships "
            "to web1, web2 and web3",
        )
        text = await self.click(CAROL, task, ids.APPROVE)
        self.check_in("carol's approval is counted", "2 of 2", text)
        await task.refresh_from_db()
        self.check(f"task #{task.id} succeeded", TaskStatus.SUCCEEDED, task.status)
        self.check_servers(dict.fromkeys(SERVERS, task.version))

    async def request_v11_with_a_smoke_test(self) -> DeployTask:
        self.step(
            "alice asks for v1.1 with a smoke test",
            "alice types `/deploy`, picks shop → prod → tag v1.1 in the form, and types a "
            "post-deploy hook: `bin/start --check` (is this server's settings file there?)",
        )
        text = await self.act(ALICE, self.fill_the_form())
        task = await self.newest_task()
        self.check_in("alice is told her task number", f"#{task.id}", text)
        self.check("the form is accepted", {}, self.form_errors)
        self.check(f"task #{task.id} is tag v1.1", "v1.1", task.ref)
        shown = flatten(self.message(task).blocks)
        self.check_in("reviewers see the hook script", "bin/start", shown)
        return task

    async def approve_and_fail_on_web2(self, task: DeployTask) -> None:
        batches = "" if self.sandbox.isolated else " (batches of one stop there: web3 waits)"
        self.step(
            "bob and carol approve: the smoke test fails on web2",
            f"web2 was never given its settings file, so its post-deploy hook exits 1{batches}",
        )
        await self.click(BOB, task, ids.APPROVE)
        await self.click(CAROL, task, ids.APPROVE)
        await task.refresh_from_db()
        self.check(f"task #{task.id} failed", TaskStatus.FAILED, task.status)
        nodes = await self.nodes(task)
        hooks = {s: nodes.get(f"{s}/post_deploy", ("missing", None))[0] for s in SERVERS}
        web3 = NodeStatus.SUCCEEDED if self.sandbox.isolated else NodeStatus.SKIPPED
        expected = {"web1": "succeeded", "web2": "failed", "web3": str(web3)}
        self.check("web2's hook failed, and only web2's", expected, hooks)
        self.check_servers(dict.fromkeys(SERVERS, task.version))

    async def fix_web2_and_retry(self, task: DeployTask) -> None:
        self.step(
            "the settings arrive on web2; alice presses Retry failed",
            f"an operator writes {self.sandbox.settings_seen_by('web2')} on web2, then alice "
            f"presses {self.button(task, ids.RETRY)}: only what did not succeed runs again",
        )
        settings = self.sandbox.settings_file("web2")
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text("SHOP_DB=sqlite:///var/lib/shop.db\n")
        before = await self.nodes(task)
        text = await self.click(ALICE, task, ids.RETRY)
        self.check_in("alice is told it retries", "Retrying", text)
        await task.refresh_from_db()
        self.check(f"task #{task.id} succeeded", TaskStatus.SUCCEEDED, task.status)
        after = await self.nodes(task)
        rerun = [key for key, (_, done) in after.items() if before[key][1] != done]
        self.check_in("web2's hook ran again", "web2/post_deploy", rerun)
        done_before = [key for key, (status, _) in before.items() if status == "succeeded"]
        self.check(
            "nothing that had succeeded ran again", [], sorted(set(rerun) & set(done_before))
        )
        self.check_servers(dict.fromkeys(SERVERS, task.version))

    async def roll_back(self, task: DeployTask, previous: DeployTask) -> None:
        self.step(
            "alice rolls back",
            f"alice presses {self.button(task, ids.ROLLBACK)} on the v1.1 message and confirms: "
            "every server "
            "switches back to the v1.0 release already on it (nothing uploaded)",
        )
        text = await self.click(ALICE, task, ids.ROLLBACK)
        rollback = await self.newest_task()
        self.check_in("alice is told the rollback's number", f"#{rollback.id}", text)
        self.check(f"task #{rollback.id} is a rollback", TaskKind.ROLLBACK, rollback.kind)
        self.check(f"rollback #{rollback.id} succeeded", TaskStatus.SUCCEEDED, rollback.status)
        self.check_servers(dict.fromkeys(SERVERS, previous.version))

    async def final_table(self, expected: DeployTask) -> None:
        """Which release each server's link points at, read from its disk."""
        self.step("where every server stands", "each server's `prod/shop` link, read from its disk")
        table = Table(title=None, show_edge=True, header_style="bold")
        for column in ("server", "link points at", "ref", "expected"):
            table.add_column(column)
        for server in SERVERS:
            live = self.sandbox.live(server)
            task = await DeployTask.filter(version=live or "").order_by("id").first()
            ok = live == expected.version
            mark = Text("✓" if ok else "✗", "bold green" if ok else "bold red")
            table.add_row(server, live or "(no link)", task.ref if task else "?", mark)
        self.console.print(table)
        self.check_servers(dict.fromkeys(SERVERS, expected.version))

    # -- doing things in Slack -----------------------------------------------------------------

    def step(self, title: str, narrative: str) -> None:
        self.steps += 1
        self.console.print()
        self.console.rule(Text(f"Step {self.steps} · {title}", "bold"), align="left")
        self.console.print(self.renderer.mrkdwn(narrative))

    async def act(self, user: str, action: Awaitable[BotReply | None]) -> str:
        """Do something as `user`; wait for the bot's private answer and for all to settle."""
        mark = self.watch.mark()
        known = {key for key, *_ in self.watch.private_notes(user)}
        reply = await action
        if reply is not None and reply.status != 200:
            raise CheckFailed("Slack delivers the request to the bot", 200, reply.status)

        def answer() -> str | None:
            notes = self.watch.private_notes(user)
            return next((text for key, _, text, _ in notes if key not in known), None)

        text = await self.wait(answer, f"the bot answers {self.renderer.names(user)}")
        await self.sandbox.settle()
        await self.caught_up(await self.newest_task())
        self.watch.show_since(mark)
        return text

    async def caught_up(self, task: DeployTask) -> None:
        """Wait until the task's message shows the status its row has, and is fully posted.

        The bot's last redraw can trail the end of a run by a moment; once it shows, the
        notifier is busy until that redraw's thread replies are out too, so settle once more.
        """
        word = texts.STATUS.get(str(task.status), str(task.status))
        where = f"task #{task.id}'s message shows `{word}`"
        await self.wait(lambda: word in self.message(task).text or None, where)
        await self.sandbox.settle()

    async def click(self, user: str, task: DeployTask, action_id: str) -> str:
        """`user` presses a button on the task's message."""
        message = self.message(task)
        where = (message.channel, message.ts)
        return await self.act(user, self.fake.click(user, where, action_id, str(task.id)))

    async def fill_the_form(self) -> None:
        """The `/deploy` modal, filled in as alice would: project, env, a tag, a hook."""
        fake = self.fake
        await fake.slash_command(ALICE, "", CHANNEL)
        view = await self.wait(lambda: next(iter(fake.modals(ALICE)), None), "the form opens")
        await fake.click_view(ALICE, view.id, ids.PROJECT, PROJECT)
        await self.wait(lambda: ids.ENV in str(fake.view(view.id).spec) or None, "env picker")
        await fake.click_view(ALICE, view.id, ids.ENV, "prod")
        await self.wait(lambda: ids.MODE in str(fake.view(view.id).spec) or None, "mode picker")
        found = await fake.block_suggestion(ALICE, view.id, ids.REF, ids.REF, "v1.1")
        options = [o for g in found.get("option_groups", []) for o in g["options"]]
        tag = next((o for o in options if o["value"] == "refs/tags/v1.1"), None)
        if tag is None:
            raise CheckFailed("the ref picker offers tag v1.1", "refs/tags/v1.1", options)
        hook = ids.HOOK_SCRIPT["post_deploy"]
        values: dict[str, dict[str, Any]] = {
            ids.REF: {ids.REF: {"selected_option": tag}},
            hook: {hook: SMOKE_TEST},
            ids.DESCRIPTION: {ids.DESCRIPTION: "Cake is on the menu"},
        }
        await fake.submit_view(ALICE, view.id, values)
        self.form_errors = fake.view(view.id).errors

    async def wait(self, predicate: Callable[[], T | None], what: str) -> T:
        try:
            return await self.fake.wait_for(predicate, timeout=WAIT)
        except TimeoutError as error:
            raise CheckFailed(what, f"within {WAIT:.0f} s", str(error)) from None

    # -- looking at the outcome ----------------------------------------------------------------

    def check(self, what: str, expected: object, actual: object) -> None:
        if expected != actual:
            raise CheckFailed(what, expected, actual)
        self.checks += 1
        self.console.print(Text(f"  {self.renderer.mark('✅')} {what}", "green"))

    def check_in(self, what: str, part: object, whole: str | list[str]) -> None:
        """A check that `part` is in `whole` (an answer's text, a list of names)."""
        if part not in whole:
            raise CheckFailed(what, f"{part!r} in it", whole)
        self.check(what, True, True)

    def check_servers(self, expected: dict[str, str]) -> None:
        actual = {server: self.sandbox.live(server) for server in SERVERS}
        names = sorted(set(expected.values()))
        self.check(f"every server's link points at {', '.join(names)}", expected, actual)

    async def newest_task(self) -> DeployTask:
        task = await DeployTask.all().order_by("-id").first()
        if task is None:
            raise CheckFailed("a task exists", "a task", "no task in the database")
        return task

    def message(self, task: DeployTask) -> Message:
        if not task.slack_ts:
            raise CheckFailed(f"task #{task.id} has a Slack message", "a message ts", None)
        return self.fake.message(CHANNEL, task.slack_ts)

    def actions(self, task: DeployTask) -> list[str]:
        return [b["action_id"] for b in buttons(self.message(task).blocks)]

    def button(self, task: DeployTask, action_id: str) -> str:
        """`[N] Label`: the button as the drawn message numbers it."""
        for number, element in enumerate(buttons(self.message(task).blocks), 1):
            if element["action_id"] == action_id:
                return f"[{number}] {element['text']['text']}"
        raise CheckFailed(f"task #{task.id}'s message has a {action_id} button", action_id, None)

    async def nodes(self, task: DeployTask) -> dict[str, tuple[str, datetime | None]]:
        """Every pipeline node of the task as `server/stage` → (status, finished at)."""
        nodes = await StageRun.filter(task=task)
        return {
            f"{n.server_name or 'local'}/{n.stage}": (str(n.status), n.finished_at) for n in nodes
        }
