"""Health checks against a real HTTP server on 127.0.0.1 and real local `bash -c` commands.

The server answers from a script the test writes (status, body, delay per request); time is a
fake clock moved only by the fake `sleep`, so no test waits for an interval.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from core.engine.output import NodeOutput
from core.health.check import check_health
from core.health.spec import HealthCheck


@dataclass
class Answer:
    status: int = 200
    body: str = "ok"
    delay: float = 0.0


@dataclass
class HealthServer:
    """Answers `/health` from `script` in order, repeating the last answer; counts requests."""

    script: list[Answer] = field(default_factory=lambda: [Answer()])
    paths: list[str] = field(default_factory=list)
    port: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.paths.append(request.path_qs)
        answer = self.script[min(len(self.paths), len(self.script)) - 1]
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return web.Response(status=answer.status, text=answer.body)

    def answer(self, *answers: Answer) -> None:
        self.script = list(answers)


@pytest.fixture
async def server() -> AsyncIterator[HealthServer]:
    health = HealthServer()
    app = web.Application()
    app.router.add_get("/{tail:.*}", health.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    health.port = runner.addresses[0][1]
    yield health
    await runner.cleanup()


class FakeTime:
    """A monotonic clock that only `sleep` moves; remembers every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def run_bash(command: str, output: NodeOutput) -> int:
    """Run `command` with local bash, its output lines into `output` (the engine uses SSH)."""
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:
        async for line in process.stdout:
            output.line(line.decode())
        return await process.wait()
    except asyncio.CancelledError:
        process.kill()
        await process.wait()
        raise


class Run:
    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.lines: list[str] = []
        self.output = NodeOutput(self.lines.append)

    async def __call__(self, check: HealthCheck, address: str = "127.0.0.1"):
        return await check_health(
            check,
            address=address,
            name="web1",
            run_command=run_bash,
            output=self.output,
            clock=self.time.clock,
            sleep=self.time.sleep,
        )

    @property
    def attempts(self) -> list[str]:
        return [line for line in self.lines if line.startswith("attempt ")]


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def run(time: FakeTime) -> Run:
    return Run(time)


def url(server: HealthServer, path: str = "/health") -> str:
    return f"http://{{server}}:{server.port}{path}"


async def test_healthy_after_the_consecutive_passes(server: HealthServer, run: Run, time):
    check = HealthCheck(http_url=url(server, "/health?from={name}"), http_body="ok", passes=3)
    result = await run(check)
    assert result.exit_status == 0 and result.fields == {}
    assert server.paths == ["/health?from=web1"] * 3
    assert run.attempts == [
        "attempt 1: http 200 ok (1 of 3 passes)",
        "attempt 2: http 200 ok (2 of 3 passes)",
        "attempt 3: http 200 ok (3 of 3 passes)",
    ]
    assert time.sleeps == [2.0, 2.0]
    assert run.lines[0] == (
        f"health check of web1: GET http://127.0.0.1:{server.port}/health?from=web1 → 200, "
        "until 3 attempts in a row pass, for at most 60s"
    )
    assert run.lines[-1] == "healthy after 3 attempts in 4s"


async def test_a_flapping_server_needs_passes_in_a_row(server: HealthServer, run: Run, time):
    server.answer(Answer(200), Answer(502), Answer(200), Answer(200))
    result = await run(HealthCheck(http_url=url(server), passes=2, interval=1))
    assert result.exit_status == 0
    assert len(server.paths) == 4
    assert run.attempts == [
        "attempt 1: http 200 ok (1 of 2 passes)",
        "attempt 2: http 502, wanted 200 (0 of 2 passes)",
        "attempt 3: http 200 ok (1 of 2 passes)",
        "attempt 4: http 200 ok (2 of 2 passes)",
    ]
    assert time.sleeps == [1.0, 1.0, 1.0]


async def test_wait_exhausted_names_the_last_failure(server: HealthServer, run: Run, time):
    server.answer(Answer(502, "bad gateway"))
    check = HealthCheck(http_url=url(server), interval=2, wait=10)
    result = await run(check)
    assert result.exit_status == 1
    assert result.fields == {
        "error": f"http://127.0.0.1:{server.port}/health: status 502, wanted 200 "
        "after 6 attempts in 10s"
    }
    assert len(server.paths) == 6 and time.now - 1000.0 == 10.0
    assert run.lines[-1] == f"not healthy: {result.fields['error']}"


