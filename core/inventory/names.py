"""Rules for names and values a person types: pure checks with clear messages."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from core.errors import NotFoundError, UsageError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,254}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_name(kind: str, value: str) -> str:
    """A key, server or environment name: letters, digits and `. _ : @ -`."""
    if not _NAME.match(value):
        raise UsageError(
            f"{kind} name `{value}` is not valid: use letters, digits and . _ : @ - "
            "(starting with a letter or digit)"
        )
    return value


def check_slug(value: str) -> str:
    """A project slug: lower-case letters, digits, `-` and `_`."""
    if not _SLUG.match(value):
        raise UsageError(
            f"project slug `{value}` is not valid: use lower-case letters, digits, - and _"
        )
    return value


def check_absolute(what: str, path: str) -> str:
    """A path on the servers: absolute, with no `..` and no shell-hostile characters."""
    if not path.startswith("/") or "/../" in f"{path}/" or any(c in path for c in "\n\0"):
        raise UsageError(f"{what} `{path}` must be an absolute path without `..`")
    return path


def check_positive(what: str, value: int, *, minimum: int = 0) -> int:
    if value < minimum:
        raise UsageError(f"{what} must be at least {minimum}, not {value}")
    return value


def closest(name: str, candidates: Iterable[str]) -> list[str]:
    """Up to three known names that look like `name`."""
    return difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.5)


def not_found(kind: str, name: str, candidates: Iterable[str]) -> NotFoundError:
    """An error for an unknown name, suggesting the closest known ones."""
    near = closest(name, candidates)
    hint = f" (did you mean {', '.join(f'`{n}`' for n in near)}?)" if near else ""
    return NotFoundError(f"unknown {kind} `{name}`{hint}")


def is_group(name: str) -> bool:
    """Slack user groups are named by id (`S0123…`) or handle (`@oncall`)."""
    return name.startswith("@") or (name.startswith("S") and name[1:].isalnum() and name.isupper())


def split_list(value: str | None) -> list[str]:
    """`a, b,c` → ['a', 'b', 'c']; None or empty → []."""
    if not value:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]
