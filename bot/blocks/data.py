"""What the Block Kit builders draw: plain, frozen data, built from the database elsewhere.

Builders take these and return dicts; they never touch the database, the engine or Slack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.engine.rollout import Step
from core.engine.summary import NodeFacts


@dataclass(frozen=True)
class NodeView:
    stage: str
    """One of start, pre_download, download, post_download, package, upload, pre_deploy,
    deploy, post_deploy, health (where the environment checks its servers)."""
    server: str
    """"" for the local stages."""
    status: str
    """pending, running, succeeded, failed or skipped."""
    seconds: float | None = None
    error: str = ""
    bytes_sent: int = 0
    files_sent: int = 0
    transfer: str = ""
    """How an upload sent the release: delta, full, none, or "" (nothing yet)."""

    def facts(self) -> NodeFacts:
        return NodeFacts(
            self.stage,
            self.server,
            self.status,
            self.seconds,
            self.bytes_sent,
            self.files_sent,
            self.transfer,
        )


@dataclass(frozen=True)
class ApprovalView:
    reviewer: str
    """A Slack user id, e.g. U012AB3CD."""
    decision: str
    """approve or reject."""
    comment: str = ""


@dataclass(frozen=True)
class TaskView:
    id: int
    project: str
    env: str
    version: str
    kind: str
    """deploy or rollback."""
    ref: str
    commit: str
    subject: str
    requester: str
    """A Slack user id when requested from Slack, else a name."""
    status: str
    """pending_approval, scheduled, queued, running, canary, paused, succeeded, failed,
    cancelled, rejected, interrupted or missed."""
    mode: str = "full"
    canary_servers: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()
    note: str = ""
    scheduled_at: datetime | None = None
    reason: str = ""
    """Why it ended so, when not by its nodes (missed, interrupted), or why it is paused."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    approvals_required: int = 0
    reviewers: tuple[str, ...] = ()
    """Slack user ids, or user-group handles like `@oncall` / ids like `S0123`."""
    approvals: tuple[ApprovalView, ...] = ()
    hooks: dict[str, str] = field(default_factory=dict)
    """Stage → the script that will run (empty stages left out)."""
    hook_sources: dict[str, str] = field(default_factory=dict)
    """Stage → `template:<title>` or `typed`."""
    changes: tuple[str, ...] = ()
    """Subjects of the commits since the live release, newest first."""
    more_changes: int = 0
    """How many more commits there are beyond `changes`."""
    live_version: str | None = None
    nodes: tuple[NodeView, ...] = ()
    log_url: str | None = None
    """The task's release page (unsigned); when set, the message offers View logs."""
    rollback_to: str | None = None
    plan_name: str = ""
    """The rollout plan it follows, by name ("" for none)."""
    plan: tuple[Step, ...] = ()
    """The plan's steps, resolved to servers when the task was made."""
    step: int = 0
    """The step that runs next (as many steps are done)."""
    paused_at: datetime | None = None
    resume_at: datetime | None = None
    """When a timed pause ends by itself; None while paused: someone must continue."""


@dataclass(frozen=True)
class RefOption:
    """A branch or tag offered in the `/deploy` modal's ref picker."""

    name: str
    kind: str
    """branch or tag."""
    sha: str


@dataclass(frozen=True)
class CommitOption:
    """A commit offered in the `/deploy` modal's commit picker."""

    sha: str
    subject: str
    author: str


@dataclass(frozen=True)
class TemplateOption:
    """A saved hook template, offered in the picker of its stage."""

    id: int
    title: str
    stage: str
    """pre_download, post_download, pre_deploy or post_deploy."""
    script: str


@dataclass(frozen=True)
class DeployFormView:
    """The `/deploy` modal's current state: what is chosen so far and what may be chosen next."""

    projects: tuple[str, ...]
    """Slugs of the projects the user may deploy."""
    project: str | None = None
    envs: tuple[str, ...] = ()
    """The chosen project's environments the user may deploy to."""
    env: str | None = None
    servers: tuple[str, ...] = ()
    """The chosen environment's servers (canary candidates)."""
    mode: str = "full"
    """full or canary."""
    templates: tuple[TemplateOption, ...] = ()
    chosen_templates: dict[str, int] = field(default_factory=dict)
    """Hook stage → id of the template picked for it (stages typed by hand left out)."""
    templates_only: bool = False
    """The environment runs saved templates only: no typed scripts."""
    plans: tuple[PlanOption, ...] = ()
    """The environment's rollout plans (none: no picker)."""
    plan_default: str | None = None
    """The plan a release follows unless another is picked (None: no plan)."""
    plan: str | None = None
    """The plan picked so far."""


@dataclass(frozen=True)
class PlanOption:
    """A rollout plan of the environment, offered in the `/deploy` modal."""

    name: str
    text: str
    """As written, e.g. `1 wait, 10%, 50% 10m, 100%`."""
