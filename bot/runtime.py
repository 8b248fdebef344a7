"""Starting and stopping a whole bot: database, engine, Slack client, listeners, HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.app import build_app, web_client
from bot.config import BotSettings, listening_url
from bot.hoist_bot import HoistBot
from bot.serve import listen, web_app
from bot.web.routes import TaskPages
from core.config import Settings
from core.engine.engine import Engine
from core.engine.pool import ConnectionPool
from core.engine.recorder import Clock, utcnow
from core.engine.settings import EngineSettings
from core.scheduling.due import Timing
from core.secrets import load_secret, open_box
from core.status import TaskStatus
from core.store.db import close_database, open_database
from core.store.models import DeployTask
from core.weblinks import link_key


@dataclass
class RunningBot:
    bot: HoistBot
    app: AsyncApp
    runner: web.AppRunner | None
    port: int
    host: str
    extra: list[Any] = field(default_factory=list)
    pool: ConnectionPool | None = None
    """The engine's warm SSH connections, closed once the engine stopped."""

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    async def stop(self, *, drain: float | None = None) -> list[int]:
        """Stop taking requests, then stop the bot (see `HoistBot.stop` for `drain`)."""
        if self.runner is not None:
            await self.runner.cleanup()
        for item in self.extra:  # Socket Mode: stop taking requests before draining too
            with contextlib.suppress(Exception):
                await item.close_async()
        try:
            return await self.bot.stop(drain=drain)
        finally:
            if self.pool is not None:
                await self.pool.close()


async def start_bot(
    settings: Settings,
    bot_settings: BotSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 3000,
    min_update_interval: float = 1.0,
    open_db: bool = True,
    timing: Timing | None = None,
    clock: Clock = utcnow,
    pool_size: int = 200,
    pool_idle: float = 300.0,
) -> RunningBot:
    """Bring everything up; in HTTP mode listen on host:port (0 picks a free port). The
    engine keeps up to `pool_size` SSH connections warm, each closed after `pool_idle`
    seconds unused."""
    if open_db:
        await open_database(settings)
    engine_settings = EngineSettings.for_hoist(settings)
    pool = ConnectionPool(engine_settings.connect, max_size=pool_size, idle_seconds=pool_idle)
    box = await open_box(settings)
    engine = Engine(engine_settings, box, clock=clock, pool=pool)
    key = link_key(load_secret(settings))  # signs the release page's links (HTTP mode only)
    bot = HoistBot(
        engine,
        web_client(bot_settings),
        public_url=bot_settings.public_url,
        min_update_interval=min_update_interval,
        timing=timing,
        link_key=None if bot_settings.socket_mode else key,
    )
    bot.start()
    await resume(bot)
    app = build_app(bot_settings, bot)
    if bot_settings.socket_mode:
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(app, bot_settings.app_token, web_client=bot.client)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        return RunningBot(bot, app, None, 0, host, [handler], pool)
    runner, bound = await listen(web_app(app, TaskPages(engine.bus, key, clock)), host, port)
    bot.local_url = listening_url(host, bound)
    return RunningBot(bot, app, runner, bound, host, pool=pool)


async def resume(bot: HoistBot) -> None:
    """At start: tasks whose runner died are interrupted (and announced); queued ones get
    their turn; every scheduled release's timers are rebuilt from the database."""
    for task_id in await bot.engine.reap():
        bot.notifier.touch(task_id)
    await bot.scheduler.start()  # scheduled tasks queued but never run, and too late: missed
    for task in await DeployTask.filter(status=TaskStatus.QUEUED).order_by("id"):
        bot.run(task.id)


async def serve_forever(
    settings: Settings,
    bot_settings: BotSettings,
    host: str,
    port: int,
    *,
    timing: Timing | None = None,
    shutdown_grace: float = 30.0,
    pool_size: int = 200,
    pool_idle: float = 300.0,
) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully: no new requests, running
    stages get `shutdown_grace` seconds, what is left is marked interrupted (Retry resumes)."""
    running = await start_bot(
        settings,
        bot_settings,
        host=host,
        port=port,
        timing=timing,
        pool_size=pool_size,
        pool_idle=pool_idle,
    )
    where = "Socket Mode" if bot_settings.socket_mode else f"{running.events_url}"
    print(f"hoist is serving on {where}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
        print("hoist is stopping: running stages may finish", flush=True)
    finally:
        stopped = await running.stop(drain=shutdown_grace)
        await close_database()
    if stopped:
        ids = ", ".join(f"#{n}" for n in stopped)
        print(f"hoist stopped; interrupted {ids} (Retry resumes them)", flush=True)
    else:
        print("hoist stopped", flush=True)
