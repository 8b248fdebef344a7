"""Following a task in the terminal: a live grid on a TTY, plain progress lines otherwise."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import click
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from core.engine.events import Event, EventBus, NodeChanged, Subscription, TaskChanged
from core.engine.summary import NodeFacts, stage_timings, timing_text, transfer_text, transfers
from core.engine.views import node_facts
from core.status import LOCAL_STAGES, SERVER_STAGES, NodeStatus, Stage, TaskStatus
from core.store.models import DeployTask, StageRun

PAUSED_NOTE = "paused between rollout steps: continue, retry or abort it"
MARKS = {
    NodeStatus.PENDING: ("·", "dim"),
    NodeStatus.RUNNING: ("▶", "yellow"),
    NodeStatus.SUCCEEDED: ("✓", "green"),
    NodeStatus.FAILED: ("✗", "bold red"),
    NodeStatus.SKIPPED: ("–", "dim"),
}


@dataclass
class Board:
    """What the terminal shows of one task, updated from events (a pure state holder)."""

    title: str
    cells: dict[tuple[str, Stage], NodeStatus] = field(default_factory=dict)
    log: deque[str] = field(default_factory=lambda: deque(maxlen=8))
    status: TaskStatus = TaskStatus.QUEUED
    steps: dict[str, int] = field(default_factory=dict)
    """Server → the rollout step (from 1) that reaches it; empty without a plan."""
    plan: str = ""
    facts: dict[tuple[str, Stage], NodeFacts] = field(default_factory=dict)
    """What each node reported when it last changed: time taken, bytes and files sent."""

    @classmethod
    async def load(cls, task: DeployTask) -> Board:
        await task.fetch_related("environment", "environment__project")
        env = task.environment
        board = cls(f"#{task.id} {env.project.slug}/{env.name} {task.version}")
        board.status = TaskStatus(task.status)
        board.plan = task.plan_name
        for number, step in enumerate(task.plan_steps, start=1):
            board.steps.update(dict.fromkeys(step["servers"], number))
        for node in await StageRun.filter(task=task).order_by("id"):
            board.cells[(node.server_name, Stage(node.stage))] = NodeStatus(node.status)
            board.facts[(node.server_name, Stage(node.stage))] = node_facts(node)
        return board

    def apply(self, event: Event) -> str | None:
        """Take one event in; return a plain progress line for it, if it deserves one."""
        if isinstance(event, TaskChanged):
            self.status = event.status
            return f"task {event.status}"
        if isinstance(event, NodeChanged):
            self.cells[(event.server, event.stage)] = event.status
            self.facts[(event.server, event.stage)] = event.facts()
            where = event.server or "local"
            detail = f": {event.error}" if event.error and event.status == NodeStatus.FAILED else ""
            return f"{where} {event.stage} {event.status}{detail}"
        where = event.server or "local"
        self.log.append(f"{where} {event.stage}: {event.line}")
        return None

    def servers(self) -> list[str]:
        return list(dict.fromkeys(s for s, _ in self.cells if s))

    def server_stages(self) -> tuple[Stage, ...]:
        """A server row's columns: health too when the environment checks its servers."""
        health = any(stage == Stage.HEALTH for _, stage in self.cells)
        return SERVER_STAGES + ((Stage.HEALTH,) if health else ())


def render(board: Board) -> Group:
    """The grid: a row for the local stages and one per server, then the log's tail."""
    title = f"{board.title}  [{board.status}]"
    if board.plan:
        title += f"  plan {board.plan}"
    table = Table(title=Text(title), title_justify="left")
    table.add_column("where")
    stages = board.server_stages()
    if board.steps:
        table.add_column("step", justify="right")
    for stage in (*LOCAL_STAGES, *stages):
        table.add_column(stage.value.replace("_", "-"), justify="center")
    blanks = [""] * len(stages)
    step = [""] if board.steps else []
    table.add_row("local", *step, *(_mark(board, "", s) for s in LOCAL_STAGES), *blanks)
    for server in board.servers():
        step = [str(board.steps.get(server, ""))] if board.steps else []
        table.add_row(
            server,
            *step,
            *[""] * len(LOCAL_STAGES),
            *(_mark(board, server, s) for s in stages),
        )
    parts: list[Table | Text] = [table]
    if board.status == TaskStatus.PAUSED:
        parts.append(Text(PAUSED_NOTE, style="bold yellow"))
    parts.extend(Text(line, style="cyan") for line in summary_lines(board))
    parts.append(Text("\n".join(board.log), style="dim"))
    return Group(*parts)


def summary_lines(board: Board) -> list[str]:
    """What the release sent and where its time went, once there is something to say."""
    lines = []
    sent = transfers(board.facts.values())
    if sent is not None:
        lines.append(f"sent: {transfer_text(sent)}")
    timing = timing_text(stage_timings(board.facts.values()))
    if timing:
        lines.append(f"time per stage: {timing}")
    return lines


def _mark(board: Board, server: str, stage: Stage) -> Text:
    status = board.cells.get((server, stage))
    if status is None:
        return Text("")
    mark, style = MARKS[status]
    return Text(mark, style=style)


async def follow(
    bus: EventBus, task: DeployTask, run: Awaitable[TaskStatus], *, tty: bool
) -> TaskStatus:
    """Show the task while `run` drives it; returns the status it came to rest in."""
    board = await Board.load(task)
    subscription = bus.subscribe(task.id)
    job = asyncio.ensure_future(run)
    try:
        if tty:
            with Live(render(board), console=Console(), refresh_per_second=8) as live:

                def update(event: Event) -> None:
                    board.apply(event)
                    live.update(render(board))

                await _pump(subscription, job, update)
        else:
            await _pump(subscription, job, lambda event: _echo(board, event))
            for line in summary_lines(board):
                click.echo(line)
        return await job
    finally:
        subscription.close()


async def _pump(
    subscription: Subscription, job: asyncio.Future[TaskStatus], on_event: Callable[[Event], None]
) -> None:
    """Hand events to `on_event` until the job ends, then drain what is left."""
    while True:
        getter: asyncio.Future[Event] = asyncio.ensure_future(subscription.get())
        waiting: set[asyncio.Future[Any]] = {getter, job}
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            on_event(getter.result())
            continue
        getter.cancel()
        while (event := subscription.get_nowait()) is not None:
            on_event(event)
        return


def _echo(board: Board, event: Event) -> None:
    line = board.apply(event)
    if line is not None:
        click.echo(line)
