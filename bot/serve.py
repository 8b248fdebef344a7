"""Serving the bot: HTTP mode (`POST /slack/events`, `GET /healthz`, the task pages under
`/tasks/`) or Socket Mode."""

from __future__ import annotations

import errno

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.web.routes import TaskPages, add_task_pages
from core.errors import HoistError


def web_app(bolt: AsyncApp, pages: TaskPages | None = None) -> web.Application:
    """The aiohttp application: Slack's requests go to Bolt, which checks their signature;
    with `pages`, the live task pages too (their links carry their own signature)."""

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    if pages is not None:
        add_task_pages(app, pages)
    return app


async def listen(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner and the port actually bound (for port 0)."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise HoistError(
                f"port {port} on {host} is already in use: stop what holds it, "
                "or pick another with --port"
            ) from exc
        raise HoistError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, int(bound)
