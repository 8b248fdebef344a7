"""The demo's sandbox: a Hoist home, a sample repository, three SSH hosts, an inventory, Slack.

Everything is the real product on its embedded defaults (SQLite, a generated secret, the real
bot over HTTP); only Slack is the local stand-in. Each piece is registered on an exit stack as
it starts, so a failure half-way through still stops exactly what was started.
"""

from __future__ import annotations

import os
import secrets
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import git

from bot.config import BotSettings
from bot.runtime import RunningBot, start_bot
from bot.sandbox import FakeSlack, MessageRate, Workspace
from core.audit import Actor
from core.config import Settings
from core.inventory import service
from core.inventory.specs import EnvSpec, KeySpec, ProjectSpec, ServerSpec
from core.keys import KeyMaterial, generate_key
from core.sandbox.ssh_host import LocalSSHHost, isolation_available
from core.secrets import SecretBox, open_box
from core.store.db import close_database, open_database

SERVERS = ("web1", "web2", "web3")
PROJECT, CHANNEL, CHANNEL_NAME = "shop", "C0DEPLOYS", "#deploys"
REVIEWERS = "S0REVIEWS"
DEMO_ACTOR = Actor("hoist-demo", via="cli")
UPDATE_INTERVAL = 0.1
"""Seconds between redraws of one task's message: quick, so the story never waits on it."""
RELAXED_RATE = MessageRate(per_second=50.0, burst=50)
"""Slack's one message per second per channel would only slow the story down."""
AUTHOR = git.Actor("Ada Lovelace", "ada@shop.example")
SETTINGS_NAME = "shop.env"


@dataclass
class Sandbox:
    """What the demo started, and where each server's files lie on this machine's disk."""

    home: Path
    settings: Settings
    repo: Path
    data: Path
    """The deploy paths' root as every server sees it."""
    no_isolation: str | None
    """Why servers cannot have private roots here (they then share this disk), or None."""
    hosts: dict[str, LocalSSHHost] = field(default_factory=dict)
    signing_secret: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)
    slack: FakeSlack | None = None
    running: RunningBot | None = None

    @property
    def isolated(self) -> bool:
        return self.no_isolation is None

    @property
    def isolation_note(self) -> str:
        """What the demo does without private roots, and why, for the introduction."""
        return (
            f"private server roots are not available here ({self.no_isolation}): the servers "
            "share this machine's disk and deploy one at a time (batch size 1)"
        )

    @property
    def fake(self) -> FakeSlack:
        assert self.slack is not None, "the Slack stand-in has not started"
        return self.slack

    @property
    def bot(self) -> RunningBot:
        assert self.running is not None, "the bot has not started"
        return self.running

    def root(self, server: str) -> Path:
        """The folder that is `server`'s file system root for the deploy paths."""
        return self.home / "hosts" / server

    def on_disk(self, server: str, path: Path) -> Path:
        """Where `path`, as `server` sees it, lies on this machine's disk."""
        if not self.isolated:
            return path
        return self.root(server) / path.relative_to(self.data)

    def link(self, server: str, env: str = "prod") -> Path:
        """`server`'s deploy link for `env` (`<deploy path>/shop`) on this machine's disk."""
        return self.on_disk(server, self.data / env / PROJECT)

    def live(self, server: str, env: str = "prod") -> str | None:
        """The release folder `server`'s link for `env` points at, or None without a link."""
        link = self.link(server, env)
        return Path(os.readlink(link)).name if link.is_symlink() else None

    def settings_seen_by(self, server: str) -> Path:
        """`server`'s settings file (`$SHOP_SETTINGS`) as that server sees it.

        With private roots every server has its own file at the same path; without them the
        servers share one disk, so each gets a path of its own.
        """
        if self.isolated:
            return self.data / "prod" / SETTINGS_NAME
        return self.root(server) / SETTINGS_NAME

    def settings_file(self, server: str) -> Path:
        """`server`'s settings file on this machine's disk."""
        return self.on_disk(server, self.settings_seen_by(server))

    async def settle(self) -> None:
        """Every run has come to rest and every Slack message has caught up."""
        await self.bot.bot.wait_idle()


def demo_settings(home: Path) -> Settings:
    """The embedded defaults in `home`: SQLite, and a secret generated into `secret.key`.

    The secret lives in the home like any embedded install's, so `hoist` commands (or a
    `hoist serve` for a real Slack app) given `HOIST_HOME=<home>` can open the same inventory.
    """
    return Settings(home, f"sqlite://{home / 'hoist.sqlite3'}", secret_key=None)


async def build_sandbox(home: Path, stack: AsyncExitStack) -> Sandbox:
    """Bring everything up in `home`; `stack` stops it all again (in reverse order)."""
    settings = demo_settings(home)
    await open_database(settings)
    stack.push_async_callback(close_database)
    sandbox = Sandbox(home, settings, home / "repo", home / "data", isolation_available())
    make_repository(sandbox.repo)
    key = generate_key("hoist-demo")
    await start_hosts(sandbox, key, stack)
    await write_inventory(sandbox, key, await open_box(settings))
    await start_slack(sandbox, stack)
    return sandbox


# --- the sample repository ----------------------------------------------------------------------

