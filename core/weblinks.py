"""Signed, expiring links to a task's page: who may look, at which task, until when.

A token is `payload.mac`, both url-safe base64: the payload names the task, the expiry and the
viewer's Slack id (nothing secret); the mac is HMAC-SHA256 over it with a key derived from the
Hoist secret for this one purpose, so a link never helps anyone decrypt anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import HoistError

LINK_TTL = timedelta(hours=12)
INFO = b"hoist task links"


class LinkRefused(HoistError):
    """A link token that is missing, expired, altered, malformed or for another task."""


def link_key(secret_key: str) -> bytes:
    """A key for signing links, derived from HOIST_SECRET_KEY (never the secret itself)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO)
    return hkdf.derive(secret_key.encode())


def sign(task_id: int, viewer: str, expires: datetime, key: bytes) -> str:
    """A token letting `viewer` see task `task_id` until `expires`."""
    stamp = int(expires.timestamp())
    payload = f"{task_id}:{stamp}:{viewer}".encode()
    return f"{_encode(payload)}.{_encode(_mac(payload, key))}"


def verify(token: str, task_id: int, now: datetime, key: bytes) -> str:
    """The viewer named in `token`, if it is intact, for `task_id` and not expired at `now`."""
    payload, mac = _split(token)
    if not hmac.compare_digest(mac, _mac(payload, key)):
        raise LinkRefused("this link was altered")
    try:
        task, stamp, viewer = payload.decode().split(":", 2)
        expires = datetime.fromtimestamp(int(stamp), UTC)
        linked = int(task)
    except (UnicodeDecodeError, ValueError, OverflowError, OSError) as exc:
        raise LinkRefused("this link is malformed") from exc
    if linked != task_id:
        raise LinkRefused("this link is for another task")
    if now >= expires:
        raise LinkRefused("this link has expired")
    return viewer


def _mac(payload: bytes, key: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def _split(token: str) -> tuple[bytes, bytes]:
    parts = token.split(".")
    if len(parts) != 2 or not all(parts):
        raise LinkRefused("this link is malformed")
    try:
        return _decode(parts[0]), _decode(parts[1])
    except (ValueError, binascii.Error) as exc:
        raise LinkRefused("this link is malformed") from exc


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    """Strict: only the one spelling `_encode` makes is accepted, so no other string (a
    changed last character that decodes the same) passes as the same link."""
    raw = base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
    if _encode(raw) != text:
        raise ValueError("not the canonical spelling")
    return raw
