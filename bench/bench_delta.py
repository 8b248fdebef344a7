"""Delta releases on 50 real OpenSSH servers: one changed file cold and warm, 10% vs full.

Starts N real `/usr/sbin/sshd` on loopback, each in a mount namespace of its own with a private
`/data` and an empty root home (tests/opensshfleet.py, as bench/bench_deploy.py does), a temp
HOIST_HOME with SQLite, the inventory (key `deploy`, project `shop` whose channel is the Slack
stand-in's #deploys, env `prod` on every server, no approvals) and a git repository holding a
release of --files files / --mb MB (bench_deploy's `write_release`). Then, in this order:

  first    a first full release of the repository to `prod` through the CLI; printed on its
           own, not a figure (it only gives the next releases a live release to start from).
  cold     --runs times: commit a change to one file (a line appended to one module), then run
           the real CLI, `hoist deploy shop prod --ref SHA`, as a subprocess (`hoist` beside
           this Python, with HOIST_HOME / HOIST_DATABASE_URL / HOIST_SECRET_KEY and PYTHONPATH
           set to this checkout, so it runs the same code as the bench). The figure is the
           process's wall time, from spawning it to its exit: interpreter start and imports,
           opening the database (pending migrations), `engine.reap()`, resolving the ref
           (mirror fetch), the whole task (download, package, every server's connection,
           upload and deploy, old-release cleanup) and closing the connections. `hoist
           deploy` follows the task to rest itself and exits 0 only if it succeeded.
  warm     starts a real `hoist serve` process (tests/botprocess.py, talking to the Slack
           stand-in `bot.sandbox.FakeSlack` in this process), does one untimed warm-up
           release through it (a one-file change, so its connection pool, where it has one,
           holds a connection to every server), then --runs times: commit a one-file change
           and send a signed `/deploy shop prod SHA` slash command from alice through the
           stand-in. The clock starts right before the command is sent; the task's number is
           taken from the bot's private reply ("Task #N …", an event the stand-in records),
           then the database is polled every 20 ms until the task is at rest. The figure is
           that observed time (at most one poll late); beside it, `exact` is the task's
           finished_at (written by hoist serve, same machine clock) minus the send time.
           Slack's message redraws are not waited on (they are paced 1 s apart per channel).
  10%      --runs times: commit a change to 10% of all the files (text files get a line
           appended, binary ones new random bytes of the same size), deploy it to `prod`
           through an in-process Engine exactly as bench_deploy measures (its `deploy_once`:
           from engine.deploy() to the task at rest, cold connections).
  full     right after each 10% run, the same commit to a fresh environment `fullN` (same
           servers, its own deploy path, no release there yet), same method. A release to
           servers with no previous release is full by nature, whatever the delta logic
           decides; "every file changed" was not used because a delta may still be cheaper
           than a full upload (fewer round trips, no manifest to ignore, or a different
           compression), so it would not measure the full path. Each fresh env's files are
           deleted afterwards (untimed). This is the same method bench_deploy uses, so its
           median is comparable with bench_deploy's N=50 figure from before the change taken
           on the same storage (see below; give it with --baseline-full).

Bytes sent come from the database: per server, the sum of `bytes_sent` over that server's
nodes (the upload node carries it); in all, the sum over the task's nodes. Where StageRun has
`files_sent` and `transfer` (delta releases), the files sent per server and the upload nodes'
transfer kinds (delta/full) are shown too; they are detected, so this runs before and after
that change. Between releases, untimed, every release but the live one is deleted from the
servers' /data (as bench_deploy does), and right before each timed release sync(2) writes
every dirty page out (the time it took is shown, not counted).

The servers' /data folders are in /dev/shm by default (bench_deploy's --tmpfs; about 5 GB at
most with the defaults); --disk puts them on disk, as bench_deploy does by default. On this
machine the 50 servers share one virtual disk, whose speed for the same work varied by 4× within
minutes (50 parallel `tar -xzf` of the 16 MB package: 9 s, 18 s, 35 s), and on disk a full
release to a fresh environment came out twice as slow as the same full release to `prod`,
repeatably, even with the sync (deploy nodes 22-37 s against 7.5 s; before delta releases, so
both sent everything): the 10%/full ratio read 0.47 with no delta at all. On tmpfs the two took
the same time (13.9 and 15.7 s). Real servers each have a disk of their own, so tmpfs is also
the closer model of 50 servers. Compare before and after with the same choice.

    python bench/bench_delta.py [--servers 50] [--runs 3] [--files 2000] [--mb 30] [--disk]
        [--baseline-full SECONDS] [--tolerance 0.05]

Targets (from the delta-release issue), with 50 servers after a first full release: one
changed file under 6.5 s cold (`hoist deploy`) and under 2 s warm (`hoist serve`), under 1 MB
sent per server (the largest over both one-file scenarios' servers and runs); a 10% release
under 40% of the full release's time (ratio of medians); the full release no slower than
before (median at most --baseline-full × (1 + --tolerance); take the baseline on the same
storage: this bench's own `full` median on the old code, or bench_deploy.py --servers 50
--tmpfs there). Every sshd, `hoist deploy` and `hoist serve` process started is stopped by its
PID at the end, also on errors and Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_deploy import MB, deploy_once, drop_old_releases, sshd_pids, write_release  # noqa: E402

from bot.sandbox import FakeSlack, MessageRate, Workspace  # noqa: E402
from core.config import Settings  # noqa: E402
from core.engine.engine import Engine  # noqa: E402
from core.engine.events import EventBus  # noqa: E402
from core.engine.settings import EngineSettings  # noqa: E402
from core.inventory import service  # noqa: E402
from core.inventory.specs import EnvSpec, ProjectSpec, ServerSpec  # noqa: E402
from core.secrets import generate_secret, open_box  # noqa: E402
from core.status import Stage, TaskStatus  # noqa: E402
from core.store.db import close_database, open_database  # noqa: E402
from core.store.models import DeployTask, Project, StageRun  # noqa: E402
from tests.botprocess import BotProcess  # noqa: E402
from tests.gitrepo import GitRepo  # noqa: E402
from tests.opensshfleet import (  # noqa: E402
    ALICE,
    DATA,
    OpenSSHFleet,
    client_key,
    start_sshds,
    stop_all,
)
from tests.opensshfleet import skip_reason as sshd_skip_reason  # noqa: E402

SLACK_USER = "U0ALICE00"  # alice in the stand-in's sample workspace
CHANNEL = "C0DEPLOYS"
SIGNING_SECRET = "signing-secret-for-bench-delta"
POLL = 0.02  # seconds between two looks at a task served by `hoist serve`
WAIT = 300.0  # seconds: the longest any one release may take before the bench gives up
CREATED = re.compile(r"Task #(\d+)")
CLI_TASK = re.compile(r"^task #(\d+) ", re.MULTILINE)
HAS_FILES = "files_sent" in StageRun._meta.fields_map
HAS_TRANSFER = "transfer" in StageRun._meta.fields_map


@dataclass
class Sample:
    """One timed release."""

    seconds: float
    """The scenario's figure (see the module's docstring)."""
    task_id: int
    per_server: dict[str, int]
    """Bytes sent to each server (all its nodes)."""
    total: int
    """Bytes sent by the whole task."""
    files: list[int]
    """Files sent per upload node, where the model records it."""
    transfers: Counter[str]
    """Upload nodes by transfer kind, where the model records it."""
    task_s: float
    """The task's own duration in the database (started_at to finished_at)."""
    upload_s: float
    """The median upload node's duration."""
    extra: str = ""


