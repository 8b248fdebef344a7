"""How fast a full deploy of a realistic release reaches 1, 10 and 50 real OpenSSH servers.

Starts the largest N of real `/usr/sbin/sshd` servers on loopback, each in a mount namespace of
its own with a private folder at `/data` (the same absolute deploy path on every server, as in
production; see tests/opensshfleet.py) and, unless --login-rc, an empty root home (no login
scripts: this machine's /root/.bashrc runs `pyenv init` on every SSH session). Builds a git
repository holding a release of 2,000 files / 30 MB (source-like text, some random binary,
a few executables), then for each N deploys through the real Engine (SQLite in a temp
HOIST_HOME) `--runs` times, each run a fresh commit so every server really receives it.

Per N it prints the median and every run of:
  wall   seconds from engine.deploy() (ref resolved, mirror fetched) to the task succeeded
  ttfb   seconds from the start of engine.run to the first upload node's RUNNING event
  rss    the process's peak RSS so far (ru_maxrss: it only grows, so later Ns include earlier)
  sent   bytes sent in all (sum of the task's StageRun.bytes_sent)
and, to show where the wall time goes (medians): deploy() itself, the local chain (start to
package done), the servers (first upload start to last server node done) and the finish
(last node done to task done: old-release cleanup, package pruning).

    python bench/bench_deploy.py [--servers 1,10,50] [--runs 3] [--files 2000] [--mb 30]

Targets (from the engine issue): N=50 under 35 s, N=1 under 3 s, peak RSS under 300 MB at
N=50, first byte under 1 s with a warm mirror. Every sshd started is stopped by its PID at the
end, also on errors and Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import Settings  # noqa: E402
from core.engine.events import NodeChanged  # noqa: E402
from core.engine.requests import DeployRequest  # noqa: E402
from core.engine.settings import EngineSettings  # noqa: E402
from core.inventory import service  # noqa: E402
from core.inventory.specs import EnvSpec  # noqa: E402
from core.secrets import generate_secret  # noqa: E402
from core.status import NodeStatus, Stage, TaskStatus  # noqa: E402
from core.store.db import close_database, open_database  # noqa: E402
from core.store.models import DeployTask, StageRun  # noqa: E402
from tests.gitrepo import GitRepo  # noqa: E402
from tests.opensshfleet import ALICE, DATA, OpenSSHFleet, make_openssh_fleet  # noqa: E402
from tests.opensshfleet import skip_reason as sshd_skip_reason  # noqa: E402

MB = 1024 * 1024
TEXT_SHARE = 0.7  # of the bytes; the rest is random binary (images, fonts, wheels…)
BINARY_FILES = 0.12  # of the files
WORDS = (
    "self def return import from class if else elif for while in not and or None True False "
    "request response user order item cart price total session cache config logger error "
    "value result data items key name id status create update delete fetch query filter "
    "async await yield with as try except finally raise lambda dict list set tuple int str"
).split()


@dataclass
class Run:
    wall: float
    ttfb: float
    rss_mb: float
    sent: int
    deploy_call: float
    download: float
    package: float
    upload: float
    deploy: float
    servers: float
    finish: float
    cpu: Cpu
    spurious_cancel: bool = False


@dataclass
class Row:
    servers: int
    runs: list[Run] = field(default_factory=list)


# The release.


def _line(rng: random.Random) -> str:
    indent = "    " * rng.randint(0, 3)
    words = rng.choices(WORDS, k=rng.randint(2, 12))
    if rng.random() < 0.3:
        words.append(f"{rng.randint(0, 99999)}")
    if rng.random() < 0.2:
        words.append(f"'{rng.choice(WORDS)}_{rng.randint(0, 999)}'")
    return indent + " ".join(words) + "\n"


def write_release(root: Path, files: int, size: int, seed: int = 7) -> tuple[int, int]:
    """Write `files` files of about `size` bytes in all under `root`; (files, bytes) written."""
    rng = random.Random(seed)
    pool = [_line(rng) for _ in range(20_000)]
    binaries = max(1, int(files * BINARY_FILES))
    texts = files - binaries - 3
    text_avg = int(size * TEXT_SHARE) // texts
    binary_avg = int(size * (1 - TEXT_SHARE)) // binaries
    written = 0
    for i in range(texts):
        path = root / "src" / f"pkg{i % 40:02d}" / f"module_{i:04d}.py"
        target = rng.randint(text_avg // 4, text_avg * 7 // 4)
        lines, length = [], 0
        while length < target:
            line = rng.choice(pool)
            lines.append(line)
            length += len(line)
        written += _write(path, "".join(lines).encode())
    for i in range(binaries):
        path = root / "assets" / f"blob_{i:03d}.bin"
        written += _write(path, rng.randbytes(rng.randint(binary_avg // 4, binary_avg * 7 // 4)))
    for name in ("start", "stop", "migrate"):
        written += _write(root / "bin" / name, f"#!/bin/sh\necho {name}\n".encode(), mode=0o755)
    return files, written


def _write(path: Path, data: bytes, mode: int = 0o644) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return len(data)


def new_commit(repo: GitRepo, label: str, rng: random.Random) -> str:
    """A fresh commit: a new VERSION and a line added to 20 modules."""
    (repo.path / "VERSION").write_text(label + "\n")
    modules = sorted((repo.path / "src").rglob("*.py"))
    for path in rng.sample(modules, 20):
        with path.open("a") as handle:
            handle.write(f"# {label}\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", label)
    return repo.git("rev-parse", "HEAD")


# Measuring.


@dataclass(frozen=True)
class Cpu:
    """CPU seconds: the engine (this process and the git it ran), the sshds (with every
    session below them), the whole machine (all cores); the rest of the machine's is other
    load on it (this box may be shared)."""

    engine: float
    sshd: float
    machine: float

    @property
    def other(self) -> float:
        return self.machine - self.engine - self.sshd

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.engine - other.engine, self.sshd - other.sshd, self.machine - other.machine)


TICK = os.sysconf("SC_CLK_TCK")


def _process_times() -> tuple[dict[int, float], dict[int, list[int]]]:
    """Every process's CPU seconds (its own and its reaped children's), and the tree."""
    times: dict[int, float] = {}
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            times[pid] = sum(int(v) for v in fields[11:15]) / TICK  # u, s, cu, cs time
            children.setdefault(int(fields[1]), []).append(pid)
    return times, children


def cpu_now(sshd_pids: Sequence[int]) -> Cpu:
    """A snapshot; the difference of two is what a run used."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    git = resource.getrusage(resource.RUSAGE_CHILDREN)  # the sshds are reaped only at the end
    engine = own.ru_utime + own.ru_stime + git.ru_utime + git.ru_stime
    times, children = _process_times()
    sshd, todo = 0.0, list(sshd_pids)
    while todo:
        pid = todo.pop()
        sshd += times.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    busy = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in busy[:8])
    return Cpu(engine, sshd, (user + nice + system + irq + softirq + steal) / TICK)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _seconds(later: datetime | None, earlier: datetime | None) -> float:
    if later is None or earlier is None:
        return float("nan")
    return (later - earlier).total_seconds()


