"""The live release page's routes, served for real on 127.0.0.1:0, during and after real deploys
to in-process SSH hosts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.serve import listen
from bot.web.redact import KEY_MASK
from bot.web.routes import TaskPages, add_task_pages
from core.engine.events import EventBus
from core.engine.requests import HookChoice
from core.engine.views import task_detail
from core.secrets import generate_secret
from core.status import HookStage, TaskStatus
from core.store.models import Approval, StageRun
from core.weblinks import LINK_TTL, link_key, sign
from tests.clock import TestClock
from tests.fleet import ALICE, Fleet, make_fleet, stop_fleet

SERVERS = ["web1", "web2", "web3"]
KEY = link_key(generate_secret())
FAKE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDzTOPSECRETTOPSECRETTOPSECRETTOPSECRETTOPSECRETAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----"
)
LEAKY_HOOK = (
    f"printf '%s\\n' 'hook says hi' '{FAKE_KEY}'"
    " 'git https://deploy:hunter2@git.example.com/x.git' 'token xoxb-1-2-SLACKSECRET'"
)
FAILS_ON_WEB2 = (
    'echo "post-deploy on $HOIST_SERVER"; '
    '[ "$HOIST_SERVER" != web2 ] || { echo "web2 would not start" >&2; exit 3; }'
)


@dataclass
class Site:
    fleet: Fleet
    clock: TestClock
    url: str
    http: aiohttp.ClientSession

    def link(self, task_id: int, path: str = "", *, token: str | None = None) -> str:
        token = token if token is not None else self.token(task_id)
        return f"{self.url}/tasks/{task_id}{path}?t={token}"

    def token(self, task_id: int, viewer: str = "U0ALICE") -> str:
        return sign(task_id, viewer, self.clock() + LINK_TTL, KEY)

    async def get(self, task_id: int, path: str = "", **kwargs: Any) -> aiohttp.ClientResponse:
        response = await self.http.get(self.link(task_id, path, **kwargs))
        await response.read()
        return response

    async def json(self, task_id: int, path: str = "/state") -> Any:
        response = await self.get(task_id, path)
        assert response.status == 200, await response.text()
        return await response.json()


async def serve(pages: TaskPages) -> tuple[web.AppRunner, str]:
    app = web.Application()
    add_task_pages(app, pages)
    runner, port = await listen(app, "127.0.0.1", 0)
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def site(db, tmp_path: Path) -> AsyncIterator[Site]:
    fleet = await make_fleet(tmp_path, SERVERS)
    clock = TestClock()
    runner, url = await serve(TaskPages(fleet.bus, KEY, clock))
    async with aiohttp.ClientSession() as http:
        yield Site(fleet, clock, url, http)
    await runner.cleanup()
    await stop_fleet(fleet)


async def sse(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, Any]]:
    """The server-sent events of an open response, as (event, parsed data)."""
    name, data = "", []
    while line := await response.content.readline():
        text = line.decode().rstrip("\n")
        if text.startswith("event: "):
            name = text[7:]
        elif text.startswith("data: "):
            data.append(text[6:])
        elif not text and name:
            yield name, json.loads("\n".join(data))
            name, data = "", []


def hooks(**scripts: str) -> dict[HookStage, HookChoice]:
    return {HookStage(stage): HookChoice(script=script) for stage, script in scripts.items()}


async def test_the_state_matches_the_database(site: Site):
    task = await site.fleet.deploy(hooks=hooks(post_deploy=FAILS_ON_WEB2))
    await Approval.create(task=task, reviewer="U0BOB", decision="approve")
    state = await site.json(task.id)
    assert state["id"] == task.id and state["status"] == "failed" == str(task.status)
    assert (state["project"], state["env"], state["requester"]) == ("shop", "prod", "alice")
    assert (state["version"], state["ref"], state["commit"]) == (
        task.version,
        task.ref,
        task.commit_sha,
    )
    assert state["approvals"][0]["reviewer"] == "U0BOB"
    assert state["approvals"][0]["decision"] == "approve"
    assert task.finished_at and task.started_at
    assert state["seconds"] == round((task.finished_at - task.started_at).total_seconds(), 3)
    detail = await task_detail(task)
    assert state["steps"] == detail["steps"]
    assert state["transfer"] == detail["transfer"] and "in all" in state["transfer"]
    assert state["timing"] == detail["timing"] and "package" in state["timing"]
    runs = {n.id: n for n in await StageRun.filter(task=task)}
    assert {n["id"] for n in state["nodes"]} == set(runs)
    for node in state["nodes"]:
        run = runs[node["id"]]
        assert node["key"] == f"{run.stage}:{run.server_name}"
        assert (node["stage"], node["server"], node["status"]) == (
            str(run.stage),
            run.server_name,
            str(run.status),
        )
        assert node["bytes_sent"] == run.bytes_sent and node["exit_status"] == run.exit_status
        assert (node["files_sent"], node["transfer"]) == (run.files_sent, run.transfer or None)
        assert node["error"] == (run.error or None)
        assert "output" not in node
    keys = [n["key"] for n in state["nodes"]]
    assert keys[:5] == ["start:", "pre_download:", "download:", "post_download:", "package:"]
    assert keys[5:9] == ["upload:web1", "pre_deploy:web1", "deploy:web1", "post_deploy:web1"]
    failed = [n["key"] for n in state["nodes"] if n["status"] == "failed"]
    assert failed == ["post_deploy:web2"]


async def test_the_event_stream_follows_a_deploy_live(site: Site):
    fleet = site.fleet
    task = await fleet.engine.deploy(
        fleet.request(hooks=hooks(post_deploy=FAILS_ON_WEB2 + "; " + LEAKY_HOOK)), ALICE
    )
    seen: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    async with site.http.get(site.link(task.id, "/events")) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = sse(response)
        first, state = await anext(events)
        assert first == "state" and state["status"] == "queued"
        assert {n["status"] for n in state["nodes"]} == {"pending"}
        job = asyncio.create_task(fleet.engine.run(task.id))
        async with asyncio.timeout(60):
            async for name, data in events:
                if name == "log":
                    lines.append(data)
                    continue
                seen.append(data)
                if TaskStatus(data["status"]).finished:
                    break
        assert await job == TaskStatus.FAILED
    statuses = [s["status"] for s in seen]
    assert "running" in statuses and statuses[-1] == "failed"
    assert any(n["status"] == "running" for s in seen for n in s["nodes"])
    greens = [sum(n["status"] == "succeeded" for n in s["nodes"]) for s in seen]
    assert greens == sorted(greens) and len(set(greens)) > 2  # nodes turned green one by one
    last = {n["key"]: n for n in seen[-1]["nodes"]}
    assert last["post_deploy:web2"]["status"] == "failed"
    assert last["post_deploy:web1"]["status"] == "succeeded"
    assert last["deploy:web1"]["seconds"] is not None
    logged = {(line["key"], line["line"]) for line in lines}
    assert ("post_deploy:web2", "web2 would not start") in logged
    assert ("post_deploy:web1", "post-deploy on web1") in logged
    assert all(line["node"] == last[line["key"]]["id"] for line in lines)
    text = "\n".join(line["line"] for line in lines)
    assert "hook says hi" in text and KEY_MASK in text
    assert "TOPSECRET" not in text and "hunter2" not in text and "SLACKSECRET" not in text


async def test_a_task_run_by_another_process_updates_through_the_database(site: Site):
    fleet = site.fleet
    task = await fleet.engine.deploy(fleet.request(), ALICE)
    # A page server with its own bus hears nothing from this engine: only its re-reads.
    runner, url = await serve(TaskPages(EventBus(), KEY, site.clock, poll_seconds=0.05))
    try:
        async with site.http.get(f"{url}/tasks/{task.id}/events?t={site.token(task.id)}") as resp:
            events = sse(resp)
            name, state = await anext(events)
            assert (name, state["status"]) == ("state", "queued")
            job = asyncio.create_task(fleet.engine.run(task.id))
            async with asyncio.timeout(60):
                async for name, state in events:
                    assert name == "state"
                    if state["status"] == "succeeded":
                        break
            await job
        assert {n["status"] for n in state["nodes"]} == {"succeeded", "skipped"}
    finally:
        await runner.cleanup()


async def test_stopping_the_server_ends_open_streams(db, tmp_path: Path):
    clock = TestClock()
    fleet = await make_fleet(tmp_path, ["web1"])
    try:
        task = await fleet.engine.deploy(fleet.request(), ALICE)
        runner, url = await serve(TaskPages(fleet.bus, KEY, clock))
        token = sign(task.id, "U1", clock() + LINK_TTL, KEY)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/tasks/{task.id}/events?t={token}") as response:
                assert await anext(sse(response))
                async with asyncio.timeout(10):
                    await runner.cleanup()
                assert await response.content.read() == b""
    finally:
        await stop_fleet(fleet)


async def test_refusals_are_403_and_reveal_nothing(site: Site):
    task = await site.fleet.deploy()
    other = await site.fleet.deploy()
    node = await StageRun.get(task=task, stage="deploy", server_name="web1")
    expired = sign(task.id, "U0ALICE", site.clock() - timedelta(seconds=1), KEY)
    good = site.token(task.id)
    payload, mac = good.split(".")
    altered = f"{payload}.{mac[:-3]}AAA" if not mac.endswith("AAA") else f"{payload}.{mac[:-3]}BBB"
    bad_tokens = {
        "missing": "",
        "expired": expired,
        "altered": altered,
        "other task": site.token(other.id),
        "malformed": "not-a-token",
        "other key": sign(task.id, "U0ALICE", site.clock() + LINK_TTL, link_key("x")),
    }
    paths = ["", "/state", "/events", "/log.txt", f"/nodes/{node.id}/output"]
    paths.append(f"/nodes/{node.id}/log.txt")
    bodies = set()
    for why, token in bad_tokens.items():
        for path in paths:
            response = await site.get(task.id, path, token=token)
            assert response.status == 403, (why, path)
            body = await response.text()
            bodies.add(body)
    no_token = await site.http.get(f"{site.url}/tasks/{task.id}/state")
    assert no_token.status == 403
    bodies.add(await no_token.text())
    assert len(bodies) == 1
    body = bodies.pop()
    for fact in ("shop", "prod", "alice", task.version, task.commit_sha[:7], "web1", str(task.id)):
        assert fact not in body
    site.clock.advance(hours=12)  # the good link has now expired too
    assert (await site.get(task.id, "/state", token=good)).status == 403


async def test_the_page_and_its_static_files(site: Site):
    task = await site.fleet.deploy()
    page = await site.get(task.id)
    assert page.status == 200 and page.content_type == "text/html"
    html = await page.text()
    for part in ('id="task-status"', 'id="pipeline"', 'id="node-output"', 'id="node-title"'):
        assert part in html
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no CDN
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    for name, kind in (("task.js", "text/javascript"), ("task.css", "text/css")):
        static = await site.http.get(f"{site.url}/web/static/{name}")
        assert static.status == 200 and static.content_type == kind
        assert "EventSource" in await static.text() or name == "task.css"
    assert (await site.http.get(f"{site.url}/web/static/secret.key")).status == 404
    assert (await site.get(task.id + 100)).status == 404  # a valid link to no task
    assert (await site.get(task.id + 100, "/state")).status == 404


async def test_outputs_and_downloads_are_redacted(site: Site):
    task = await site.fleet.deploy(hooks=hooks(post_deploy=LEAKY_HOOK, pre_download="echo local"))
    assert task.status == TaskStatus.SUCCEEDED, await site.fleet.describe(task)
    node = await StageRun.get(task=task, stage="post_deploy", server_name="web2")
    assert "TOPSECRET" in node.output  # stored as the hook printed it; never served so
    output = await site.json(task.id, f"/nodes/{node.id}/output")
    assert output["title"] == "post_deploy on web2" and output["key"] == "post_deploy:web2"
    assert "hook says hi" in output["output"] and KEY_MASK in output["output"]
    one = await site.get(task.id, f"/nodes/{node.id}/log.txt")
    assert one.status == 200 and one.content_type == "text/plain"
    disposition = one.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="hoist-task-{task.id}-post_deploy-web2.log"'
    everything = await site.get(task.id, "/log.txt")
    assert everything.status == 200 and everything.content_type == "text/plain"
    assert everything.headers["Content-Disposition"].startswith("attachment;")
    whole = await everything.text()
    assert f"Hoist task #{task.id}: shop prod {task.version}" in whole
    assert "==== pre_download on local: succeeded" in whole and "\nlocal\n" in whole
    assert whole.count("hook says hi") == 3
    for text in (output["output"], await one.text(), whole):
        assert "hook says hi" in text and KEY_MASK in text
        for secret in ("TOPSECRET", "b3BlbnNz", "hunter2", "SLACKSECRET", "BEGIN OPENSSH"):
            assert secret not in text
        assert "https://***:***@git.example.com" in text and "xoxb-***" in text


async def test_a_big_output_is_served_bounded_with_the_middle_counted(site: Site):
    task = await site.fleet.deploy(hooks=hooks(pre_download="seq 1 300000"))
    assert task.status == TaskStatus.SUCCEEDED, await site.fleet.describe(task)
    node = await StageRun.get(task=task, stage="pre_download")
    output = (await site.json(task.id, f"/nodes/{node.id}/output"))["output"]
    assert len(output) < 70_000
    assert output.startswith("1\n2\n3\n") and output.endswith("\n299999\n300000")
    assert "bytes omitted" in output
    omitted = int(output.split("… ")[1].split(" bytes omitted")[0])
    printed = sum(len(f"{n}\n") for n in range(1, 300001))
    kept = len(output.encode()) - len(f"… {omitted} bytes omitted …".encode())
    assert omitted + kept == printed
    download = await site.get(task.id, f"/nodes/{node.id}/log.txt")
    assert len(await download.read()) < 70_000
