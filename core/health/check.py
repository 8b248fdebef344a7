"""Asking one server whether it is healthy, again and again until it is or time runs out.

An attempt asks the URL (aiohttp) and runs the command (through `run_command`, which the engine
points at the server's SSH connection); it passes when every part passes. Attempts start every
`interval` seconds; `passes` passing attempts in a row make the server healthy, and a failure
in between starts the count again. No attempt starts after `wait` seconds, so the whole check
takes at most `wait + timeout`. Network errors are failed attempts, never exceptions.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from core.engine.output import NodeOutput
from core.engine.steps import StepResult
from core.errors import HoistError
from core.health.spec import HealthCheck, seconds_text

BODY_LIMIT = 1024 * 1024
"""Bytes of a response body searched for the expected text."""

RunCommand = Callable[[str, NodeOutput], Awaitable[int]]
"""Runs a command on the server, its output going to the node's; returns the exit status."""


@dataclass(frozen=True)
class Outcome:
    """One part of an attempt: whether it passed, what to print, and why it failed."""

    ok: bool
    note: str
    why: str = ""


async def check_health(
    check: HealthCheck,
    *,
    address: str,
    name: str,
    run_command: RunCommand,
    output: NodeOutput,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> StepResult:
    """Attempt the check until `check.passes` attempts in a row pass (exit 0) or `check.wait`
    runs out (exit 1, with the last failure and the count of attempts as the error)."""
    url = check.url_for(address, name)
    output.line(f"health check of {name}: {_asked(check, url)}")
    start = clock()
    attempts = streak = 0
    last_failure = ""
    async with aiohttp.ClientSession() as session:
        while True:
            began = clock()
            attempts += 1
            parts = await _attempt(check, url, session, run_command, output)
            failures = [part.why for part in parts if not part.ok]
            streak = 0 if failures else streak + 1
            last_failure = "; ".join(failures) or last_failure
            notes = " · ".join(part.note for part in parts)
            output.line(f"attempt {attempts}: {notes} ({streak} of {check.passes} passes)")
            elapsed = clock() - start
            if streak >= check.passes:
                output.line(f"healthy after {_count(attempts)} in {_elapsed(elapsed)}")
                return StepResult()
            if began + check.interval - start > check.wait:
                why = _why(last_failure, streak, check.passes)
                error = f"{why} after {_count(attempts)} in {_elapsed(elapsed)}"
                output.line(f"not healthy: {error}")
                return StepResult(1, {"error": error})
            await sleep(max(0.0, began + check.interval - clock()))


async def _attempt(
    check: HealthCheck,
    url: str | None,
    session: aiohttp.ClientSession,
    run_command: RunCommand,
    output: NodeOutput,
) -> list[Outcome]:
    parts = []
    if url is not None:
        parts.append(await _ask(session, url, check))
    if check.command is not None:
        parts.append(await _run(check.command, check.timeout, run_command, output))
    return parts


async def _ask(session: aiohttp.ClientSession, url: str, check: HealthCheck) -> Outcome:
    """GET `url` once: the status must be the expected one and the body hold the text."""
    timeout = aiohttp.ClientTimeout(total=check.timeout)
    try:
        async with session.get(url, timeout=timeout, allow_redirects=False) as response:
            status = response.status
            body = await _read_body(response.content)
    except TimeoutError:
        return _http_failed(url, f"no answer within {seconds_text(check.timeout)}")
    except (aiohttp.ClientError, OSError, ValueError) as error:
        return _http_failed(url, _network_reason(error))
    if status != check.http_status:
        return Outcome(
            False,
            f"http {status}, wanted {check.http_status}",
            f"{url}: status {status}, wanted {check.http_status}",
        )
    if check.http_body and check.http_body not in body.decode("utf-8", errors="replace"):
        missing = f'body without "{check.http_body}"'
        return Outcome(False, f"http {status}, {missing}", f"{url}: {missing}")
    return Outcome(True, f"http {status} ok")


async def _read_body(stream: aiohttp.StreamReader) -> bytes:
    """The body, up to `BODY_LIMIT` bytes (one `read` may return just the first chunk)."""
    body = b""
    while len(body) < BODY_LIMIT:
        chunk = await stream.read(BODY_LIMIT - len(body))
        if not chunk:
            break
        body += chunk
    return body


def _http_failed(url: str, reason: str) -> Outcome:
    return Outcome(False, f"http {reason}", f"{url}: {reason}")


def _network_reason(error: BaseException) -> str:
    """A short sentence for a failed request, without aiohttp's class names."""
    if isinstance(error, aiohttp.ClientConnectorError):
        cause = error.os_error
        # asyncio's own OSError carries the errno but a "Connect call failed" strerror
        number = cause.errno or 0
        text = os.strerror(number) if number > 0 else cause.strerror
        return f"cannot connect ({text or cause})"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without answering"
    return f"request failed ({str(error) or type(error).__name__})"


async def _run(command: str, timeout: float, run_command: RunCommand, out: NodeOutput) -> Outcome:
    """Run the command once; exit 0 passes."""
    try:
        status = await asyncio.wait_for(run_command(command, out), timeout)
    except TimeoutError:
        limit = seconds_text(timeout)
        return Outcome(False, f"command ran past {limit}", f"command ran past {limit}")
    except HoistError as error:  # the SSH connection failed: a failed attempt, not a crash
        return Outcome(False, "command could not run", f"command could not run: {error}")
    if status != 0:
        return Outcome(False, f"command exited {status}", f"command exited {status}")
    return Outcome(True, "command ok")


def _asked(check: HealthCheck, url: str | None) -> str:
    parts = []
    if url is not None:
        parts.append(f"GET {url} → {check.http_status}")
    if check.command is not None:
        parts.append(f"`{check.command}`")
    until = "it passes" if check.passes == 1 else f"{check.passes} attempts in a row pass"
    return " and ".join(parts) + f", until {until}, for at most {seconds_text(check.wait)}"


def _why(last_failure: str, streak: int, needed: int) -> str:
    if not streak:
        return last_failure
    short = f"only {streak} of {needed} passes in a row"
    return f"{short} (last failure: {last_failure})" if last_failure else short


def _count(attempts: int) -> str:
    return f"{attempts} attempt{'s' if attempts != 1 else ''}"


def _elapsed(seconds: float) -> str:
    return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s".replace(".0s", "s")
