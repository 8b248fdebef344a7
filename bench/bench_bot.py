"""How fast the Slack bot answers while a deploy runs, and how fast its git pickers load.

Starts the Slack stand-in (FakeSlack) and the real bot (bot.runtime.start_bot: Bolt behind
aiohttp on loopback, SQLite in a temp home) in this process, and `--hosts` local SSH hosts
(LocalSSHHost, each with a private root when the machine allows it) in a child process, or in
this process with --hosts-in-process as the tests do. Project `shop` (a small repository) has
env `fleet` (all hosts, no approvals) and `prod` (all hosts, two approvals by the reviewers'
group); project `big` has a repository with --commits commits and --refs branches and tags.

1. Ack latency. A deploy of shop/fleet is started in the bot and held mid-flight: its
   pre-deploy hook prints --hook-lines lines a second on every host until a gate file
   exists. With every host's hook node RUNNING, each round sends --concurrency `/deploy shop
   prod main` slash commands at once, then as many Approve clicks at once (bob, on earlier
   tasks: 1 of 2 approvals, so none of them runs), while the commands' own work (creating
   and announcing the tasks) goes on. Times are client side: from the call to
   FakeSlack.slash_command / .click to the bot's HTTP response (its ack). Beside them: the
   same requests sent one at a time (`alone`), the bot's own dispatch time (`bolt`, from
   the request read to the ack), the event loop's lag (overshoot of a 10 ms sleep) with
   the CPU used meanwhile, garbage collections, and the Web API calls the bot made. The
   deploy is checked RUNNING, hooks and all, before and after the rounds; then the gate
   opens and it must succeed.
2. Options loads. Opens the deploy modal through the stand-in (/deploy with no text, pick
   project `big` and env `staging`) after the mirror is fetched, then times the block
   suggestion of the branch/tag picker for a few queries and, with a ref picked in the view's
   state, of the commit picker: median of --samples each (after one untimed call). `git` is
   the GitSource calls alone (branches()+tags(), commits()).

    python bench/bench_bot.py [--rounds 5] [--concurrency 20] [--hosts 10] [--samples 10]
        [--commits 20000] [--refs 5000] [--hook-lines 10] [--hosts-in-process]
        [--profile FILE] [--slow-callbacks MS]

--profile cProfiles the loop thread's CPU during the rounds (CPU by entry point and by
bot/core function); --slow-callbacks lists the loop steps slower than MS (asyncio debug
mode). Both slow the bot down: their latencies are not the figures to quote.

Targets: p99 of each ack under 300 ms; every options load under 300 ms. This machine may be
shared: the load average is printed, and a stall where the loop thread used no CPU was the
process waiting for one. Everything started (bot, stand-in, hosts and what they run) is
stopped at the end, also on errors, Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import gc
import io
import logging
import math
import os
import pstats
import shlex
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
from big_repo import build_repo
from sandbox_bot import (
    ALICE,
    BOB,
    CHANNEL,
    REVIEWERS,
    Hosts,
    SandboxBot,
    start_hosts,
    start_sandbox_bot,
)

from bot.blocks import actions as ids
from bot.sandbox import FakeSlack, payloads
from core.audit import Actor
from core.config import Settings
from core.engine.requests import DeployRequest, HookChoice
from core.inventory import service
from core.inventory.lookup import get_environment
from core.inventory.specs import EnvSpec, KeySpec, ProjectSpec, ServerSpec
from core.keys import KeyMaterial
from core.secrets import SecretBox, generate_secret
from core.status import HookStage, NodeStatus, Stage, TaskStatus
from core.store.db import close_database, open_database
from core.store.models import Approval, DeployTask, Environment, StageRun

TARGET_MS = 300.0
ADMIN = Actor("bench", via="cli")
WAIT = 120.0  # seconds for anything the bench waits on (messages, hook nodes, the deploy)
HOOK_MAX_SECONDS = 900  # a hook gives up by itself if the gate never opens
ALONE = 10  # requests of each kind sent one at a time, for the baseline
SETTLE = 0.3  # seconds after each of those, for its work to finish


@dataclass(frozen=True)
class Options:
    rounds: int
    concurrency: int
    hosts: int
    samples: int
    commits: int
    refs: int
    hook_lines: float
    hosts_in_process: bool
    profile: Path | None
    slow_ms: float | None


@dataclass
class Timings:
    """Client-side times (ms) of one kind of request, and how many failed."""

    ms: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def pct(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- Watching the bot ----------------------------------------------------------------------------


class LagMonitor:
    """How late a 10 ms sleep wakes up (time the event loop spent on something else), what
    the loop's thread and the whole process used meanwhile, and the garbage collector's pauses.

    A stall where the loop's thread used the CPU is Python code blocking the loop; one where
    it did not is the thread waiting: for the GIL (other threads' CPU) or for a CPU at all.
    """

    TICK = 0.01
    STALL_MS = 50.0

    def __init__(self) -> None:
        self.recording = False
        self.lags: list[float] = []
        self.stalls: list[tuple[float, float, float]] = []
        """(lag, the loop thread's CPU, the other threads' CPU), ms, of ticks over STALL_MS."""
        self.gc_pauses: list[tuple[int, float]] = []
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None
        self._marks: list[tuple[float, float, float]] = []
        """(wall, loop thread CPU, process CPU) at begin() and end()."""

    def _mark(self) -> None:
        self._marks.append((time.perf_counter(), time.thread_time(), time.process_time()))

    def begin(self) -> None:
        self._mark()
        self.recording = True

    def end(self) -> None:
        self.recording = False
        self._mark()

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.create_task(self._run())

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self.recording:
            pause = (time.perf_counter() - self._gc_started) * 1000
            self.gc_pauses.append((int(info["generation"]), pause))

    async def _run(self) -> None:
        while True:
            started, thread, process = time.perf_counter(), time.thread_time(), time.process_time()
            await asyncio.sleep(self.TICK)
            if not self.recording:
                continue
            lag = (time.perf_counter() - started - self.TICK) * 1000
            self.lags.append(lag)
            if lag > self.STALL_MS:
                own = (time.thread_time() - thread) * 1000
                others = (time.process_time() - process) * 1000 - own
                self.stalls.append((lag, own, others))

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def summary(self) -> list[str]:
        lags = self.lags
        lines = [
            f"event-loop lag during the rounds: p50 {pct(lags, 50):.1f} ms, "
            f"p99 {pct(lags, 99):.0f} ms, max {max(lags):.0f} ms ({len(lags)} ticks of 10 ms)"
        ]
        if len(self._marks) == 2:
            (wall0, own0, all0), (wall1, own1, all1) = self._marks
            lines.append(
                f"  CPU in {wall1 - wall0:.1f} s of rounds: loop thread {own1 - own0:.2f} s, "
                f"other threads {all1 - all0 - (own1 - own0):.2f} s (git, SQLite)"
            )
        if self.stalls:
            total = sum(s[0] for s in self.stalls)
            own = sum(s[1] for s in self.stalls)
            others = sum(s[2] for s in self.stalls)
            lines.append(
                f"  {len(self.stalls)} stalls over {self.STALL_MS:.0f} ms, {total:.0f} ms in all; "
                f"CPU meanwhile: loop thread {own:.0f} ms, other threads {others:.0f} ms "
                "(the rest: waiting for the GIL or for a CPU)"
            )
        pauses = [p for _, p in self.gc_pauses]
        if pauses:
            old = sum(1 for g, _ in self.gc_pauses if g == 2)
            lines.append(
                f"  garbage collections: {len(pauses)} ({old} full), "
                f"{sum(pauses):.0f} ms in all, longest {max(pauses):.0f} ms"
            )
        return lines


class SlowCallbacks(logging.Handler):
    """asyncio's debug-mode warnings `Executing <callback or task step> took N seconds`."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.recording = False
        self.found: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not self.recording or not record.msg.startswith("Executing"):
            return
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) == 2 and isinstance(args[1], float):
            self.found.append((args[1] * 1000, str(args[0])))

    def summary(self, limit: int = 12) -> list[str]:
        lines = [
            f"slowest loop steps during the rounds (asyncio debug mode), of {len(self.found)}:"
        ]
        for ms, what in sorted(self.found, reverse=True)[:limit]:
            lines.append(f"  {ms:6.0f} ms  {what[:300]}")
        return lines