@dataclass
class Scenario:
    label: str
    how: str
    samples: list[Sample] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)


@dataclass(frozen=True)
class Options:
    servers: int
    runs: int
    files: int
    size_mb: int
    baseline_full: float | None
    tolerance: float
    disk: bool


# The release and its changes.


def release_files(repo: GitRepo) -> list[Path]:
    """Every file of the release, in a stable order."""
    return sorted(p for p in repo.path.rglob("*") if p.is_file() and ".git" not in p.parts)


def change(repo: GitRepo, paths: Sequence[Path], label: str, rng: random.Random) -> str:
    """Commit a change to each of `paths` (a line appended; a binary file rewritten with new
    random bytes of the same size); returns the new commit's sha."""
    for path in paths:
        if path.suffix == ".bin":
            path.write_bytes(rng.randbytes(path.stat().st_size))
        else:
            with path.open("a") as handle:
                handle.write(f"# {label}\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", label)
    changed = repo.git("show", "--name-only", "--format=", "HEAD").splitlines()
    if len(changed) != len(paths):
        raise RuntimeError(f"{label}: the commit changed {len(changed)} files, not {len(paths)}")
    return repo.git("rev-parse", "HEAD")


# Reading what a task did.


def _seconds_between(later: object, earlier: object) -> float:
    if isinstance(later, datetime) and isinstance(earlier, datetime):
        return (later - earlier).total_seconds()
    return float("nan")


