"""Statuses of tasks and pipeline nodes, each with one transition table. An illegal move raises."""

from __future__ import annotations

from enum import StrEnum

from core.errors import ConflictError


class TaskStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    CANARY = "canary"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    INTERRUPTED = "interrupted"
    MISSED = "missed"

    @property
    def finished(self) -> bool:
        """No runner holds the task: it ended, or it waits for a person (retry, promote)."""
        return self in _RESTING

    @property
    def active(self) -> bool:
        """The task occupies its environment (running, a canary waiting for promotion, or a
        rollout paused between steps)."""
        return self in (TaskStatus.RUNNING, TaskStatus.CANARY, TaskStatus.PAUSED)


_RESTING = frozenset(
    {
        TaskStatus.SUCCEEDED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
        TaskStatus.REJECTED,
        TaskStatus.INTERRUPTED,
        TaskStatus.MISSED,
    }
)

TASK_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.PENDING_APPROVAL: frozenset(
        {
            TaskStatus.SCHEDULED,
            TaskStatus.QUEUED,
            TaskStatus.REJECTED,
            TaskStatus.CANCELLED,
            TaskStatus.MISSED,
        }
    ),
    TaskStatus.SCHEDULED: frozenset({TaskStatus.QUEUED, TaskStatus.CANCELLED, TaskStatus.MISSED}),
    TaskStatus.QUEUED: frozenset({TaskStatus.RUNNING, TaskStatus.CANCELLED, TaskStatus.MISSED}),
    TaskStatus.RUNNING: frozenset(
        {
            TaskStatus.CANARY,
            TaskStatus.PAUSED,
            TaskStatus.SUCCEEDED,
            TaskStatus.FAILED,
            TaskStatus.CANCELLED,
            TaskStatus.INTERRUPTED,
        }
    ),
    TaskStatus.CANARY: frozenset(
        {TaskStatus.RUNNING, TaskStatus.CANCELLED, TaskStatus.INTERRUPTED}
    ),
    TaskStatus.PAUSED: frozenset({TaskStatus.QUEUED, TaskStatus.CANCELLED}),
    TaskStatus.FAILED: frozenset({TaskStatus.QUEUED}),
    TaskStatus.INTERRUPTED: frozenset({TaskStatus.QUEUED, TaskStatus.CANCELLED}),
    TaskStatus.SUCCEEDED: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
    TaskStatus.REJECTED: frozenset(),
    TaskStatus.MISSED: frozenset(),
}


def check_task_move(current: TaskStatus, new: TaskStatus) -> None:
    """Raise `ConflictError` unless a task may move from `current` to `new`."""
    if new not in TASK_TRANSITIONS[current]:
        raise ConflictError(f"a task that is {current} cannot become {new}")


class NodeStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


NODE_TRANSITIONS: dict[NodeStatus, frozenset[NodeStatus]] = {
    NodeStatus.PENDING: frozenset({NodeStatus.RUNNING, NodeStatus.SKIPPED}),
    NodeStatus.RUNNING: frozenset({NodeStatus.SUCCEEDED, NodeStatus.FAILED, NodeStatus.SKIPPED}),
    NodeStatus.FAILED: frozenset({NodeStatus.PENDING}),
    NodeStatus.SKIPPED: frozenset({NodeStatus.PENDING}),
    NodeStatus.SUCCEEDED: frozenset(),
}


def check_node_move(current: NodeStatus, new: NodeStatus) -> None:
    """Raise `ConflictError` unless a pipeline node may move from `current` to `new`."""
    if new not in NODE_TRANSITIONS[current]:
        raise ConflictError(f"a stage that is {current} cannot become {new}")


class Stage(StrEnum):
    """The stages of a release, in the order they run (health only where checks are set)."""

    START = "start"
    PRE_DOWNLOAD = "pre_download"
    DOWNLOAD = "download"
    POST_DOWNLOAD = "post_download"
    PACKAGE = "package"
    UPLOAD = "upload"
    PRE_DEPLOY = "pre_deploy"
    DEPLOY = "deploy"
    POST_DEPLOY = "post_deploy"
    HEALTH = "health"


LOCAL_STAGES: tuple[Stage, ...] = (
    Stage.START,
    Stage.PRE_DOWNLOAD,
    Stage.DOWNLOAD,
    Stage.POST_DOWNLOAD,
    Stage.PACKAGE,
)
SERVER_STAGES: tuple[Stage, ...] = (Stage.UPLOAD, Stage.PRE_DEPLOY, Stage.DEPLOY, Stage.POST_DEPLOY)
"""A server's chain; `Stage.HEALTH` follows it in environments with health checks."""


class HookStage(StrEnum):
    """The four stages a person can attach a script to."""

    PRE_DOWNLOAD = "pre_download"
    POST_DOWNLOAD = "post_download"
    PRE_DEPLOY = "pre_deploy"
    POST_DEPLOY = "post_deploy"


class DeployMode(StrEnum):
    FULL = "full"
    CANARY = "canary"


class TaskKind(StrEnum):
    DEPLOY = "deploy"
    ROLLBACK = "rollback"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