def sshd_pids(fleet: OpenSSHFleet, names: Sequence[str]) -> list[int]:
    """The listener PIDs of the named servers' sshds (the test helper keeps the process)."""
    return [p.pid for n in names if (p := fleet.sshds[n]._process) is not None]


def _median_node(nodes: Sequence[StageRun], stage: Stage) -> float:
    """The median duration of the nodes of `stage`, in seconds."""
    return statistics.median(
        _seconds(n.finished_at, n.started_at) for n in nodes if n.stage == stage
    )


async def run_task(fleet: OpenSSHFleet, task: DeployTask) -> tuple[TaskStatus, bool]:
    """`engine.run`, and whether it raised CancelledError though nobody cancelled us.

    Engine._heartbeat cancels the run when its lease renewal matches no RUNNING task, which
    is also the case after the run stored its final status while it still closes the SSH
    connections: the task is done, yet engine.run raises CancelledError. The bench records
    that and carries on, reading the status from the database.
    """
    try:
        return await fleet.engine.run(task.id), False
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # a real cancel: Ctrl-C or SIGTERM
        await task.refresh_from_db()
        return TaskStatus(task.status), True


async def deploy_once(fleet: OpenSSHFleet, env: str, sha: str, pids: Sequence[int]) -> Run:
    events = fleet.bus.subscribe()
    first_upload: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def watch() -> None:
        async for event in events:
            if (
                isinstance(event, NodeChanged)
                and event.stage == Stage.UPLOAD
                and event.status == NodeStatus.RUNNING
            ):
                first_upload.set_result(time.perf_counter())
                return

    watcher = asyncio.create_task(watch())
    try:
        cpu_before = cpu_now(pids)
        started = time.perf_counter()
        request = DeployRequest(project="shop", env=env, requester="bench", ref=sha)
        task = await fleet.engine.deploy(request, ALICE)
        run_started = time.perf_counter()
        status, spurious = await run_task(fleet, task)
        ended = time.perf_counter()
        cpu = cpu_now(pids) - cpu_before
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        events.close()
    if status != TaskStatus.SUCCEEDED:
        raise RuntimeError(f"task #{task.id} ended {status}:\n{await fleet.describe(task)}")
    task = await DeployTask.get(id=task.id)
    nodes = await StageRun.filter(task=task)
    local = {n.stage: n for n in nodes if not n.server_name}
    remote = [n for n in nodes if n.server_name]
    download, package = local[Stage.DOWNLOAD], local[Stage.PACKAGE]
    remote_start = min((n.started_at for n in remote if n.started_at), default=None)
    remote_end = max((n.finished_at for n in remote if n.finished_at), default=None)
    return Run(
        wall=ended - started,
        ttfb=(first_upload.result() if first_upload.done() else float("nan")) - run_started,
        rss_mb=peak_rss_mb(),
        sent=sum(n.bytes_sent for n in nodes),
        deploy_call=run_started - started,
        download=_seconds(download.finished_at, download.started_at),
        package=_seconds(package.finished_at, package.started_at),
        upload=_median_node(remote, Stage.UPLOAD),
        deploy=_median_node(remote, Stage.DEPLOY),
        servers=_seconds(remote_end, remote_start),
        finish=_seconds(task.finished_at, remote_end),
        cpu=cpu,
        spurious_cancel=spurious,
    )


