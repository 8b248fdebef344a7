"""Dial one server: its pinned host key, the client key, and every failure as a sentence."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import asyncssh

from core.errors import UsageError
from core.keys import parse_host_key_line
from core.transport.errors import AuthError, ConnectError, HostKeyError

if TYPE_CHECKING:  # ssh.py imports this module; the value objects are only read here
    from core.transport.ssh import ConnectOptions, Target

_REFUSED = re.compile(r"refused|errno 111\b")

CIPHERS = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
)
"""asyncssh's ciphers with AES-GCM first: one OpenSSL call per packet with AES-NI, where
chacha20-poly1305 (its default first) sets up three; a release streams to many servers
from one process."""


class _HostKeyWitness(asyncssh.SSHClient):
    """Remembers the host key a server offered when it did not match the pinned one."""

    offered: asyncssh.SSHKey | None = None

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        """Record the offered key and refuse it (only called when it is not the pinned one)."""
        self.offered = key
        return False


async def dial(
    target: Target, options: ConnectOptions, tunnel: asyncssh.SSHClientConnection | None
) -> asyncssh.SSHClientConnection:
    """An authenticated connection to `target` (through `tunnel`), or a ConnectError."""
    pinned = _pinned_key(target)
    client_key = _client_key(target)
    witness = _HostKeyWitness()
    try:
        return await asyncssh.connect(
            target.address,
            target.port,
            tunnel=tunnel,
            config=None,
            client_factory=lambda: witness,
            username=target.user,
            known_hosts=([pinned], [], []),
            client_keys=[client_key],
            agent_path=None,
            password=None,
            kbdint_auth=False,
            gss_auth=False,
            x509_trusted_certs=None,
            preferred_auth="publickey",
            encryption_algs=CIPHERS,
            connect_timeout=options.connect_timeout,
            keepalive_interval=options.keepalive_interval,
            keepalive_count_max=options.keepalive_count_max,
        )
    except (asyncssh.Error, OSError, TimeoutError) as exc:
        raise _connect_error(target, options, exc, pinned, witness.offered, client_key) from None


def _pinned_key(target: Target) -> asyncssh.SSHKey:
    if not target.host_key:
        raise HostKeyError(
            f"server `{target.name}` has no pinned host key: "
            "pin it with `hoist server add … --scan` or --host-key"
        )
    try:
        return parse_host_key_line(target.host_key)
    except UsageError:
        raise HostKeyError(
            f"the pinned host key of `{target.name}` is not a known_hosts line: "
            "pin it again with `hoist server add … --scan` or --host-key"
        ) from None


def _client_key(target: Target) -> asyncssh.SSHKey:
    try:
        return asyncssh.import_private_key(target.private_key)
    except (asyncssh.KeyImportError, ValueError):
        raise AuthError(
            f"the key for `{target.name}` is not a usable private key (is it encrypted?)"
        ) from None


def _connect_error(
    target: Target,
    options: ConnectOptions,
    exc: BaseException,
    pinned: asyncssh.SSHKey,
    offered: asyncssh.SSHKey | None,
    client_key: asyncssh.SSHKey,
) -> ConnectError:
    """Translate an asyncssh or socket failure into a sentence about `target`."""
    where = f"`{target.name}` ({target.where})"
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        got = offered.get_fingerprint() if offered is not None else "an unverifiable key"
        return HostKeyError(
            f"host key of {where} does not match the pinned key: "
            f"expected {pinned.get_fingerprint()}, got {got} — nothing was sent"
        )
    if isinstance(exc, asyncssh.KeyExchangeFailed) and "host key" in exc.reason.lower():
        return HostKeyError(
            f"{where} offers no host key of the pinned type {pinned.get_algorithm()} "
            "— nothing was sent"
        )
    if isinstance(exc, asyncssh.PermissionDenied):
        return AuthError(
            f"{where} rejected the key `{client_key.get_fingerprint()}` for user `{target.user}`"
        )
    via = f" through `{target.jump.name}`" if target.jump is not None else ""
    return ConnectError(f"cannot connect to {where}{via}: {reason(exc, options)}")


def reason(exc: BaseException, options: ConnectOptions | None = None) -> str:
    """A short lower-case phrase for why a connection failed."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        limit = f" within {options.connect_timeout:g}s" if options is not None else ""
        return f"no answer{limit}"
    if isinstance(exc, asyncssh.ChannelOpenError | asyncssh.DisconnectError):
        why = exc.reason.rstrip(".").lower()
        return "connection refused" if _REFUSED.search(why) else why or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
