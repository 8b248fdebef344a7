"""The live release page over HTTP: the page, its state, its event stream, outputs and downloads.

Every task route needs `?t=TOKEN`, a signed link for that task (core/weblinks.py); any refusal
is the same 403 whatever went wrong, so a bad link learns nothing about the task.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from aiohttp import web

from bot.web.redact import redact
from bot.web.state import (
    NODE_FIELDS,
    download_name,
    node_key,
    node_log,
    node_output,
    node_title,
    ordered,
    task_log_heading,
    task_state,
)
from bot.web.stream import EventStream
from core.engine.events import EventBus
from core.engine.recorder import Clock, utcnow
from core.store.models import DeployTask, StageRun
from core.weblinks import LinkRefused, verify

REFUSED = "This link is not valid. Ask Hoist in Slack for a fresh one.\n"
STATIC = {"task.js": "text/javascript", "task.css": "text/css"}
SAFE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never hand it to another site
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@dataclass
class TaskPages:
    """What the pages need: the engine's bus, the link key and a clock."""

    bus: EventBus
    key: bytes
    clock: Clock = utcnow
    poll_seconds: float = 2.0
    """How often an open event stream re-reads the task (a task another process runs)."""
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    async def close(self, app: web.Application | None = None) -> None:
        """End every open event stream (the server is stopping)."""
        self.closing.set()


def add_task_pages(app: web.Application, source: TaskPages) -> None:
    """Serve the task pages from `app`."""
    pages = _Pages(source)
    task = r"/tasks/{id:\d+}"
    node = task + r"/nodes/{node:\d+}"
    app.router.add_get(task, pages.page)
    app.router.add_get(task + "/state", pages.state)
    app.router.add_get(task + "/events", pages.events)
    app.router.add_get(task + "/log.txt", pages.task_download)
    app.router.add_get(node + "/output", pages.output)
    app.router.add_get(node + "/log.txt", pages.node_download)
    app.router.add_get("/web/static/{name}", pages.static)
    app.on_shutdown.append(source.close)


class _Pages:
    def __init__(self, source: TaskPages) -> None:
        self.source = source

    def allowed(self, request: web.Request) -> int:
        """The task id of the request, if its token lets someone see that task; else 403."""
        task_id = int(request.match_info["id"])
        try:
            verify(request.query.get("t", ""), task_id, self.source.clock(), self.source.key)
        except LinkRefused:
            raise web.HTTPForbidden(text=REFUSED, headers=SAFE_HEADERS) from None
        return task_id

    async def page(self, request: web.Request) -> web.Response:
        if not await DeployTask.exists(id=self.allowed(request)):
            raise web.HTTPNotFound(text="No such task.\n", headers=SAFE_HEADERS)
        html = _static_text("task.html")
        headers = SAFE_HEADERS | {"Content-Security-Policy": PAGE_POLICY}
        return web.Response(text=html, content_type="text/html", headers=headers)

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(
            text=_static_text(name),
            content_type=STATIC[name],
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    async def state(self, request: web.Request) -> web.Response:
        task_id = self.allowed(request)
        return _json(await _existing_state(task_id))

    async def events(self, request: web.Request) -> web.StreamResponse:
        task_id = self.allowed(request)
        token = request.query["t"]
        subscription = self.source.bus.subscribe(task_id, max_log_backlog=5000)
        try:
            state = await _existing_state(task_id)
            response = web.StreamResponse(
                headers=SAFE_HEADERS
                | {"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
            )
            await response.prepare(request)

            def still_allowed() -> bool:
                try:
                    verify(token, task_id, self.source.clock(), self.source.key)
                except LinkRefused:
                    return False
                return True

            stream = EventStream(response, subscription, self.source, still_allowed)
            await stream.run(state)
        finally:
            subscription.close()
        return response

    async def output(self, request: web.Request) -> web.Response:
        task_id = self.allowed(request)
        node = await _existing_node(task_id, int(request.match_info["node"]))
        return _json(
            {
                "id": node.id,
                "key": node_key(str(node.stage), node.server_name),
                "title": node_title(node),
                "status": str(node.status),
                "error": redact(node.error) or None,
                "output": redact(node.output),
            }
        )

    async def node_download(self, request: web.Request) -> web.Response:
        task_id = self.allowed(request)
        node = await _existing_node(task_id, int(request.match_info["node"]))
        return web.Response(
            text=node_log(node),
            content_type="text/plain",
            headers=_attachment(download_name(task_id, node)),
        )

    async def task_download(self, request: web.Request) -> web.StreamResponse:
        task_id = self.allowed(request)
        state = await _existing_state(task_id)
        response = web.StreamResponse(
            headers=_attachment(download_name(task_id)) | {"Content-Type": "text/plain"}
        )
        response.charset = "utf-8"
        await response.prepare(request)
        await response.write(task_log_heading(state).encode())
        # One node at a time: a big fleet's whole output is never in memory at once.
        for light in ordered(await StageRun.filter(task_id=task_id).only(*NODE_FIELDS)):
            node = await StageRun.get_or_none(id=light.id)
            if node is not None:
                await response.write((node_log(node) + "\n").encode())
        await response.write_eof()
        return response


async def _existing_state(task_id: int) -> dict[str, Any]:
    state = await task_state(task_id)
    if state is None:
        raise web.HTTPNotFound(text="No such task.\n", headers=SAFE_HEADERS)
    return state


async def _existing_node(task_id: int, node_id: int) -> StageRun:
    node = await node_output(task_id, node_id)
    if node is None:
        raise web.HTTPNotFound(text="No such node.\n", headers=SAFE_HEADERS)
    return node


def _json(data: dict[str, Any]) -> web.Response:
    return web.json_response(data, dumps=json.dumps, headers=SAFE_HEADERS)


def _attachment(name: str) -> dict[str, str]:
    return SAFE_HEADERS | {"Content-Disposition": f'attachment; filename="{name}"'}


def _static_text(name: str) -> str:
    return (resources.files("bot.web") / "static" / name).read_text(encoding="utf-8")