START_V1 = """#!/bin/sh
# Start the shop's web server on port 8000.
cd "$(dirname "$0")/.." && exec python3 app.py
"""

START_V11 = """#!/bin/sh
# Start the shop's web server; --check only checks that this server's settings are in place.
settings="${SHOP_SETTINGS:-/etc/shop.env}"
if [ ! -f "$settings" ]; then
    echo "bin/start: $settings is missing on ${HOIST_SERVER:-this server}" >&2
    exit 1
fi
if [ "$1" = --check ]; then echo "settings found: $settings"; exit 0; fi
cd "$(dirname "$0")/.." && exec python3 app.py
"""

APP = '''"""The shop: serves index.html."""
import http.server

http.server.test(http.server.SimpleHTTPRequestHandler, port=8000)
'''


def page(version: str, body: str) -> str:
    return f"<!doctype html>\n<title>Shop {version}</title>\n<h1>Shop {version}</h1>\n{body}\n"


def make_repository(path: Path) -> None:
    """A small web app with a few commits, tagged v1.0 and v1.1, on branch `main`."""
    repo = git.Repo.init(path, initial_branch="main")
    try:
        commit(repo, {"index.html": page("1.0", "<p>Coming soon.</p>"), "app.py": APP}, "Shop")
        commit(repo, {"bin/start": START_V1}, "A start script", executable="bin/start")
        commit(repo, {"index.html": page("1.0", "<p>Tea, 4 EUR.</p>")}, "Price list")
        repo.create_tag("v1.0", message="Release 1.0")
        commit(repo, {"bin/start": START_V11}, "Check the settings before starting")
        commit(repo, {"index.html": page("1.1", "<p>Tea, 4 EUR. Cake, 3 EUR.</p>")}, "Cake")
        repo.create_tag("v1.1", message="Release 1.1")
    finally:
        repo.close()


def commit(repo: git.Repo, files: dict[str, str], message: str, executable: str = "") -> None:
    root = Path(repo.working_tree_dir or ".")
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        if name == executable:
            target.chmod(0o755)
    repo.index.add(list(files))
    repo.index.commit(message, author=AUTHOR, committer=AUTHOR)


# --- hosts, inventory, Slack ---------------------------------------------------------------------


async def start_hosts(sandbox: Sandbox, key: KeyMaterial, stack: AsyncExitStack) -> None:
    """Three SSH hosts on loopback, each with its own root when the machine allows it."""
    sandbox.data.mkdir(parents=True)
    for name in SERVERS:
        root = sandbox.root(name)
        root.mkdir(parents=True)
        host = LocalSSHHost(
            key.public,
            name=name,
            root=root if sandbox.isolated else None,
            mount_at=sandbox.data if sandbox.isolated else None,
            env={"SHOP_SETTINGS": str(sandbox.settings_seen_by(name))},
        )
        await host.start()
        stack.push_async_callback(host.stop)
        sandbox.hosts[name] = host
    for name in ("web1", "web3"):  # web2's settings file is missing: the story's failure
        target = sandbox.settings_file(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("SHOP_DB=sqlite:///var/lib/shop.db\n")


async def write_inventory(sandbox: Sandbox, key: KeyMaterial, box: SecretBox) -> None:
    """Key, servers with pinned host keys, project `shop`, environments `test` and `prod`."""
    await service.add_key(DEMO_ACTOR, KeySpec("demo", "deploy", key), box)
    for name, host in sandbox.hosts.items():
        server = ServerSpec(name, "127.0.0.1", "demo", host.port, host.host_key_line, ("web",))
        await service.add_server(DEMO_ACTOR, server)
    project = ProjectSpec(PROJECT, str(sandbox.repo), keep_releases=5, channel=CHANNEL_NAME)
    await service.add_project(DEMO_ACTOR, project)
    batch = 0 if sandbox.isolated else 1
    for env, approvals, reviewers in (("test", 0, ()), ("prod", 2, (REVIEWERS,))):
        spec = EnvSpec(
            PROJECT,
            env,
            deploy_path=f"{sandbox.data / env}/",
            codes_root=f"{sandbox.data / 'codes'}",
            servers=SERVERS,
            approvals_required=approvals,
            reviewers=reviewers,
            batch_size=batch,
            templates_only=False,
        )
        await service.add_env(DEMO_ACTOR, spec)


async def start_slack(sandbox: Sandbox, stack: AsyncExitStack) -> None:
    """The Slack stand-in and the real bot on loopback, introduced to each other."""
    fake = FakeSlack(
        workspace=Workspace.sample(),
        message_rate=RELAXED_RATE,
        signing_secret=sandbox.signing_secret,
    )
    await fake.start()
    stack.push_async_callback(fake.stop)
    sandbox.slack = fake
    bot_settings = BotSettings(
        bot_token=fake.token, signing_secret=sandbox.signing_secret, api_url=fake.url
    )
    running = await start_bot(
        sandbox.settings,
        bot_settings,
        host="127.0.0.1",
        port=0,
        min_update_interval=UPDATE_INTERVAL,
        open_db=False,
    )
    stack.push_async_callback(running.stop)
    sandbox.running = running
    fake.connect_bot(running.events_url, sandbox.signing_secret)
