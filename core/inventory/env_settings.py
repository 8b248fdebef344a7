"""An environment's health check and rollout settings: checks, edits and readable forms.

Pure functions shared by the CLI (`hoist env add/set`), the apply file and the service, so each
refuses the same values with the same sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.engine.rollout import parse_plan
from core.errors import UsageError
from core.health.spec import HealthCheck
from core.inventory.names import check_positive, not_found
from core.scheduling.times import parse_duration

if TYPE_CHECKING:
    from core.inventory.specs import EnvSpec

_PLAN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def check_plan(name: str, text: str) -> None:
    """A rollout plan's name is a short word and its text parses (see core.engine.rollout)."""
    if not _PLAN_NAME.match(name):
        raise UsageError(
            f"rollout plan name `{name}` is not valid: use letters, digits and . _ - "
            "(up to 64, starting with a letter or digit)"
        )
    try:
        parse_plan(text)
    except UsageError as exc:
        raise UsageError(f"rollout plan `{name}`: {exc}") from None


def check_default(default: str | None, plans: Mapping[str, str], label: str) -> None:
    """The default plan, if any, is one of the environment's plans."""
    if default and default not in plans:
        known = ", ".join(f"`{n}`" for n in sorted(plans)) or "none yet"
        raise UsageError(
            f"rollout default `{default}` is not one of the rollout plans of {label} ({known})"
        )


def check_settings(spec: EnvSpec) -> None:
    """Every rollout setting of `spec` (its health check checked itself when it was made)."""
    for name, text in spec.rollout_plans.items():
        check_plan(name, text)
    check_default(spec.rollout_default, spec.rollout_plans, spec.label)
    check_positive("failed servers allowed per step (--max-failed)", spec.max_failed)
    check_positive("pause reminder (--pause-reminder)", spec.pause_reminder)


def parse_reminder(text: str) -> int:
    """`30m`, `2h`, `90s` → seconds; `0` for never."""
    if text.strip() == "0":
        return 0
    try:
        return int(parse_duration(text).total_seconds())
    except UsageError:
        raise UsageError(
            f"pause reminder `{text}` is not a duration like 30m or 2h (or 0 for never)"
        ) from None


def parse_seconds(text: str, what: str) -> float:
    """`5`, `2.5`, `90s`, `2m` → seconds."""
    value = text.strip()
    if _NUMBER.match(value):
        return float(value)
    try:
        return parse_duration(value).total_seconds()
    except UsageError:
        raise UsageError(
            f"{what} `{text}` is not a number of seconds or a duration like 90s or 2m"
        ) from None


def reminder_text(seconds: int) -> str:
    """How a stored pause reminder reads: `30m`, `1h30m`, `never`."""
    if seconds <= 0:
        return "never"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)


@dataclass(frozen=True)
class SettingsEdit:
    """Changes to an environment's health check and plans, made on top of what it holds.

    `health` holds the given health settings by their stored names (see core.health.spec);
    an empty URL, command or body removes that part. `plans` adds or replaces plans by name.
    """

    health: Mapping[str, Any] = field(default_factory=dict, hash=False)
    no_health: bool = False
    plans: Mapping[str, str] = field(default_factory=dict, hash=False)
    drop_plans: tuple[str, ...] = ()

    def apply(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """`values` (an environment's state and the other changes given) with these made."""
        result = dict(values)
        result["health_check"] = self._health(values.get("health_check"))
        result["rollout_plans"] = self._plans(
            dict(values.get("rollout_plans") or {}), values.get("rollout_default")
        )
        return result

    def _health(self, current: dict[str, Any] | None) -> dict[str, Any] | None:
        if self.no_health and self.health:
            raise UsageError("give --no-health or --health-… settings, not both")
        if self.no_health:
            return None
        if not self.health:
            return current
        check = HealthCheck.from_stored((current or {}) | dict(self.health))
        return check.stored() if check else None

    def _plans(self, plans: dict[str, str], default: str | None) -> dict[str, str]:
        for name in self.drop_plans:
            if name in self.plans:
                raise UsageError(f"rollout plan `{name}` is both given and removed")
            if name not in plans:
                raise not_found("rollout plan", name, plans)
            if name == default:
                raise UsageError(
                    f"rollout plan `{name}` is the default: name another with "
                    '--rollout-default NAME, or clear it with --rollout-default ""'
                )
            del plans[name]
        return plans | dict(self.plans)
