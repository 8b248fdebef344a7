"""The SSH transport's errors: one root, one class per way a remote call can fail."""

from __future__ import annotations

from core.errors import HoistError


class TransportError(HoistError):
    """Root of the SSH transport's errors."""


class ConnectError(TransportError):
    """The server could not be reached or the SSH handshake failed; nothing ran."""


class HostKeyError(ConnectError):
    """The server's host key is not pinned or does not match the pinned one; nothing was sent."""


class AuthError(ConnectError):
    """The server rejected the key."""


class ChannelError(TransportError):
    """The connection failed while a command was running."""


class SessionNotStarted(ChannelError):
    """The connection was gone before the command started: nothing ran, so it is safe to
    run the command again on a new connection."""


class CommandTimeout(TransportError):
    """A command ran past its timeout; its process group was killed."""


class UploadError(TransportError):
    """The server could not store an uploaded file."""
