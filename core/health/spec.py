"""What makes a server healthy: an HTTP answer, a command's exit status, or both.

The check is stored on the environment as a JSON object whose keys are the ones people type in
an apply file and, with `--health-` in front, on the command line:

    {"url": "http://{server}:8080/health", "status": 200, "body": "ok",
     "command": "systemctl is-active shop", "timeout": 5.0, "passes": 2,
     "interval": 2.0, "wait": 60.0}

In the URL, `{server}` stands for the server's address (an IPv6 address in brackets) and
`{name}` for its inventory name. A URL with neither asks the same place for every server (a
load balancer's view, say), which is allowed. Redirects are not followed: the status compared is
the one the URL itself answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from core.errors import UsageError

KEYS = ("url", "status", "body", "command", "timeout", "passes", "interval", "wait")
"""The stored (and typed) names of the settings, in the order they are shown."""


class HealthCheckError(UsageError):
    """A health check setting is wrong; `key` is the stored name of the one at fault."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class HealthCheck:
    """How to tell a server is healthy; an invalid one cannot be made."""

    http_url: str | None = None
    http_status: int = 200
    http_body: str = ""
    """Text the body must contain; empty for any body."""
    command: str | None = None
    """Run on the server over SSH; exit 0 is healthy."""
    timeout: float = 5.0
    """Seconds each attempt (the request, the command) may take."""
    passes: int = 1
    """Consecutive passing attempts that make the server healthy."""
    interval: float = 2.0
    """Seconds from the start of one attempt to the start of the next."""
    wait: float = 60.0
    """Seconds after which no new attempt starts: the server is not healthy."""

    def __post_init__(self) -> None:
        _check_types(self)
        for attr in ("http_url", "command"):  # blank is the same as not given
            value = getattr(self, attr)
            if value is not None and not value.strip():
                object.__setattr__(self, attr, None)
        _check_values(self)

    @classmethod
    def from_stored(cls, data: dict[str, Any] | None) -> HealthCheck | None:
        """The check stored as `data` (see `stored`); None for no check. Unknown keys are
        ignored, so a check stored by a newer Hoist still loads."""
        if data is None:
            return None
        values = {field: data[key] for key, field in _FIELDS.items() if key in data}
        return cls(**values)

    def stored(self) -> dict[str, Any]:
        """The JSON object kept on the environment, every key present."""
        return {
            "url": self.http_url,
            "status": self.http_status,
            "body": self.http_body,
            "command": self.command,
            "timeout": float(self.timeout),
            "passes": self.passes,
            "interval": float(self.interval),
            "wait": float(self.wait),
        }

    def url_for(self, address: str, name: str) -> str | None:
        """The URL asked of one server: `{server}` and `{name}` filled in."""
        if self.http_url is None:
            return None
        host = f"[{address}]" if ":" in address and not address.startswith("[") else address
        return self.http_url.replace("{server}", host).replace("{name}", name)

    def describe(self) -> str:
        """One line for people: what is asked, and how patiently."""
        parts = []
        if self.http_url:
            wanted = f"GET {self.http_url} → {self.http_status}"
            parts.append(wanted + (f' containing "{self.http_body}"' if self.http_body else ""))
        if self.command:
            parts.append(f"`{self.command}` exits 0")
        passes = f"{self.passes} consecutive passes" if self.passes > 1 else "1 pass"
        return (
            " and ".join(parts)
            + f"; {passes}, every {seconds_text(self.interval)}, at most "
            + f"{seconds_text(self.wait)}, {seconds_text(self.timeout)} per attempt"
        )


_FIELDS = {
    "url": "http_url",
    "status": "http_status",
    "body": "http_body",
    "command": "command",
    "timeout": "timeout",
    "passes": "passes",
    "interval": "interval",
    "wait": "wait",
}


def _check_types(check: HealthCheck) -> None:
    for key in ("url", "command"):
        value = getattr(check, _FIELDS[key])
        if value is not None and not isinstance(value, str):
            raise HealthCheckError(f"health check {key} must be text", key)
    if not isinstance(check.http_body, str):
        raise HealthCheckError("health check body must be text", "body")
    for key in ("status", "passes"):
        value = getattr(check, _FIELDS[key])
        if not isinstance(value, int) or isinstance(value, bool):
            raise HealthCheckError(f"health check {key} must be a whole number", key)
    for key in ("timeout", "interval", "wait"):
        value = getattr(check, key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise HealthCheckError(f"health check {key} must be a number of seconds", key)


def _check_values(check: HealthCheck) -> None:
    if check.http_url is None and check.command is None:
        raise HealthCheckError(
            "a health check needs a URL to ask or a command to run on the server (or both)", "url"
        )
    if check.http_url is not None:
        _check_url(check.http_url)
    if not 100 <= check.http_status <= 599:
        raise HealthCheckError(
            f"health check status {check.http_status} is not an HTTP status (100 to 599)", "status"
        )
    if check.passes < 1:
        raise HealthCheckError(
            f"health check passes must be at least 1, not {check.passes}", "passes"
        )
    for key in ("timeout", "interval"):
        if getattr(check, key) <= 0:
            raise HealthCheckError(f"health check {key} must be more than 0 seconds", key)
    if check.wait < check.interval:
        raise HealthCheckError(
            f"health check wait ({seconds_text(check.wait)}) must be at least its interval "
            f"({seconds_text(check.interval)})",
            "wait",
        )
    shortest = check.interval * (check.passes - 1)
    if check.wait < shortest:
        raise HealthCheckError(
            f"health check wait ({seconds_text(check.wait)}) is too short for {check.passes} "
            f"passes every {seconds_text(check.interval)}: make it at least "
            f"{seconds_text(shortest)}",
            "wait",
        )


def _check_url(url: str) -> None:
    sample = url.replace("{server}", "host.example").replace("{name}", "name")
    try:
        parts = urlsplit(sample)
        _ = parts.port  # a bad port raises here
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise HealthCheckError(
            f"health check URL `{url}` must be an http:// or https:// URL with a host, "
            "e.g. http://{server}:8080/health",
            "url",
        )
    if any(c.isspace() for c in url):
        raise HealthCheckError(f"health check URL `{url}` contains spaces", "url")


def seconds_text(value: float) -> str:
    """`2.0` → `2s`, `0.5` → `0.5s`, `90` → `90s`."""
    return f"{value:g}s"