async def sample_of(task_id: int, seconds: float, extra: str = "") -> Sample:
    """The figures the database holds for a task that ran, with the scenario's time."""
    task = await DeployTask.get(id=task_id)
    nodes = await StageRun.filter(task_id=task_id)
    per_server: dict[str, int] = {}
    for node in nodes:
        if node.server_name:
            per_server[node.server_name] = per_server.get(node.server_name, 0) + node.bytes_sent
    uploads = [n for n in nodes if n.stage == Stage.UPLOAD]
    files = [int(getattr(n, "files_sent", 0) or 0) for n in uploads] if HAS_FILES else []
    transfers = Counter(str(getattr(n, "transfer", "")) for n in uploads)
    durations = [_seconds_between(n.finished_at, n.started_at) for n in uploads]
    return Sample(
        seconds=seconds,
        task_id=task_id,
        per_server=per_server,
        total=sum(n.bytes_sent for n in nodes),
        files=files,
        transfers=transfers if HAS_TRANSFER else Counter(),
        task_s=_seconds_between(task.finished_at, task.started_at),
        upload_s=statistics.median(durations) if durations else float("nan"),
        extra=extra,
    )


async def describe(task_id: int) -> str:
    nodes = await StageRun.filter(task_id=task_id).order_by("id")
    bad = [n for n in nodes if n.error or n.status not in ("succeeded", "skipped")]
    lines = [f"{n.server_name or 'local'}/{n.stage}: {n.status} {n.error}" for n in bad[:20]]
    return "\n".join(lines)


# The processes the bench starts (each stopped by its PID).


class Children:
    """Every `hoist deploy` process started; `stop()` ends those still running, by PID."""

    def __init__(self) -> None:
        self.processes: list[asyncio.subprocess.Process] = []

    async def stop(self) -> None:
        for process in self.processes:
            for send in (process.terminate, process.kill):
                if process.returncode is not None:
                    break
                with contextlib.suppress(ProcessLookupError):
                    send()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), 20)


def hoist_command() -> list[str]:
    """The `hoist` script of this Python's environment (.venv/bin/hoist)."""
    script = Path(sys.executable).parent / "hoist"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "bot"]


def child_env(settings: Settings) -> dict[str, str]:
    """Environment for `hoist` processes: this home and database, and this checkout's code."""
    assert settings.secret_key
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {
        "HOIST_HOME": str(settings.home),
        "HOIST_DATABASE_URL": settings.database_url,
        "HOIST_SECRET_KEY": settings.secret_key,
        "PYTHONPATH": path,
        "PYTHONUNBUFFERED": "1",
    }


# The three ways to release.


