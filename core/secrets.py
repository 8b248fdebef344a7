"""The key-encryption secret and the Fernet box that seals private keys and tokens at rest."""

from __future__ import annotations

import os

from cryptography.fernet import Fernet, InvalidToken
from tortoise.exceptions import IntegrityError

from core.config import Settings
from core.errors import SecretError
from core.store.models import Meta

CHECK_KEY = "secret_check"
CHECK_PLAINTEXT = b"hoist secret check"


class SecretBox:
    """Encrypts and decrypts with one Fernet key; never shows what it holds."""

    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError) as exc:
            raise SecretError(
                "HOIST_SECRET_KEY is not a valid Fernet key (32 url-safe base64-encoded bytes); "
                "make one with `hoist secret generate`"
            ) from exc

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str, *, what: str) -> str:
        """Decrypt `token`; `what` names the secret in the error if the key is not the right one."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretError(
                f"cannot decrypt {what}: HOIST_SECRET_KEY is not the secret it was stored with"
            ) from exc


def generate_secret() -> str:
    """A new random Fernet key."""
    return Fernet.generate_key().decode()


def load_secret(settings: Settings) -> str:
    """The secret from HOIST_SECRET_KEY, or on SQLite one kept in HOIST_HOME (made once, 0600)."""
    if settings.secret_key:
        return settings.secret_key
    if not settings.embedded:
        raise SecretError(
            "HOIST_SECRET_KEY is not set; a shared database needs the same secret on every "
            "Hoist process (make one with `hoist secret generate`)"
        )
    path = settings.secret_file
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = generate_secret()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


async def open_box(settings: Settings) -> SecretBox:
    """A box for the configured secret, checked against the one this database was sealed with."""
    box = SecretBox(load_secret(settings))
    check = await Meta.get_or_none(key=CHECK_KEY)
    if check is None:
        try:
            await Meta.create(key=CHECK_KEY, value=box.seal(CHECK_PLAINTEXT.decode()))
            return box
        except IntegrityError:  # another process starting at the same moment stored it first
            check = await Meta.get(key=CHECK_KEY)
    box.open(check.value, what="the data in this database")
    return box
