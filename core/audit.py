"""Who did what, from where: the append-only audit trail."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any

from core.store.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """The person (or `system`) behind a change, and the surface it came through."""

    name: str
    via: str = "cli"

    @classmethod
    def from_os(cls, override: str | None = None) -> Actor:
        """The CLI's actor: `--as NAME`, else the operating-system user."""
        return cls(name=override or getpass.getuser(), via="cli")


SYSTEM = Actor("hoist", via="system")


async def record(actor: Actor, action: str, target: str, **details: Any) -> AuditEvent:
    """Append one audit event."""
    return await AuditEvent.create(
        actor=actor.name, via=actor.via, action=action, target=target, details=details
    )