SLOW = SlowCallbacks()


def time_dispatch(sandbox: SandboxBot) -> dict[str, list[float]]:
    """Record how long Bolt takes per request (ms, by kind), wrapping the app's dispatch."""
    app = sandbox.running.app
    original = app.async_dispatch
    times: dict[str, list[float]] = defaultdict(list)

    async def timed(req: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original(req)
        finally:
            body = req.body if isinstance(req.body, dict) else {}
            if "command" in body:
                kind = "command"
            else:
                action = (body.get("actions") or [{}])[0].get("action_id") or body.get("action_id")
                kind = f"{body.get('type')}:{action}"
            times[kind].append((time.perf_counter() - started) * 1000)

    app.async_dispatch = timed  # type: ignore[method-assign]
    return times


# --- Setting up ----------------------------------------------------------------------------------


def hook_script(gate: Path, lines_per_second: float) -> str:
    """A pre-deploy hook that holds the deploy until `gate` exists, printing as it waits."""
    interval = 1 / lines_per_second if lines_per_second > 0 else 0.2
    limit = int(HOOK_MAX_SECONDS / interval)
    say = 'echo "$HOIST_SERVER waits for the gate ($i)"' if lines_per_second > 0 else ":"
    return "\n".join(
        [
            "i=0",
            f"while [ ! -e {shlex.quote(str(gate))} ]; do",
            "  i=$((i + 1))",
            f"  {say}",
            f'  [ "$i" -lt {limit} ] || {{ echo "the gate never opened" >&2; exit 1; }}',
            f"  sleep {interval:.3f}",
            "done",
            'echo "gate open after $i rounds"',
        ]
    )


async def add_inventory(
    box: SecretBox, hosts: Hosts, material: KeyMaterial, data: Path, shop: Path, big: Path
) -> None:
    names = tuple(h.name for h in hosts.infos)
    await service.add_key(ADMIN, KeySpec("deploy", "deploy", material), box)
    for info in hosts.infos:
        spec = ServerSpec(info.name, "127.0.0.1", "deploy", info.port, info.host_key_line)
        await service.add_server(ADMIN, spec)
    codes = f"{data}/codes"
    await service.add_project(ADMIN, ProjectSpec("shop", str(shop), channel=CHANNEL))
    await service.add_env(
        ADMIN, EnvSpec("shop", "fleet", f"{data}/fleet/", codes, names, templates_only=False)
    )
    await service.add_env(ADMIN, EnvSpec("shop", "prod", f"{data}/prod/", codes, names))
    # The inventory checks a group as one reviewer; the tests set a group's two this way too.
    await Environment.filter(project__slug="shop", name="prod").update(
        approvals_required=2, reviewers=[REVIEWERS], templates_only=False
    )
    await service.add_project(ADMIN, ProjectSpec("big", str(big), channel=CHANNEL))
    await service.add_env(ADMIN, EnvSpec("big", "staging", f"{data}/staging/", codes, names[:1]))


async def wait_until(
    check: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)


async def describe(task_id: int) -> str:
    runs = await StageRun.filter(task_id=task_id).order_by("id")
    return "\n".join(
        f"  {n.server_name or 'local'}/{n.stage}: {n.status} {n.error} {n.output[-200:]!r}"
        for n in runs
    )


async def hooks_running(task_id: int) -> int:
    return await StageRun.filter(
        task_id=task_id, stage=Stage.PRE_DEPLOY, status=NodeStatus.RUNNING
    ).count()


async def start_held_deploy(sandbox: SandboxBot, gate: Path, hook_lines: float) -> int:
    """Start shop/fleet in the bot and wait until every host's pre-deploy hook is RUNNING."""
    env = await get_environment("shop", "fleet")
    request = DeployRequest(
        project="shop",
        env="fleet",
        requester=ALICE,
        ref="main",
        hooks={HookStage.PRE_DEPLOY: HookChoice(script=hook_script(gate, hook_lines))},
        note="bench: the deploy held mid-flight",
        via="slack",
    )
    await sandbox.running.bot.create(request, env, CHANNEL)
    task = await DeployTask.filter(environment_id=env.id).order_by("-id").first()
    assert task is not None
    servers = await env.servers.all().count()

    async def all_hooks_running() -> bool:
        await task.refresh_from_db()
        if task.status.finished:
            raise RuntimeError(f"deploy #{task.id} ended {task.status}:\n{await describe(task.id)}")
        return await hooks_running(task.id) == servers

    await wait_until(all_hooks_running, f"the {servers} pre-deploy hooks of deploy #{task.id}")
    return task.id


async def check_held(task_id: int, servers: int, when: str) -> str:
    task = await DeployTask.get(id=task_id)
    running = await hooks_running(task_id)
    if task.status != TaskStatus.RUNNING or running != servers:
        raise RuntimeError(
            f"{when} the rounds deploy #{task_id} is {task.status} with {running}/{servers} "
            f"hooks running:\n{await describe(task_id)}"
        )
    return f"{when}: deploy #{task_id} {task.status}, {running}/{servers} pre-deploy hooks RUNNING"


# --- 1. Ack latency ------------------------------------------------------------------------------


async def timed(call: Awaitable[Any], into: Timings) -> None:
    started = time.perf_counter()
    try:
        reply = await call
        if reply.status != 200:
            into.failed.append(f"HTTP {reply.status}: {reply.text[:100]}")
    except Exception as exc:  # a timeout or refusal still counts, with its time
        into.failed.append(repr(exc)[:200])
    into.ms.append((time.perf_counter() - started) * 1000)


async def prod_tasks_announced(prod_id: int) -> list[DeployTask]:
    return await DeployTask.filter(environment_id=prod_id, slack_ts__isnull=False).order_by("id")


@dataclass
class AckResult:
    commands: Timings
    clicks: Timings
    alone_commands: Timings
    alone_clicks: Timings
    monitor: LagMonitor
    calls: Counter[str]
    server: dict[str, list[float]]
    held: list[str]
    approvals: int
    deploy_s: float
    deploy_status: str


async def measure_acks(
    options: Options, sandbox: SandboxBot, gate: Path, servers: int
) -> AckResult:
    slack, n = sandbox.slack, options.concurrency
    server = time_dispatch(sandbox)
    started = time.perf_counter()
    task_id = await start_held_deploy(sandbox, gate, options.hook_lines)
    held_s = time.perf_counter() - started
    print(f"deploy #{task_id} held in its pre-deploy hooks after {held_s:.1f} s", flush=True)
    prod = await Environment.get(project__slug="shop", name="prod")
    held = [await check_held(task_id, servers, "before")]

    # Warm-up, not timed: the tasks round 1 approves, and a few refused clicks.
    await asyncio.gather(*(slack.slash_command(ALICE, "shop prod main", CHANNEL) for _ in range(n)))
    await wait_announced(prod.id, n)
    tasks = await prod_tasks_announced(prod.id)
    for task in tasks[:3]:
        await slack.click(ALICE, (CHANNEL, task.slack_ts or ""), ids.APPROVE, str(task.id))

    # One at a time, each after the last one's work settled: the ack with nothing in flight.
    # (alice's clicks on her own tasks are refused, after the same ack.)
    alone_commands, alone_clicks = Timings(), Timings()
    for task in tasks[:ALONE]:
        await timed(slack.slash_command(ALICE, "shop prod main", CHANNEL), alone_commands)
        await asyncio.sleep(SETTLE)
        where = (CHANNEL, task.slack_ts or "")
        await timed(slack.click(ALICE, where, ids.APPROVE, str(task.id)), alone_clicks)
        await asyncio.sleep(SETTLE)
    base = n + len(alone_commands.ms)
    await wait_announced(prod.id, base)
    pending = await prod_tasks_announced(prod.id)
    server.clear()

    commands, clicks = Timings(), Timings()
    first_call = len(slack.calls())
    monitor = LagMonitor()
    monitor.start()
    # CPU time of the loop's thread, so being descheduled on a busy machine does not count.
    profiler = cProfile.Profile(time.thread_time) if options.profile else None
    try:
        monitor.begin()
        SLOW.recording = True
        if profiler is not None:
            profiler.enable()
        for round_no in range(1, options.rounds + 1):
            await asyncio.gather(
                *(
                    timed(slack.slash_command(ALICE, "shop prod main", CHANNEL), commands)
                    for _ in range(n)
                )
            )
            batch, pending = pending[:n], pending[n:]
            await asyncio.gather(
                *(
                    timed(
                        slack.click(BOB, (CHANNEL, t.slack_ts or ""), ids.APPROVE, str(t.id)),
                        clicks,
                    )
                    for t in batch
                )
            )
            total = base + n * round_no
            await wait_announced(prod.id, total)
            pending += (await prod_tasks_announced(prod.id))[total - n : total]
            print(
                f"round {round_no}: commands p50 {statistics.median(commands.ms[-n:]):.0f} ms, "
                f"max {max(commands.ms[-n:]):.0f}; clicks p50 "
                f"{statistics.median(clicks.ms[-n:]):.0f} ms, max {max(clicks.ms[-n:]):.0f}",
                flush=True,
            )
    finally:
        if profiler is not None:
            profiler.disable()
        monitor.end()
        SLOW.recording = False
        await monitor.stop()
    held.append(await check_held(task_id, servers, "after"))
    if profiler is not None and options.profile is not None:
        report_profile(profiler, options.profile)

    expected = n * options.rounds

    async def approvals_recorded() -> bool:
        return await Approval.filter(reviewer=BOB).count() >= expected

    await wait_until(approvals_recorded, f"{expected} approvals by bob")
    approvals = await Approval.filter(reviewer=BOB).count()

    async def replies_sent() -> bool:  # each command and click answers on its response_url
        return len(slack.calls("response_url")) - replies_before >= 2 * expected

    replies_before = sum(1 for c in slack.calls()[:first_call] if c.method == "response_url")
    await wait_until(replies_sent, "every command's and click's private reply")
    calls = Counter(c.method for c in slack.calls()[first_call:])

    gate.touch()
    released = time.perf_counter()

    async def finished() -> bool:
        task = await DeployTask.get(id=task_id)
        return task.status.finished

    await wait_until(finished, f"deploy #{task_id} to finish once the gate opened")
    task = await DeployTask.get(id=task_id)
    if task.status != TaskStatus.SUCCEEDED:
        raise RuntimeError(f"deploy #{task_id} ended {task.status}:\n{await describe(task_id)}")
    return AckResult(
        commands,
        clicks,
        alone_commands,
        alone_clicks,
        monitor,
        calls,
        {kind: list(times) for kind, times in server.items()},
        held,
        approvals,
        time.perf_counter() - released,
        str(task.status),
    )


async def wait_announced(prod_id: int, count: int) -> None:
    async def enough() -> bool:
        return (
            await DeployTask.filter(environment_id=prod_id, slack_ts__isnull=False).count() >= count
        )

    await wait_until(enough, f"{count} prod tasks announced in Slack")


ENTRY_POINTS = (
    ("acks (aiohttp handler -> Bolt, to the ack)", "bot/serve.py", "events"),
    ("/deploy lazy work (commands.handle)", "bot/commands.py", "handle"),
    ("click lazy work (actions.click)", "bot/actions.py", "click"),
    ("message redraws (Notifier._work)", "bot/notifier.py", "_work"),
    ("the held deploy's hook output (RemoteJob.read)", "core/transport/job.py", "read"),
    ("stand-in Web API (bench side)", "bot/sandbox/server.py", "_web_api"),
    ("stand-in sending /deploy (bench side)", "bot/sandbox/slack_api.py", "slash_command"),
    ("stand-in sending clicks (bench side)", "bot/sandbox/slack_api.py", "click"),
)


def report_profile(profiler: cProfile.Profile, path: Path) -> None:
    """Where the loop thread's CPU went during the rounds: by task entry point, by function."""
    profiler.dump_stats(str(path))
    stats = pstats.Stats(profiler)
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(own for (_, _, own, _, _) in table.values())
    print(f"\nCPU of the event-loop thread during the rounds, profiled: {total:.2f} s ({path})")
    for label, suffix, name in ENTRY_POINTS:
        cpu = sum(
            values[3]
            for (filename, _, function), values in table.items()
            if filename.endswith(suffix) and function == name
        )
        print(f"  {cpu:6.2f} s  {label}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(r"/(bot|core)/", 25)
    print("  bot and core functions by cumulative CPU (coroutines: ncalls counts resumptions):")
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    print("\n".join("  " + line for line in lines[start : start + 26]))


# --- 2. Options loads ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadRow:
    label: str
    median_ms: float
    max_ms: float
    options: int
    git_ms: float


def count_options(answer: dict[str, Any]) -> int:
    groups = answer.get("option_groups") or [{"options": answer.get("options", [])}]
    return sum(len(g["options"]) for g in groups)


async def suggest_with_state(
    slack: FakeSlack, user: str, view_id: str, action_id: str, value: str
) -> dict[str, Any]:
    """A block_suggestion carrying the view's state (what the user picked), as Slack sends it.

    FakeSlack.block_suggestion sends `view.state.values` empty, so the commit picker, which
    reads the picked ref from the state, would always get no ref there.
    """
    view = slack.view(view_id)
    shown = view.payload(slack.workspace, view.picked)
    payload = payloads.block_suggestion(slack.workspace, user, shown, (action_id, action_id), value)
    reply = await slack.sender.post(payloads.payload_body(payload))
    if reply.status != 200 or not isinstance(reply.data, dict):
        raise RuntimeError(f"the bot answered an options load with {reply.status}: {reply.text!r}")
    return dict(reply.data)


async def median_of(samples: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, float, Any]:
    """Median and max ms of `samples` calls after one untimed call; the last result."""
    result = await call()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), result


async def measure_options(
    options: Options, sandbox: SandboxBot, big_url: str
) -> tuple[list[LoadRow], float, int]:
    slack, git, n = sandbox.slack, sandbox.running.bot.engine.git, options.samples
    started = time.perf_counter()
    await git.ensure_mirror("big", big_url)
    mirror_s = time.perf_counter() - started

    await slack.slash_command(ALICE, "", CHANNEL)
    view = await slack.wait_for(lambda: next(iter(slack.modals(ALICE)), None), timeout=WAIT)
    await slack.click_view(ALICE, view.id, ids.PROJECT, "big")
    await slack.wait_for(lambda: ids.ENV in str(slack.view(view.id).spec) or None, timeout=WAIT)
    await slack.click_view(ALICE, view.id, ids.ENV, "staging")
    await slack.wait_for(lambda: ids.MODE in str(slack.view(view.id).spec) or None, timeout=WAIT)

    async def refs_alone() -> Any:
        return await git.branches("big"), await git.tags("big")

    git_refs, _, _ = await median_of(n, refs_alone)
    rows = []
    for query in ("", "feat", "v1."):
        ms, worst, answer = await median_of(
            n, functools.partial(slack.block_suggestion, ALICE, view.id, ids.REF, ids.REF, query)
        )
        rows.append(LoadRow(f'REF "{query}"', ms, worst, count_options(answer), git_refs))

    # The stand-in's own block_suggestion leaves view.state empty: no ref, no commits.
    empty = await slack.block_suggestion(ALICE, view.id, ids.COMMIT, ids.COMMIT, "")
    stand_in_commits = count_options(empty)

    for ref, query in (
        ("refs/heads/main", ""),
        ("refs/heads/main", "199"),
        ("refs/tags/v1.1.0", ""),
    ):
        name = ref.split("/", 2)[2]
        option = {"text": {"type": "plain_text", "text": name}, "value": ref}
        picked = {"type": "external_select", "selected_option": option}
        slack.view(view.id).picked[ids.REF] = {ids.REF: picked}
        git_ms, _, _ = await median_of(n, functools.partial(git.commits, "big", name))
        load = functools.partial(suggest_with_state, slack, ALICE, view.id, ids.COMMIT, query)
        ms, worst, answer = await median_of(n, load)
        rows.append(LoadRow(f'COMMIT @{name} "{query}"', ms, worst, count_options(answer), git_ms))
    return rows, mirror_s, stand_in_commits


# --- Report --------------------------------------------------------------------------------------


def verdict(value: float) -> str:
    return "ok" if value < TARGET_MS else "MISSED"


def print_report(
    options: Options,
    hosts: Hosts,
    acks: AckResult,
    loads: list[LoadRow],
    mirror_s: float,
    stand_in_commits: int,
    load_before: float,
) -> None:
    n = options.concurrency * options.rounds
    print()
    print(f"rerun: {rerun_command()}")
    print(
        f"{options.hosts} hosts ({'private roots' if hosts.isolated else 'shared root'}, "
        f"{hosts.where}); 2-core load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after"
    )
    print()
    print(
        f"1. ack latency, ms, client side: {options.rounds} rounds x {options.concurrency} "
        f"at once, deploy held in its hooks ({options.hook_lines:g} lines/s per host)"
    )
    header = f"{'request':<24}{'alone':>6}{'n':>5}{'p50':>7}{'p99':>7}{'max':>7}  "
    header += f"{'bolt p50/p99':<13}{'fail':>4}  p99<300"
    print(header)
    print("-" * len(header))
    rows = [
        ("/deploy shop prod main", acks.commands, acks.alone_commands, "command"),
        ("Approve click", acks.clicks, acks.alone_clicks, f"block_actions:{ids.APPROVE}"),
    ]
    for label, timings, alone, kind in rows:
        served = acks.server.get(kind, [])
        bolt = f"{pct(served, 50):.0f}/{pct(served, 99):.0f}" if served else "-"
        print(
            f"{label:<24}{pct(alone.ms, 50):>6.0f}{len(timings.ms):>5}{pct(timings.ms, 50):>7.0f}"
            f"{pct(timings.ms, 99):>7.0f}{max(timings.ms):>7.0f}  {bolt:<13}"
            f"{len(timings.failed) + len(alone.failed):>4}  {verdict(pct(timings.ms, 99))}"
        )
    print(
        f"alone = p50 of {ALONE} sent one at a time; n, p50, p99, max: sent "
        f"{options.concurrency} at once; bolt = the bot's dispatch time (after reading the request)"
    )
    for line in acks.monitor.summary():
        print(line)
    if options.slow_ms is not None:
        print("\n".join(SLOW.summary()))
    for line in acks.held:
        print(line)
    made = ", ".join(f"{method} {count}" for method, count in acks.calls.most_common())
    print(f"Slack calls the bot made for the rounds' {2 * n} requests: {made}")
    print(
        f"bob's approvals recorded: {acks.approvals} of {n}; gate opened: deploy "
        f"{acks.deploy_status} {acks.deploy_s:.1f} s later"
    )
    every = (
        ("command", acks.commands.failed + acks.alone_commands.failed),
        ("click", acks.clicks.failed + acks.alone_clicks.failed),
    )
    for label, failed in every:
        for failure in sorted(set(failed))[:3]:
            print(f"  a {label} failed: {failure}")
    print()
    print(
        f"2. options loads, ms: {options.commits} commits, {options.refs} branches and tags; "
        f"mirror fetched in {mirror_s:.2f} s; median of {options.samples}"
    )
    header = f"{'load':<28}{'median':>8}{'max':>8}{'options':>9}{'git':>8}  <300"
    print(header)
    print("-" * len(header))
    for row in loads:
        print(
            f"{row.label:<28}{row.median_ms:>8.0f}{row.max_ms:>8.0f}{row.options:>9}"
            f"{row.git_ms:>8.0f}  {verdict(row.median_ms)}"
        )
    print(
        "git = the GitSource calls alone (REF: branches()+tags(); COMMIT: commits(ref, 50)); "
        f"FakeSlack.block_suggestion on COMMIT (no view state sent) gave {stand_in_commits} options"
    )


def rerun_command() -> str:
    python = os.path.relpath(sys.executable) if sys.executable else "python"
    script = os.path.relpath(Path(__file__).resolve())
    return shlex.join([python, script, *sys.argv[1:]])


# --- The run -------------------------------------------------------------------------------------


async def bench(options: Options) -> None:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="hoist-bench-bot-") as name:
        tmp = Path(name)
        started = time.perf_counter()
        shop, big = tmp / "shop.git", tmp / "big.git"
        await asyncio.to_thread(build_repo, shop, 30, 10)
        await asyncio.to_thread(build_repo, big, options.commits, options.refs)
        print(
            f"repositories built in {time.perf_counter() - started:.1f} s "
            f"(big: {options.commits} commits, {options.refs} refs)",
            flush=True,
        )
        home = tmp / "home"
        settings = Settings(home, f"sqlite://{home / 'hoist.sqlite3'}", generate_secret())
        await open_database(settings)
        try:
            async with contextlib.AsyncExitStack() as stack:
                await _bench(options, settings, tmp, shop, big, stack, load_before)
        finally:
            await close_database()


