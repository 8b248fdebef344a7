"""Turning inventory servers into SSH targets: keys decrypted into memory only."""

from __future__ import annotations

from core.errors import ConflictError
from core.secrets import SecretBox
from core.store.models import Server
from core.transport.ssh import Target


async def target_for(server: Server, box: SecretBox, *, depth: int = 0) -> Target:
    """The transport target of `server`, with its jump host (itself a server) resolved."""
    if depth > 3:
        raise ConflictError(f"server `{server.name}` has jump hosts nested too deep")
    await server.fetch_related("key", "jump")
    key = server.key
    if not key.enabled:
        raise ConflictError(f"key `{key.name}` of server `{server.name}` is disabled")
    jump = await target_for(server.jump, box, depth=depth + 1) if server.jump else None
    return Target(
        name=server.name,
        address=server.address,
        port=server.port,
        user=key.user,
        private_key=box.open(key.private_key_encrypted, what=f"key `{key.name}`"),
        host_key=server.host_key,
        jump=jump,
    )
