"""What a person asks the inventory to hold, as plain values (from the CLI or an apply file).

A spec names other objects by name (a server's key, an environment's servers); `state()`
functions turn stored rows back into the same shape, so a change is a plain dict diff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from core.health.spec import HealthCheck
from core.keys import KeyMaterial
from core.status import HookStage


@dataclass(frozen=True)
class KeySpec:
    name: str
    user: str
    material: KeyMaterial = field(compare=False)

    def desired(self) -> dict[str, Any]:
        return {"user": self.user, "fingerprint": self.material.fingerprint}


@dataclass(frozen=True)
class ServerSpec:
    name: str
    address: str
    key: str
    port: int = 22
    host_key: str | None = None
    labels: tuple[str, ...] = ()
    owner: str | None = None
    team: str | None = None
    jump: str | None = None

    def desired(self) -> dict[str, Any]:
        values = asdict(self)
        values["labels"] = list(self.labels)
        del values["name"]
        return values


@dataclass(frozen=True)
class ProjectSpec:
    slug: str
    repo_url: str
    default_branch: str = "main"
    keep_releases: int = 5
    channel: str | None = None
    git_key: str | None = None
    digest_cron: str | None = None
    """When to post the release digest, a crontab line; None (or empty) for no digest."""
    digest_timezone: str = "UTC"

    def desired(self) -> dict[str, Any]:
        values = asdict(self)
        values["digest_cron"] = " ".join((self.digest_cron or "").split()) or None
        del values["slug"]
        return values


@dataclass(frozen=True)
class EnvSpec:
    project: str
    name: str
    deploy_path: str
    codes_root: str = "/data/codes"
    servers: tuple[str, ...] = ()
    deployers: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    approvals_required: int = 0
    batch_size: int = 0
    templates_only: bool | None = None
    health_check: HealthCheck | None = None
    rollout_plans: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Named rollout plans, e.g. {"careful": "1 wait, 10%, 100%"} (core.engine.rollout)."""
    rollout_default: str | None = None
    """The plan a deploy follows when none is chosen; None (or empty) for all at once."""
    max_failed: int = 0
    auto_rollback: bool = False
    pause_reminder: int = 1800
    """Seconds a pause waits for a person before the channel is reminded; 0 for never."""

    @property
    def label(self) -> str:
        return f"{self.project}/{self.name}"

    @classmethod
    def from_state(cls, project: str, name: str, values: Mapping[str, Any]) -> EnvSpec:
        """The spec of stored (or edited) values in the shape `state.env_state` returns."""
        given: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in values.items()
        }
        if "health_check" in given:
            given["health_check"] = HealthCheck.from_stored(given["health_check"])
        return cls(project=project, name=name, **given)

    def desired(self) -> dict[str, Any]:
        values = asdict(self)
        for key in ("servers", "deployers", "reviewers"):
            values[key] = list(values[key])
        if self.templates_only is None:
            values["templates_only"] = self.approvals_required > 0
        values["health_check"] = self.health_check.stored() if self.health_check else None
        values["rollout_plans"] = dict(self.rollout_plans)
        values["rollout_default"] = self.rollout_default or None
        del values["project"], values["name"]
        return values


@dataclass(frozen=True)
class TemplateSpec:
    title: str
    stage: HookStage
    script: str

    def desired(self) -> dict[str, Any]:
        return {"stage": str(self.stage), "script": self.script}


def diff(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields whose stored value differs from the desired one, as (old, new)."""
    return {k: (current.get(k), v) for k, v in desired.items() if current.get(k) != v}