async def test_time_running_out_mid_streak_says_so(server: HealthServer, run: Run):
    server.answer(Answer(503), Answer(200))
    result = await run(HealthCheck(http_url=url(server), passes=3, interval=1, wait=2))
    assert result.exit_status == 1
    assert result.fields["error"] == (
        f"only 2 of 3 passes in a row (last failure: http://127.0.0.1:{server.port}/health: "
        "status 503, wanted 200) after 3 attempts in 2s"
    )


async def test_body_without_the_expected_text_fails(server: HealthServer, run: Run):
    server.answer(Answer(200, "starting"))
    result = await run(HealthCheck(http_url=url(server), http_body="ready", wait=2))
    assert result.exit_status == 1
    assert run.attempts[0] == 'attempt 1: http 200, body without "ready" (0 of 1 passes)'
    assert 'health: body without "ready" after 2 attempts' in result.fields["error"]


async def test_the_expected_status_may_be_another_one(server: HealthServer, run: Run):
    server.answer(Answer(204, ""))
    result = await run(HealthCheck(http_url=url(server), http_status=204))
    assert result.exit_status == 0


async def test_a_slow_endpoint_times_out_each_attempt(server: HealthServer, run: Run):
    server.answer(Answer(200, "ok", delay=5), Answer(200, "ok"))
    check = HealthCheck(http_url=url(server), timeout=0.2, interval=1, wait=5)
    result = await run(check)
    assert result.exit_status == 0
    assert run.attempts == [
        "attempt 1: http no answer within 0.2s (0 of 1 passes)",
        "attempt 2: http 200 ok (1 of 1 passes)",
    ]


async def test_connection_refused_is_a_failed_attempt(run: Run):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await run(HealthCheck(http_url=f"http://{{server}}:{port}/", interval=1, wait=1))
    assert result.exit_status == 1
    assert run.attempts[0] == "attempt 1: http cannot connect (Connection refused) (0 of 1 passes)"
    assert result.fields["error"] == (
        f"http://127.0.0.1:{port}/: cannot connect (Connection refused) after 2 attempts in 1s"
    )


async def test_an_unresolvable_host_is_a_failed_attempt(run: Run):
    check = HealthCheck(http_url="http://{server}/", interval=1, wait=1)
    result = await run(check, address="nowhere.invalid")
    assert result.exit_status == 1
    assert "http://nowhere.invalid/: cannot connect" in result.fields["error"]


async def test_command_checks_run_on_the_server(run: Run, tmp_path):
    counter = tmp_path / "tries"
    # fails twice, then passes: a service that takes a moment to come up
    command = f"n=$(cat {counter} 2>/dev/null || echo 0); echo $((n+1)) > {counter}; [ $n -ge 2 ]"
    result = await run(HealthCheck(command=command, interval=1))
    assert result.exit_status == 0
    assert run.attempts == [
        "attempt 1: command exited 1 (0 of 1 passes)",
        "attempt 2: command exited 1 (0 of 1 passes)",
        "attempt 3: command ok (1 of 1 passes)",
    ]


async def test_command_output_goes_to_the_node(run: Run):
    result = await run(HealthCheck(command="echo service is down; exit 3", interval=1, wait=1))
    assert result.exit_status == 1
    assert "service is down" in run.lines
    assert result.fields["error"] == "command exited 3 after 2 attempts in 1s"


async def test_a_command_that_hangs_is_stopped_at_the_timeout(run: Run):
    result = await run(HealthCheck(command="sleep 30", timeout=0.2, interval=1, wait=1))
    assert result.exit_status == 1
    assert result.fields["error"] == "command ran past 0.2s after 2 attempts in 1s"


async def test_url_and_command_must_both_pass(server: HealthServer, run: Run):
    server.answer(Answer(200), Answer(500), Answer(200))
    check = HealthCheck(http_url=url(server), command="true", passes=1, interval=1)
    assert (await run(check)).exit_status == 0
    assert run.attempts == ["attempt 1: http 200 ok · command ok (1 of 1 passes)"]

    failing = Run(FakeTime())
    check = HealthCheck(http_url=url(server), command="exit 4", interval=1, wait=1)
    result = await failing(check)
    assert (
        failing.attempts[0] == "attempt 1: http 500, wanted 200 · command exited 4 (0 of 1 passes)"
    )
    assert result.fields["error"] == "command exited 4 after 2 attempts in 1s"
    assert "status 200" not in result.fields["error"]
