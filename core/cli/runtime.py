"""Running CLI commands: settings, the actor, the database around each command, errors."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import click

from core.audit import Actor
from core.config import Settings
from core.engine.engine import Engine
from core.errors import HoistError
from core.secrets import SecretBox, open_box
from core.store.db import close_database, open_database

T = TypeVar("T")


@dataclass
class CliState:
    """What every command gets: settings from the environment and who is acting."""

    settings: Settings
    actor: Actor
    engines: list[Engine] = field(default_factory=list)
    """Engines this command started; stopped cleanly (runs cancelled) before it exits."""

    async def box(self) -> SecretBox:
        """The secret box, checked against this database."""
        return await open_box(self.settings)


def fail(error: HoistError) -> NoReturn:
    """Print a one-line error and exit with the error's code."""
    click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


def with_database(fn: Callable[..., Awaitable[T]]) -> Callable[..., T | None]:
    """Run an async command with the database open (pending migrations applied first)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T | None:
        state = click.get_current_context().find_object(CliState)
        assert state is not None
        try:
            return asyncio.run(_run(state, fn, *args, **kwargs))
        except HoistError as error:
            fail(error)

    return wrapper


async def _run(state: CliState, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    await open_database(state.settings)
    try:
        return await fn(state, *args, **kwargs)
    finally:
        for engine in state.engines:
            stopped = await engine.shutdown()
            for task_id in stopped:
                click.echo(
                    f"task #{task_id} cancelled: servers keep the release they point at", err=True
                )
        await close_database()
