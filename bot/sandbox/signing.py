"""Slack's request signing: what the stand-in puts on every request it sends the bot.

Slack signs `v0:<timestamp>:<raw body>` with HMAC-SHA256 under the app's signing secret and
sends the hex digest, prefixed `v0=`, next to the timestamp. Receivers refuse a timestamp more
than five minutes from their own clock, so tests forge requests by signing with the wrong
secret and replay them by signing with an old timestamp.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "sign", "signature"]

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The `v0=…` signature Slack computes for this body at this time."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def sign(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The two headers Slack adds to a request with this body, sent at `timestamp` (Unix)."""
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, body, timestamp),
    }