# Reporting.


def _cell(values: Sequence[float], fmt: str) -> str:
    median = format(statistics.median(values), fmt)
    return f"{median} ({' '.join(format(v, fmt) for v in values)})"


def print_table(rows: list[Row], package_mb: float) -> None:
    print()
    print(f"package {package_mb:.1f} MB gzip'd; median (each run)")
    header = f"{'N':>3}  {'wall s':<29} {'ttfb s':<22} {'peak RSS MB':<18} {'sent MB':<26}"
    print(header)
    print("-" * len(header))
    for row in rows:
        runs = row.runs
        print(
            f"{row.servers:>3}  {_cell([r.wall for r in runs], '.2f'):<29} "
            f"{_cell([r.ttfb for r in runs], '.2f'):<22} "
            f"{_cell([r.rss_mb for r in runs], '.0f'):<18} "
            f"{_cell([r.sent / MB for r in runs], '.1f'):<26}"
        )
    print()
    print(
        "where the time goes, medians in s: deploy() call, local download and package, "
        "per-server upload and deploy nodes (median over servers), all server nodes, "
        "finish (cleanup); CPU seconds used during the run"
    )
    columns = ["deploy()", "download", "package", "upload", "deploy", "servers", "finish"]
    columns += ["cpu engine", "cpu sshd", "cpu other"]
    print(f"{'N':>3}  " + "".join(f"{c:>11}" for c in columns))
    for row in rows:
        runs = row.runs
        values = [
            statistics.median(r.deploy_call for r in runs),
            statistics.median(r.download for r in runs),
            statistics.median(r.package for r in runs),
            statistics.median(r.upload for r in runs),
            statistics.median(r.deploy for r in runs),
            statistics.median(r.servers for r in runs),
            statistics.median(r.finish for r in runs),
            statistics.median(r.cpu.engine for r in runs),
            statistics.median(r.cpu.sshd for r in runs),
            statistics.median(r.cpu.other for r in runs),
        ]
        print(f"{row.servers:>3}  " + "".join(f"{v:>11.2f}" for v in values))
    print()
    by_n = {row.servers: row for row in rows}
    checks: list[tuple[int, str, Callable[[Run], float], float]] = [
        (50, "N=50 under 35 s", lambda r: r.wall, 35.0),
        (1, "N=1 under 3 s", lambda r: r.wall, 3.0),
        (50, "peak RSS under 300 MB at N=50", lambda r: r.rss_mb, 300.0),
    ]
    for n, label, pick, limit in checks:
        if n in by_n:
            value = statistics.median(pick(r) for r in by_n[n].runs)
            verdict = "met" if value < limit else "MISSED"
            print(f"target {label}: median {value:.2f} -> {verdict}")
    for row in rows:
        value = statistics.median(r.ttfb for r in row.runs)
        verdict = "met" if value < 1.0 else "MISSED"
        label = f"first byte under 1 s (warm mirror), N={row.servers}"
        print(f"target {label}: median {value:.2f} -> {verdict}")
    spurious = sum(r.spurious_cancel for row in rows for r in row.runs)
    if spurious:
        total = sum(len(row.runs) for row in rows)
        print(
            f"engine.run raised CancelledError for a task that succeeded in {spurious} of "
            f"{total} runs (Engine._heartbeat during the connections' close)"
        )


# The run.


@dataclass(frozen=True)
class Options:
    counts: list[int]
    runs: int
    files: int
    size_mb: int
    login_rc: bool
    tmpfs: bool


async def bench(options: Options) -> None:
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hoist-bench-")))
        roots = tmp
        if options.tmpfs:
            shm = tempfile.TemporaryDirectory(prefix="hoist-bench-", dir="/dev/shm")
            roots = Path(stack.enter_context(shm))
        home = tmp / "home"
        settings = Settings(home, f"sqlite://{home / 'hoist.sqlite3'}", generate_secret())
        await open_database(settings)
        try:
            await _bench(options, tmp, roots, home)
        finally:
            await close_database()