async def cli_deploy(children: Children, environ: dict[str, str], env: str, sha: str) -> Sample:
    """`hoist deploy shop ENV --ref SHA` as a process; its wall time, spawn to exit."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *hoist_command(),
        "deploy",
        "shop",
        env,
        "--ref",
        sha,
        env=os.environ | environ,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    children.processes.append(process)
    async with asyncio.timeout(WAIT):
        out, _ = await process.communicate()
    seconds = time.perf_counter() - started
    text = out.decode(errors="replace")
    found = CLI_TASK.search(text)
    if process.returncode != 0 or found is None:
        tail = "\n".join(text.splitlines()[-30:])
        detail = await describe(int(found.group(1))) if found else ""
        raise RuntimeError(f"hoist deploy exited {process.returncode}:\n{tail}\n{detail}")
    return await sample_of(int(found.group(1)), seconds)


async def slack_deploy(slack: FakeSlack, sha: str) -> Sample:
    """`/deploy shop prod SHA` through the stand-in; from sending it to the task at rest."""
    seen = {e.ts for e in slack.ephemerals(SLACK_USER)}
    sent_at = time.time()
    started = time.perf_counter()
    reply = await slack.slash_command(SLACK_USER, f"shop prod {sha}", CHANNEL)
    if reply.status != 200:
        raise RuntimeError(f"/deploy answered HTTP {reply.status}: {reply.text}")

    def answered() -> str | None:
        return next((e.text for e in slack.ephemerals(SLACK_USER) if e.ts not in seen), None)

    text = await slack.wait_for(answered, timeout=60)
    found = CREATED.search(text)
    if found is None:
        raise RuntimeError(f"/deploy did not create a task: {text}")
    task_id = int(found.group(1))
    async with asyncio.timeout(WAIT):
        while True:
            task = await DeployTask.get(id=task_id)
            if TaskStatus(task.status).finished:
                break
            await asyncio.sleep(POLL)
    observed = time.perf_counter() - started
    if task.status != TaskStatus.SUCCEEDED:
        raise RuntimeError(f"task #{task_id} ended {task.status}:\n{await describe(task_id)}")
    exact = task.finished_at.timestamp() - sent_at if task.finished_at else float("nan")
    return await sample_of(task_id, observed, extra=f"exact {exact:.2f} s")


async def engine_deploy(fleet: OpenSSHFleet, env: str, sha: str, names: Sequence[str]) -> Sample:
    """bench_deploy's measure: engine.deploy() to the task at rest, in this process."""
    before = await DeployTask.all().order_by("-id").first()
    run = await deploy_once(fleet, env, sha, sshd_pids(fleet, names))
    task = await DeployTask.filter(id__gt=before.id if before else 0).order_by("-id").first()
    assert task is not None
    extra = (
        f"package {run.package:.2f} s, servers {run.servers:.2f} s, "
        f"deploy node {run.deploy:.2f} s, finish {run.finish:.2f} s"
    )
    return await sample_of(task.id, run.wall, extra=extra)


# Reporting.


def _mb(count: float) -> str:
    return f"{count / MB:.3f}" if count < 10 * MB else f"{count / MB:.1f}"


def run_line(label: str, number: int, sample: Sample, synced: float | None = None) -> str:
    values = list(sample.per_server.values()) or [0]
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(sample.transfers.items()))
    files = f", files/server {statistics.median(sample.files):g}" if sample.files else ""
    return (
        f"{label} run {number}: {sample.seconds:.2f} s (task #{sample.task_id}: "
        f"{sample.task_s:.2f} s in the database, median upload node {sample.upload_s:.2f} s"
        + (f"; {sample.extra}" if sample.extra else "")
        + f"), sent {_mb(statistics.median(values))} MB/server median, "
        f"{_mb(max(values))} max, {_mb(sample.total)} MB in all{files}"
        + (f", transfer: {kinds}" if kinds else "")
        + (f" [sync before it {synced:.1f} s]" if synced is not None else "")
    )


