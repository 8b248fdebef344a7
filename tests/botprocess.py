"""`hoist serve` as a real process of its own, for what only processes show: signals, restarts,
and several bots sharing one database. Its log lines are read as they come, to wait on."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from bot.sandbox import FakeSlack
from core.config import Settings

T = TypeVar("T")
SERVING = re.compile(r"hoist is serving on (http://\S+)")


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    events_url: str = ""
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls, settings: Settings, slack: FakeSlack, signing_secret: str, **env: str
    ) -> BotProcess:
        """Start `hoist serve` on a free loopback port; returns once it serves."""
        assert settings.secret_key
        environ = os.environ | {
            "HOIST_HOME": str(settings.home),
            "HOIST_DATABASE_URL": settings.database_url,
            "HOIST_SECRET_KEY": settings.secret_key,
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_SIGNING_SECRET": signing_secret,
            "SLACK_API_URL": slack.url,
            "PYTHONUNBUFFERED": "1",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            env=environ | env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
        )
        bot = cls(process)
        bot._reader = asyncio.create_task(bot._read())
        try:
            found = await bot.wait_line(lambda line: SERVING.search(line), timeout=60)
        except BaseException:
            await bot.kill()
            raise
        bot.events_url = found.group(1)
        return bot

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            async with self._changed:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    async def wait_line(self, test: Callable[[str], T | None], timeout: float = 30) -> T:
        """The first log line (seen so far or to come) for which `test` is truthy."""

        def first() -> T | None:
            for line in self.lines:
                if found := test(line):
                    return found
            if self.process.returncode is not None or self._reader_done():
                raise AssertionError("hoist serve ended:\n" + "\n".join(self.lines[-40:]))
            return None

        async with self._changed:
            async with asyncio.timeout(timeout):
                return cast(T, await self._changed.wait_for(first))

    def _reader_done(self) -> bool:
        return self._reader is not None and self._reader.done()

    def log(self) -> str:
        return "\n".join(self.lines)

    async def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, then wait for it to exit; returns its exit status."""
        self.process.send_signal(signal.SIGTERM)
        return await self.wait(timeout)

    async def wait(self, timeout: float = 60) -> int:
        async with asyncio.timeout(timeout):
            code = await self.process.wait()
            if self._reader is not None:
                await self._reader
        return code

    async def kill(self) -> None:
        """Only for cleanup after a failed test: this process, by its PID."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if self._reader is not None:
            await self._reader