async def _bench(options: Options, tmp: Path, roots: Path, home: Path) -> None:
    started = time.perf_counter()
    repo = GitRepo(tmp / "repo")
    count, written = write_release(repo.path, options.files, options.size_mb * MB)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "the release")
    elapsed = time.perf_counter() - started
    print(f"repository: {count} files, {written / MB:.1f} MB written in {elapsed:.1f} s")

    names = [f"web{i:02d}" for i in range(1, max(options.counts) + 1)]
    started = time.perf_counter()
    fleet = await make_openssh_fleet(
        tmp,
        names,
        repo=repo,
        settings=EngineSettings(home=home),
        clean_home=not options.login_rc,
        roots_dir=roots,
    )
    try:
        where = "tmpfs" if options.tmpfs else "disk"
        home_note = "this machine's /root" if options.login_rc else "an empty root home"
        print(
            f"started {len(names)} sshd, each with a private /data (on {where}) and "
            f"{home_note}, in {time.perf_counter() - started:.2f} s"
        )
        for n in options.counts:
            await service.add_env(
                ALICE,
                EnvSpec(
                    "shop",
                    f"n{n}",
                    deploy_path=f"{DATA}/n{n}/",
                    codes_root=f"{DATA}/codes",
                    servers=tuple(names[:n]),
                ),
            )
        started = time.perf_counter()
        await fleet.engine.git.ensure_mirror("shop", repo.url)
        print(f"mirror cloned (warm from here on) in {time.perf_counter() - started:.2f} s")
        print(f"peak RSS before deploying: {peak_rss_mb():.0f} MB")

        rng = random.Random(11)
        rows, package_mb = [], 0.0
        for n in options.counts:
            row = Row(n)
            for i in range(options.runs):
                sha = new_commit(repo, f"n{n}-run{i + 1}", rng)
                run = await deploy_once(fleet, f"n{n}", sha, sshd_pids(fleet, names[:n]))
                row.runs.append(run)
                package_mb = run.sent / n / MB
                print(
                    f"N={n:<3} run {i + 1}: wall {run.wall:.2f} s, ttfb {run.ttfb:.2f} s, "
                    f"peak RSS {run.rss_mb:.0f} MB, sent {run.sent / MB:.1f} MB, "
                    f"cpu engine/sshd/other {run.cpu.engine:.1f}/{run.cpu.sshd:.1f}/"
                    f"{run.cpu.other:.1f} s"
                    + (
                        "  [engine.run raised CancelledError for this task, which succeeded]"
                        if run.spurious_cancel
                        else ""
                    ),
                    flush=True,
                )
                await asyncio.to_thread(drop_old_releases, fleet, names[:n], f"n{n}")
            rows.append(row)
        print_table(rows, package_mb)
    finally:
        await fleet.stop()


def drop_old_releases(fleet: OpenSSHFleet, names: Sequence[str], env: str) -> None:
    """Between runs, untimed: delete every release but the live one from the servers' disks,
    so 50 servers × runs × 30 MB never pile up (tmpfs is memory)."""
    for name in names:
        codes = fleet.on_disk(name, DATA / "codes" / "shop" / env)
        live = fleet.on_disk(name, DATA / env / "shop").resolve().name
        for release in codes.iterdir():
            if release.is_dir() and not release.name.startswith(".") and release.name != live:
                shutil.rmtree(release, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--servers", default="1,10,50", help="comma-separated fleet sizes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--mb", type=int, default=30, help="release size before compression")
    parser.add_argument(
        "--login-rc",
        action="store_true",
        help="keep this machine's /root (and its .bashrc) as the servers' home",
    )
    parser.add_argument(
        "--tmpfs",
        action="store_true",
        help="keep the servers' private /data folders in /dev/shm instead of on disk",
    )
    args = parser.parse_args()
    counts = sorted({int(n) for n in args.servers.split(",") if n.strip()})
    if not counts or counts[0] < 1 or args.runs < 1:
        parser.error("--servers needs positive numbers and --runs at least 1")
    reason = sshd_skip_reason()
    if reason is not None:
        sys.exit(f"cannot start OpenSSH servers here: {reason}")
    options = Options(counts, args.runs, args.files, args.mb, args.login_rc, args.tmpfs)
    asyncio.run(_main(options))


async def _main(options: Options) -> None:
    """Run the bench; SIGTERM cancels it like Ctrl-C, so the sshds are still stopped."""
    current = asyncio.current_task()
    assert current is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, current.cancel)
    await bench(options)


if __name__ == "__main__":
    main()