def print_table(scenarios: Sequence[Scenario], options: Options) -> None:
    print()
    print(f"{options.servers} servers, {options.files} files / {options.size_mb} MB; seconds")
    header = (
        f"{'scenario':<22} {'how':<27} {'median s':>8}  {'runs s':<20} {'task s':>6}  "
        f"{'MB/server med / max':<21} {'MB in all':>9}  {'files/srv':>9}  transfer"
    )
    print(header)
    print("-" * len(header))
    for scenario in scenarios:
        samples = scenario.samples
        if not samples:
            continue
        per_server = [v for s in samples for v in s.per_server.values()] or [0]
        medians = [statistics.median(list(s.per_server.values()) or [0]) for s in samples]
        files = [f for s in samples for f in s.files]
        kinds: Counter[str] = Counter()
        for sample in samples:
            kinds.update(sample.transfers)
        runs = " ".join(f"{s.seconds:.2f}" for s in samples)
        sent = f"{_mb(statistics.median(medians))} / {_mb(max(per_server))}"
        total = statistics.median(s.total for s in samples)
        task_s = statistics.median(s.task_s for s in samples)
        print(
            f"{scenario.label:<22} {scenario.how:<27} {scenario.median():>8.2f}  {runs:<20} "
            f"{task_s:>6.2f}  {sent:<21} {_mb(total):>9}  "
            f"{(f'{statistics.median(files):g}' if files else 'n/a'):>9}  "
            + (", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "n/a")
        )
    print(
        "(runs: every run's figure; task s: the task's own duration in the database, median; "
        "MB/server: median over runs of the median server, and the largest server of any run; "
        "MB in all: median over runs; transfer: upload nodes by kind, over all runs)"
    )
    print()
    by = {s.label: s for s in scenarios}
    cold, warm = by["one file, cold"], by["one file, warm"]
    ten, full = by["10% of files"], by["full (fresh env)"]
    checks: list[tuple[str, float, str, bool | None]] = []
    if cold.samples:
        value = cold.median()
        checks.append(("one file, cold (hoist deploy) under 6.5 s", value, "s", value < 6.5))
    if warm.samples:
        value = warm.median()
        checks.append(("one file, warm (hoist serve) under 2 s", value, "s", value < 2.0))
    one_file = [v for s in cold.samples + warm.samples for v in s.per_server.values()]
    if one_file:
        value = max(one_file) / MB
        label = "one file: under 1 MB sent per server (largest, cold and warm runs)"
        checks.append((label, value, "MB", value < 1.0))
    if ten.samples and full.samples:
        value = ten.median() / full.median()
        label = f"10% under 40% of the full release ({ten.median():.2f} / {full.median():.2f} s)"
        checks.append((label, value * 100, "%", value < 0.4))
    if full.samples:
        value = full.median()
        if options.baseline_full is None:
            label = "full release no slower than before (give --baseline-full S to check)"
            checks.append((label, value, "s", None))
        else:
            limit = options.baseline_full * (1 + options.tolerance)
            label = (
                f"full release no slower than before ({options.baseline_full:.2f} s "
                f"+{options.tolerance:.0%} for noise = {limit:.2f} s; "
                f"{value / options.baseline_full - 1:+.1%})"
            )
            checks.append((label, value, "s", value <= limit))
    for label, value, unit, met in checks:
        verdict = "not checked" if met is None else ("met" if met else "MISSED")
        print(f"target {label}: {value:.2f} {unit} -> {verdict}")
    if HAS_TRANSFER:
        not_full = sum(n for k, n in _kinds(full).items() if k != "full")
        if not_full:
            print(f"note: {not_full} upload nodes of the full scenario were not `full`")
        not_delta = sum(n for k, n in _kinds(cold, warm, ten).items() if k != "delta")
        if not_delta:
            print(f"note: {not_delta} upload nodes of the one-file and 10% releases were not delta")
    else:
        print("StageRun has no `transfer` field yet: every release is a full upload")


def _kinds(*scenarios: Scenario) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for scenario in scenarios:
        for sample in scenario.samples:
            kinds.update(sample.transfers)
    return kinds


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# The run.


async def bench(options: Options) -> None:
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hoist-bench-delta-")))
        roots = tmp / "roots"
        if not options.disk:
            shm = tempfile.TemporaryDirectory(prefix="hoist-bench-delta-", dir="/dev/shm")
            roots = Path(stack.enter_context(shm)) / "roots"
        home = tmp / "home"
        settings = Settings(home, f"sqlite://{home / 'hoist.sqlite3'}", generate_secret())
        await open_database(settings)
        try:
            await _bench(options, tmp, roots, settings)
        finally:
            await close_database()


async def _bench(options: Options, tmp: Path, roots_dir: Path, settings: Settings) -> None:
    on = "disk" if options.disk else "tmpfs"
    print(f"load average at start: {load()}; code from {ROOT}; servers' /data on {on}")
    started = time.perf_counter()
    repo = GitRepo(tmp / "repo")
    count, written = write_release(repo.path, options.files, options.size_mb * MB)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "the release")
    files = release_files(repo)
    modules = [p for p in files if p.suffix == ".py"]
    elapsed = time.perf_counter() - started
    print(f"repository: {count} files, {written / MB:.1f} MB written in {elapsed:.1f} s")

    box = await open_box(settings)  # seals the database's check with the processes' secret
    names = [f"web{i:02d}" for i in range(1, options.servers + 1)]
    key, public = client_key()
    roots = {name: roots_dir / name for name in names}
    homes = {name: tmp / "homes" / name for name in names}
    for folder in [*roots.values(), *homes.values()]:
        folder.mkdir(parents=True)
    started = time.perf_counter()
    sshds = await start_sshds(names, public, roots, homes)
    children = Children()
    try:
        print(f"started {len(names)} sshd in {time.perf_counter() - started:.2f} s")
        await service.add_key(ALICE, key, box)
        for name, server in sshds.items():
            spec = ServerSpec(name, server.address, "deploy", server.port, server.host_key_line)
            await service.add_server(ALICE, spec)
        await service.add_project(ALICE, ProjectSpec("shop", repo.url, keep_releases=5))
        await Project.filter(slug="shop").update(channel=CHANNEL)
        for env in ["prod", *(f"full{i}" for i in range(1, options.runs + 1))]:
            where = EnvSpec("shop", env, f"{DATA}/{env}/", f"{DATA}/codes", tuple(names))
            await service.add_env(ALICE, where)
        bus = EventBus()
        engine = Engine(EngineSettings.for_hoist(settings), box, bus=bus)
        fleet = OpenSSHFleet(settings.home, repo, {}, engine, bus, DATA, roots, sshds)
        await engine.git.ensure_mirror("shop", repo.url)
        try:
            await _scenarios(options, fleet, settings, children, names, files, modules)
        finally:
            await children.stop()
            await engine.wait_idle()
    finally:
        await stop_all(sshds.values())


