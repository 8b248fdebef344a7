"""Progressive rollouts on real OpenSSH servers, each on its own loopback address, running a
small HTTP service that the post-deploy hook (re)starts from the live release."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from core.audit import Actor
from core.engine.plan import NOTHING_TO_RUN
from core.engine.requests import HookChoice
from core.health.spec import HealthCheck
from core.status import HookStage, NodeStatus, TaskKind, TaskStatus
from core.store.models import DeployTask, Environment
from tests.gitrepo import GitRepo
from tests.opensshfleet import OpenSSHFleet, make_openssh_fleet, skip_reason

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))

ALICE = Actor("alice", via="cli")
ADDRESSES = {"web1": "127.0.0.2", "web2": "127.0.0.3", "web3": "127.0.0.4"}

# The service: answers /health with the release's `health` file, after `flaps` failures.
SERVE_PY = """\
import http.server, pathlib, sys
address, port = sys.argv[1], int(sys.argv[2])
health = pathlib.Path("health").read_text()
flaps = int(pathlib.Path("flaps").read_text()) if pathlib.Path("flaps").exists() else 0
seen = {"n": 0}
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        seen["n"] += 1
        ok = seen["n"] > flaps and health.startswith("ok")
        body = health.encode() if seen["n"] > flaps else b"starting"
        self.send_response(200 if ok else 503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((address, port), Health).serve_forever()
"""

# Restart the service from the live release, on this server's own address ($SSH_CONNECTION).
RESTART = """\
set -- $SSH_CONNECTION; address=$3
pidfile="$(dirname "$HOIST_DEPLOY_LINK")/service.pid"
if [ -f "$pidfile" ]; then
  old=$(cat "$pidfile"); kill "$old" 2>/dev/null
  while kill -0 "$old" 2>/dev/null; do sleep 0.05; done
fi
cd "$HOIST_DEPLOY_LINK"
setsid python3 serve.py "$address" PORT </dev/null >/dev/null 2>&1 &
echo $! > "$pidfile"
echo "service of $HOIST_VERSION on $address"
"""


def free_port() -> int:
    """A port free on every server's address."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.2", 0))
            port = int(probe.getsockname()[1])
        if all(_free(address, port) for address in ADDRESSES.values()):
            return port
    raise RuntimeError("no port free on every test address")


def _free(address: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


@pytest.fixture
async def fleet(sqlite_db, tmp_path: Path) -> AsyncIterator[tuple[OpenSSHFleet, int]]:
    port = free_port()
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"serve.py": SERVE_PY, "health": "ok v1\n"}, "a healthy service")
    fleet = await make_openssh_fleet(tmp_path, list(ADDRESSES), repo=repo, addresses=ADDRESSES)
    check = HealthCheck(
        http_url=f"http://{{server}}:{port}/health", http_body="ok", passes=2, interval=0.2, wait=15
    )
    await Environment.filter(name="prod").update(
        health_check=check.stored(),
        rollout_plans={"steps": "1, 2, 100%"},
        rollout_default="steps",
        auto_rollback=True,
    )
    try:
        yield fleet, port
    finally:
        await fleet.stop()
        for name in ADDRESSES:  # the services the hooks started, by their PIDs
            pidfile = fleet.roots[name] / "prod" / "service.pid"
            if pidfile.exists():
                try:
                    os.kill(int(pidfile.read_text()), signal.SIGTERM)
                except ProcessLookupError:
                    pass


async def release(fleet: OpenSSHFleet, port: int) -> DeployTask:
    hook = RESTART.replace("PORT", str(port))
    request = fleet.request(hooks={HookStage.POST_DEPLOY: HookChoice(script=hook)})
    task = await fleet.engine.deploy(request, ALICE)
    await fleet.engine.run(task.id)
    await task.refresh_from_db()
    return task


async def answer(server: str, port: int) -> tuple[int, str]:
    url = f"http://{ADDRESSES[server]}:{port}/health"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def test_a_good_release_passes_every_step(fleet):
    fleet, port = fleet
    task = await release(fleet, port)
    assert task.status == TaskStatus.SUCCEEDED, await fleet.describe(task)
    assert [len(s["servers"]) for s in task.plan_steps] == [1, 1, 1]
    nodes = await fleet.nodes(task)
    for server in ADDRESSES:
        health = nodes[(server, "health")]
        assert health.status == NodeStatus.SUCCEEDED
        assert "2 of 2 passes" in health.output
        assert await answer(server, port) == (200, "ok v1\n")


async def test_a_release_that_breaks_the_service_stops_and_rolls_back(fleet):
    fleet, port = fleet
    good = await release(fleet, port)
    assert good.status == TaskStatus.SUCCEEDED
    fleet.repo.commit({"health": "broken\n"}, "a release that breaks the service")
    task = await release(fleet, port)

    assert task.status == TaskStatus.PAUSED, await fleet.describe(task)
    assert "step 1 of 3 failed on 1 server (web1)" in task.reason
    assert f"web1 rolled back to {good.version}: succeeded" in task.reason
    nodes = await fleet.nodes(task)
    switched = nodes[("web1", "deploy")]  # it was switched, then put back
    assert switched.status == NodeStatus.SKIPPED and "rolled back by task #" in switched.error
    assert nodes[("web1", "health")].status == NodeStatus.FAILED
    assert "status 503, wanted 200" in nodes[("web1", "health")].error
    for server in ("web2", "web3"):  # nothing after the failed step ran
        chain = [n for (s, _), n in nodes.items() if s == server]
        assert all(  # an empty hook is skipped when the run begins
            n.status == NodeStatus.PENDING
            or (n.status == NodeStatus.SKIPPED and n.error == NOTHING_TO_RUN)
            for n in chain
        )
        assert {n.stage for n in chain if n.status == NodeStatus.PENDING} >= {"upload", "deploy"}
    [rollback] = await DeployTask.filter(kind=TaskKind.ROLLBACK)
    rolled = await fleet.nodes(rollback)
    assert rolled[("web1", "health")].status == NodeStatus.SUCCEEDED
    for server in ADDRESSES:  # the service answers again, from the old release
        assert await answer(server, port) == (200, "ok v1\n")


async def test_a_flapping_service_passes_only_after_its_passes_in_a_row(fleet):
    fleet, port = fleet
    fleet.repo.commit({"flaps": "3\n"}, "a service that needs a moment")
    task = await release(fleet, port)
    assert task.status == TaskStatus.SUCCEEDED, await fleet.describe(task)
    output = (await fleet.nodes(task))[("web1", "health")].output
    assert output.count("http 503") == 3, output  # three failures, then two passes in a row
    assert "(1 of 2 passes)" in output and "(2 of 2 passes)" in output
