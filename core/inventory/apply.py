"""`hoist apply FILE.toml`: the whole inventory as one file, applied all-or-nothing.

Objects in the file are created or updated to match it; objects not in the file are left as
they are. A dry run does the same work inside the transaction and then rolls it back, so it
finds every error a real run would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from tortoise.models import Model
from tortoise.transactions import in_transaction

from core.audit import Actor, record
from core.inventory import state
from core.inventory.inventory_file import Inventory
from core.inventory.specs import diff
from core.secrets import SecretBox
from core.store.models import Environment, HookTemplate, Project, Server, SSHKey


@dataclass(frozen=True)
class Change:
    kind: str
    name: str
    action: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def describe(self) -> str:
        sign = "+" if self.action == "create" else "~"
        names = ", ".join(sorted(self.fields)) if self.action == "update" else ""
        return f"{sign} {self.kind} {self.name}" + (f" ({names})" if names else "")


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


async def apply_inventory(
    actor: Actor, inventory: Inventory, box: SecretBox, *, dry_run: bool = False
) -> list[Change]:
    """Make the database hold `inventory`; returns the changes (made, or that would be made)."""
    changes: list[Change] = []
    try:
        async with in_transaction():
            await _apply_all(inventory, box, changes, actor.name)
            for change in changes:
                await record(
                    actor,
                    f"{change.kind}.{change.action}",
                    f"{change.kind}:{change.name}",
                    via_apply=True,
                    fields=sorted(change.fields),
                )
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return changes


async def _apply_all(inv: Inventory, box: SecretBox, changes: list[Change], who: str) -> None:
    for key in inv.keys:
        row: Any = await SSHKey.get_or_none(name=key.name)
        changes += await _sync(
            "key",
            key.name,
            row,
            key.desired(),
            state.key_state,
            partial(state.write_key, spec=key, box=box),
        )
    for server in inv.servers_in_order():
        row = await Server.get_or_none(name=server.name)
        changes += await _sync(
            "server",
            server.name,
            row,
            server.desired(),
            state.server_state,
            partial(state.write_server, spec=server),
        )
    for project in inv.projects:
        row = await Project.get_or_none(slug=project.slug)
        changes += await _sync(
            "project",
            project.slug,
            row,
            project.desired(),
            state.project_state,
            partial(state.write_project, spec=project),
        )
    for env in inv.envs:
        row = await Environment.get_or_none(project__slug=env.project, name=env.name)
        changes += await _sync(
            "env",
            env.label,
            row,
            env.desired(),
            state.env_state,
            partial(state.write_env, spec=env),
        )
    for template in inv.templates:
        row = await HookTemplate.get_or_none(title=template.title)
        changes += await _sync(
            "template",
            template.title,
            row,
            template.desired(),
            state.template_state,
            partial(state.write_template, spec=template, created_by=who),
        )


async def _sync(
    kind: str,
    name: str,
    row: Any,
    desired: dict[str, Any],
    current: Callable[[Any], Awaitable[dict[str, Any]]],
    write: Callable[[Any], Awaitable[Model]],
) -> list[Change]:
    """Create or update one object; the change made, if any."""
    if row is None:
        await write(None)
        return [Change(kind, name, "create")]
    changed = diff(await current(row), desired)
    if not changed:
        return []
    await write(row)
    return [Change(kind, name, "update", changed)]
