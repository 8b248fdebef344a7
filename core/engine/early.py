"""Staging sessions a run holds open across stages: started early, and parked once staged.

The first part of staging a delta (check the live release, copy it as hard links) needs
nothing of the new release, so a task starts it on the servers that will run first as soon
as it starts. Each waits on its server for the rest of its script, which the upload stage
sends with the delta. One not taken by an upload stage is told to stop (it sees the end of
its input) before anything else is staged on that server, and at the latest when the run ends.

A staged delta's session then waits for the deploy stage's script (the switch), which saves
every server a session; it is parked here until then, and closed when the run ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from core.transport.ssh import PendingScript

_log = logging.getLogger(__name__)


@dataclass
class Early:
    """One staging started early: on top of release `base`."""

    base: str
    script: asyncio.Task[PendingScript]


class EarlyStagings:
    """The stagings a run started early, by server name."""

    def __init__(self) -> None:
        self._started: dict[str, Early] = {}
        self._parked: dict[str, PendingScript] = {}

    def start(
        self, server: str, base: str, open_script: Callable[[], Coroutine[Any, Any, PendingScript]]
    ) -> None:
        """Start `open_script` (the first part of staging on top of `base`) on `server`."""
        self._started[server] = Early(base, asyncio.create_task(open_script()))

    async def opened(self, server: str) -> None:
        """Wait until the staging started on `server` runs there (or could not start)."""
        early = self._started.get(server)
        if early is not None:
            await asyncio.wait([early.script])

    def take(self, server: str) -> Early | None:
        """The staging started on `server`, now the caller's to go on with or `abandon`."""
        return self._started.pop(server, None)

    def park(self, server: str, script: PendingScript) -> None:
        """Hold a staged delta's session on `server` for the deploy stage."""
        self._parked[server] = script

    def unpark(self, server: str) -> PendingScript | None:
        return self._parked.pop(server, None)

    async def abandon_all(self) -> None:
        """Stop every staging not taken and close every parked session (the run ends; what
        they staged stays for a retry)."""
        started, self._started = self._started, {}
        parked, self._parked = self._parked, {}
        await asyncio.gather(
            *(abandon(early) for early in started.values()),
            *(script.close() for script in parked.values()),
        )


async def abandon(early: Early) -> None:
    """Stop a staging started early and wait until it has: it sees the end of its input
    and exits, and whatever it staged is cleared by the next staging on that server."""
    try:
        script = await early.script
    except Exception as error:  # it never started: nothing to stop
        _log.debug("a staging started early on top of %s did not start: %s", early.base, error)
        return
    await script.close()
