"""Every state change of a task or node: stored first, then published as an event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from core.engine.events import EventBus, LogLine, NodeChanged, TaskChanged
from core.engine.output import NodeOutput
from core.engine.views import seconds_between
from core.errors import ConflictError
from core.status import NodeStatus, TaskStatus, check_node_move, check_task_move
from core.store.models import DeployTask, StageRun

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Recorder:
    """Writes task and node transitions to the database, then tells the event bus."""

    def __init__(self, bus: EventBus, clock: Clock = utcnow) -> None:
        self.bus = bus
        self.clock = clock

    async def move_task(
        self,
        task: DeployTask,
        new: TaskStatus,
        *,
        unchanged: dict[str, Any] | None = None,
        **fields: Any,
    ) -> None:
        """Move `task` to `new` if it is still in the status we last saw (and still has the
        `unchanged` values, e.g. its start time); else ConflictError.

        The update is conditional, so a change made meanwhile by someone else (a cancel or a
        reschedule from another process) is never overwritten.
        """
        old = TaskStatus(task.status)
        check_task_move(old, new)
        changed = await DeployTask.filter(id=task.id, status=old, **(unchanged or {})).update(
            status=new, **fields
        )
        if not changed:
            await task.refresh_from_db()
            raise ConflictError(f"task #{task.id} is {task.status} now, not {old}")
        task.status = new
        for name, value in fields.items():
            setattr(task, name, value)
        self.bus.publish(TaskChanged(task.id, new))

    async def start_node(self, node: StageRun) -> None:
        await self._move(
            node,
            NodeStatus.RUNNING,
            started_at=self.clock(),
            finished_at=None,
            exit_status=None,
            error="",
        )

    async def finish_node(
        self,
        node: StageRun,
        status: NodeStatus,
        output: NodeOutput | None = None,
        **fields: Any,
    ) -> None:
        if output is not None:
            fields["output"] = output.text()
        await self._move(node, status, finished_at=self.clock(), **fields)

    async def skip_node(self, node: StageRun, reason: str = "") -> None:
        await self._move(node, NodeStatus.SKIPPED, finished_at=self.clock(), error=reason)

    async def skip_nodes(self, nodes: list[StageRun], reason: str) -> None:
        """Skip many nodes at once (one query), e.g. every node with nothing to run."""
        if not nodes:
            return
        for node in nodes:
            check_node_move(NodeStatus(node.status), NodeStatus.SKIPPED)
        now = self.clock()
        await StageRun.filter(id__in=[node.id for node in nodes]).update(
            status=NodeStatus.SKIPPED, finished_at=now, error=reason
        )
        for node in nodes:
            node.status, node.finished_at, node.error = NodeStatus.SKIPPED, now, reason
            self._publish(node)

    async def reset_node(self, node: StageRun) -> None:
        await self._move(
            node,
            NodeStatus.PENDING,
            started_at=None,
            finished_at=None,
            exit_status=None,
            error="",
            output="",
        )

    def output_for(self, node: StageRun) -> NodeOutput:
        """A capture whose lines are published as log events of `node`."""

        def publish(line: str) -> None:
            self.bus.publish(LogLine(node.task_id, node.id, node.stage, node.server_name, line))

        return NodeOutput(publish)

    async def _move(self, node: StageRun, new: NodeStatus, **fields: Any) -> None:
        check_node_move(NodeStatus(node.status), new)
        node.status = new
        for name, value in fields.items():
            setattr(node, name, value)
        await node.save(update_fields=["status", *fields])
        self._publish(node)

    def _publish(self, node: StageRun) -> None:
        self.bus.publish(
            NodeChanged(
                node.task_id,
                node.id,
                node.stage,
                node.server_name,
                NodeStatus(node.status),
                node.exit_status,
                node.error,
                seconds_between(node.started_at, node.finished_at),
                node.bytes_sent,
                node.files_sent,
                node.transfer,
            )
        )
