"""Hoist's error tree. Every message is a sentence a user can act on.

Library exceptions (Tortoise, asyncssh, GitPython, cryptography) are translated into these at
the adapter that calls the library, so callers and listeners only ever see a `HoistError`.
"""


class HoistError(Exception):
    """Root of every error Hoist raises on purpose."""

    exit_code = 1


class UsageError(HoistError):
    """The input was wrong: nothing was changed. The CLI exits 2."""

    exit_code = 2


class NotFoundError(UsageError):
    """A named object does not exist."""


class ConflictError(UsageError):
    """The change would break a rule of the inventory (a duplicate, an object in use)."""


class SecretError(HoistError):
    """The key-encryption secret is missing, malformed, or not the one the data was stored with."""

    exit_code = 2


class StorageError(HoistError):
    """The database cannot be reached or is not at the schema this Hoist expects."""
