"""A whole Hoist bot for benchmarks: the Slack stand-in, the real bot, local SSH hosts, a repo.

Uses only the installed packages (`bot`, `core`), never the tests. The hosts are
`LocalSSHHost`s, each with a private root over the shared data folder when this machine
allows it (`isolation_available()`); they run either in a child process (the default, as real
servers are not in the bot's process: `python bench/sandbox_bot.py serve-hosts …`) or in the
benchmark's own event loop, as the tests run them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import BotSettings
from bot.runtime import RunningBot, start_bot
from bot.sandbox import FakeSlack, MessageRate, Workspace
from core.config import Settings
from core.sandbox.ssh_host import LocalSSHHost, isolation_available

ALICE, BOB, CAROL = "U0ALICE00", "U0BOB0000", "U0CAROL00"
REVIEWERS = "S0REVIEWS"  # the sample workspace's group of bob and carol
CHANNEL = "C0DEPLOYS"
SECRET = "signing-secret-for-bench"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


# --- SSH hosts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HostInfo:
    name: str
    port: int
    host_key_line: str


class Hosts:
    """Started local SSH hosts: where they listen; `stop()` stops them and what they ran."""

    def __init__(self, infos: list[HostInfo], isolated: bool, where: str) -> None:
        self.infos = infos
        self.isolated = isolated
        self.where = where  # "child process N" or "in process"

    async def stop(self) -> None:
        raise NotImplementedError


class _InProcessHosts(Hosts):
    def __init__(self, hosts: list[LocalSSHHost], isolated: bool) -> None:
        infos = [HostInfo(h.name, h.port, h.host_key_line) for h in hosts]
        super().__init__(infos, isolated, "in process")
        self._hosts = hosts

    async def stop(self) -> None:
        for host in self._hosts:
            await host.stop()


class _ChildHosts(Hosts):
    def __init__(
        self, process: asyncio.subprocess.Process, infos: list[HostInfo], isolated: bool
    ) -> None:
        super().__init__(infos, isolated, f"child process {process.pid}")
        self._process = process

    async def stop(self) -> None:
        await _end_child(self._process)


async def _end_child(process: asyncio.subprocess.Process) -> None:
    """Close the child's stdin (it stops its hosts and exits); TERM, then KILL, by its pid."""
    if process.returncode is not None:
        return
    if process.stdin is not None:
        process.stdin.close()
    for send in (None, process.terminate, process.kill):
        if send is not None:
            with contextlib.suppress(ProcessLookupError):
                send()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            return
        except TimeoutError:
            continue


async def start_hosts(
    names: Sequence[str], public_key: str, data: Path, roots: Path, *, in_process: bool = False
) -> Hosts:
    """Start one host per name; each sees `roots/NAME` at `data` when isolation is available."""
    isolated = isolation_available() is None
    if in_process:
        started: list[LocalSSHHost] = []
        try:
            for name in names:
                root = roots / name if isolated else None
                host = LocalSSHHost(
                    public_key, name=name, root=root, mount_at=data if root else None
                )
                await host.start()
                started.append(host)
        except BaseException:
            for host in started:
                await host.stop()
            raise
        return _InProcessHosts(started, isolated)
    key_file = roots.parent / "client_key.pub"
    key_file.write_text(public_key + "\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).resolve()),
        "serve-hosts",
        "--key-file",
        str(key_file),
        "--data",
        str(data),
        "--roots",
        str(roots),
        "--names",
        ",".join(names),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT)
        if not line:
            raise RuntimeError(f"the hosts' process exited ({await process.wait()}) before ready")
        ready = json.loads(line)
        infos = [HostInfo(h["name"], int(h["port"]), h["host_key_line"]) for h in ready["hosts"]]
        return _ChildHosts(process, infos, bool(ready["isolated"]))
    except BaseException:
        await _end_child(process)
        raise


async def serve_hosts(key_file: Path, data: Path, roots: Path, names: list[str]) -> None:
    """The child: start the hosts, print where they listen, serve until stdin closes or TERM."""
    public_key = key_file.read_text().strip()
    hosts = await start_hosts(names, public_key, data, roots, in_process=True)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, done.set)

    def on_stdin() -> None:
        if not os.read(sys.stdin.fileno(), 4096):
            done.set()

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    try:
        ready = {"isolated": hosts.isolated, "hosts": [vars(h) for h in hosts.infos]}
        print(json.dumps(ready), flush=True)
        await done.wait()
    finally:
        loop.remove_reader(sys.stdin.fileno())
        await hosts.stop()


# --- The stand-in and the bot --------------------------------------------------------------------


@dataclass
class SandboxBot:
    slack: FakeSlack
    running: RunningBot

    async def stop(self) -> None:
        """Stop the bot (it first lets its runs and message updates finish), then the stand-in."""
        try:
            await asyncio.wait_for(self.running.stop(), STOP_TIMEOUT)
        except TimeoutError:
            print(f"the bot did not stop within {STOP_TIMEOUT:g} s; going on", file=sys.stderr)
        finally:
            await self.slack.stop()


async def start_sandbox_bot(
    settings: Settings,
    *,
    rate: MessageRate | None = None,
    min_update_interval: float = 1.0,
    ack_timeout: float = 3.0,
) -> SandboxBot:
    """The stand-in Slack (sample workspace) and the real bot on loopback, on an open database.

    `rate` is the per-channel message rate the stand-in enforces (default: generous, as in the
    tests, so announcements of many tasks at once are not refused).
    """
    slack = FakeSlack(
        workspace=Workspace.sample(),
        message_rate=rate or MessageRate(50.0, 50),
        signing_secret=SECRET,
        ack_timeout=ack_timeout,
    )
    await slack.start()
    try:
        bot_settings = BotSettings(bot_token=slack.token, signing_secret=SECRET, api_url=slack.url)
        running = await start_bot(
            settings,
            bot_settings,
            port=0,
            min_update_interval=min_update_interval,
            open_db=False,
        )
    except BaseException:
        await slack.stop()
        raise
    slack.connect_bot(running.events_url, SECRET)
    return SandboxBot(slack, running)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve local SSH hosts for a benchmark.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve-hosts")
    serve.add_argument("--key-file", type=Path, required=True)
    serve.add_argument("--data", type=Path, required=True)
    serve.add_argument("--roots", type=Path, required=True)
    serve.add_argument("--names", required=True)
    args = parser.parse_args()
    names = [n for n in args.names.split(",") if n]
    asyncio.run(serve_hosts(args.key_file, args.data, args.roots, names))


if __name__ == "__main__":
    main()