async def _scenarios(
    options: Options,
    fleet: OpenSSHFleet,
    settings: Settings,
    children: Children,
    names: list[str],
    files: list[Path],
    modules: list[Path],
) -> None:
    repo, environ, rng = fleet.repo, child_env(settings), random.Random(11)
    scenarios = [
        Scenario("one file, cold", "hoist deploy (CLI process)"),
        Scenario("one file, warm", "/deploy via hoist serve"),
        Scenario("10% of files", "in-process Engine"),
        Scenario("full (fresh env)", "in-process Engine"),
    ]
    cold, warm, ten, full = scenarios

    async def tidy(env: str = "prod") -> None:
        await asyncio.to_thread(drop_old_releases, fleet, names, env)

    first = await cli_deploy(children, environ, "prod", repo.git("rev-parse", "HEAD"))
    print(run_line("first full release (hoist deploy, not a figure)", 1, first), flush=True)
    await tidy()

    for i in range(options.runs):
        sha = change(repo, [rng.choice(modules)], f"cold-{i + 1}", rng)
        synced = await flush()
        cold.samples.append(await cli_deploy(children, environ, "prod", sha))
        print(run_line("one file, cold", i + 1, cold.samples[-1], synced), flush=True)
        await tidy()

    slack = FakeSlack(
        workspace=Workspace.sample(),
        message_rate=MessageRate(50.0, 50),
        signing_secret=SIGNING_SECRET,
    )
    await slack.start()
    try:
        started = time.perf_counter()
        extra = environ | {"HOIST_SHUTDOWN_GRACE": "60"}
        bot = await BotProcess.start(settings, slack, SIGNING_SECRET, **extra)
        try:
            slack.connect_bot(bot.events_url, SIGNING_SECRET)
            print(
                f"hoist serve (pid {bot.process.pid}) serving in "
                f"{time.perf_counter() - started:.2f} s",
                flush=True,
            )
            sha = change(repo, [rng.choice(modules)], "warm-up", rng)
            warmup = await slack_deploy(slack, sha)
            print(run_line("warm-up through hoist serve (not a figure)", 1, warmup), flush=True)
            await tidy()
            for i in range(options.runs):
                sha = change(repo, [rng.choice(modules)], f"warm-{i + 1}", rng)
                synced = await flush()
                warm.samples.append(await slack_deploy(slack, sha))
                print(run_line("one file, warm", i + 1, warm.samples[-1], synced), flush=True)
                await tidy()
            code = await bot.terminate()
            if code != 0:
                print(f"hoist serve exited {code}:\n" + "\n".join(bot.lines[-20:]))
        finally:
            await bot.kill()  # only if it is still running: by its PID
    finally:
        await slack.stop()

    tenth = max(1, len(files) // 10)
    for i in range(options.runs):
        sha = change(repo, rng.sample(files, tenth), f"tenth-{i + 1}", rng)
        synced = await flush()
        ten.samples.append(await engine_deploy(fleet, "prod", sha, names))
        print(run_line(f"10% of files ({tenth})", i + 1, ten.samples[-1], synced), flush=True)
        await tidy()
        env = f"full{i + 1}"
        synced = await flush()
        full.samples.append(await engine_deploy(fleet, env, sha, names))
        print(run_line(f"full, fresh env {env}", i + 1, full.samples[-1], synced), flush=True)
        await asyncio.to_thread(drop_env, fleet, names, env)

    print_table(scenarios, options)
    print(f"load average at the end: {load()}")


async def flush() -> float:
    """Untimed, before each timed release: write every dirty page to disk (sync(2)), so no
    release competes with the writeback of the one before; returns the seconds it took."""
    started = time.perf_counter()
    await asyncio.to_thread(os.sync)
    return time.perf_counter() - started


def drop_env(fleet: OpenSSHFleet, names: Sequence[str], env: str) -> None:
    """Untimed: delete a fresh environment's release and link from every server's disk."""
    for name in names:
        shutil.rmtree(fleet.on_disk(name, DATA / "codes" / "shop" / env), ignore_errors=True)
        shutil.rmtree(fleet.on_disk(name, DATA / env), ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--servers", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--mb", type=int, default=30, help="release size before compression")
    parser.add_argument(
        "--baseline-full",
        type=float,
        metavar="SECONDS",
        help="the full release's median before the change (bench_deploy.py --servers N)",
    )
    parser.add_argument(
        "--disk",
        action="store_true",
        help="keep the servers' private /data folders on disk instead of in /dev/shm",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.05,
        help="share the full release may be slower than --baseline-full, for noise",
    )
    args = parser.parse_args()
    if args.servers < 1 or args.runs < 1 or args.files < 20:
        parser.error("--servers and --runs need at least 1, --files at least 20")
    reason = sshd_skip_reason()
    if reason is not None:
        sys.exit(f"cannot start OpenSSH servers here: {reason}")
    options = Options(
        args.servers,
        args.runs,
        args.files,
        args.mb,
        args.baseline_full,
        args.tolerance,
        args.disk,
    )
    try:
        asyncio.run(_main(options))
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit("interrupted; every process the bench started was stopped")


async def _main(options: Options) -> None:
    """Run the bench; SIGTERM cancels it like Ctrl-C, so every process is still stopped."""
    current = asyncio.current_task()
    assert current is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, current.cancel)
    await bench(options)


if __name__ == "__main__":
    main()