async def _bench(
    options: Options,
    settings: Settings,
    tmp: Path,
    shop: Path,
    big: Path,
    stack: contextlib.AsyncExitStack,
    load_before: float,
) -> None:
    assert settings.secret_key is not None
    client = asyncssh.generate_private_key("ssh-ed25519")
    material = KeyMaterial(
        client.export_private_key("openssh").decode(),
        client.export_public_key("openssh").decode().strip(),
        client.get_fingerprint("sha256"),
    )
    data, roots = tmp / "data", tmp / "roots"
    data.mkdir()
    roots.mkdir()
    names = [f"web{i:02d}" for i in range(1, options.hosts + 1)]
    started = time.perf_counter()
    hosts = await start_hosts(
        names, material.public, data, roots, in_process=options.hosts_in_process
    )
    stack.push_async_callback(hosts.stop)
    print(
        f"{len(names)} hosts up in {time.perf_counter() - started:.1f} s ({hosts.where}, "
        f"{'private roots' if hosts.isolated else 'shared root: isolation unavailable'})",
        flush=True,
    )
    await add_inventory(SecretBox(settings.secret_key), hosts, material, data, shop, big)
    sandbox = await start_sandbox_bot(settings)
    stack.push_async_callback(sandbox.stop)
    gate = tmp / "gate"
    stack.callback(gate.touch)  # runs before the bot stops: a held deploy lets go
    print(f"bot listening at {sandbox.running.events_url}, stand-in at {sandbox.slack.url}")

    acks = await measure_acks(options, sandbox, gate, len(names))
    loads, mirror_s, stand_in_commits = await measure_options(options, sandbox, str(big))
    print_report(options, hosts, acks, loads, mirror_s, stand_in_commits, load_before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=20, help="requests sent at once")
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--samples", type=int, default=10, help="timed calls per options load")
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--refs", type=int, default=5_000)
    parser.add_argument(
        "--hook-lines", type=float, default=10.0, help="lines a second each held hook prints"
    )
    parser.add_argument(
        "--hosts-in-process",
        action="store_true",
        help="run the SSH hosts in the bot's event loop (as the tests do)",
    )
    parser.add_argument(
        "--profile", type=Path, help="cProfile the event loop during the rounds, save stats here"
    )
    parser.add_argument(
        "--slow-callbacks",
        type=float,
        metavar="MS",
        help="run the loop in asyncio debug mode and list its steps slower than MS",
    )
    args = parser.parse_args()
    if min(args.rounds, args.concurrency, args.hosts, args.samples) < 1:
        parser.error("--rounds, --concurrency, --hosts and --samples must be at least 1")
    if args.commits < 200 or args.refs < 4:
        parser.error("--commits must be at least 200 and --refs at least 4")
    options = Options(
        args.rounds,
        args.concurrency,
        args.hosts,
        args.samples,
        args.commits,
        args.refs,
        args.hook_lines,
        args.hosts_in_process,
        args.profile,
        args.slow_callbacks,
    )
    try:
        asyncio.run(_main(options))
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit("interrupted; everything the bench started has been stopped")


async def _main(options: Options) -> None:
    """Run the bench; SIGTERM cancels it like Ctrl-C, so everything started is still stopped."""
    current = asyncio.current_task()
    assert current is not None
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, current.cancel)
    if options.slow_ms is not None:
        loop.set_debug(True)
        loop.slow_callback_duration = options.slow_ms / 1000
        logging.getLogger("asyncio").addHandler(SLOW)
    await bench(options)


if __name__ == "__main__":
    main()
