"""Tasks and nodes as plain rows (JSON-safe), for the CLI and any other observer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.store.models import DeployTask, StageRun


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def node_row(node: StageRun, *, tail: int | None = None) -> dict[str, Any]:
    output = node.output
    if tail is not None:
        output = "\n".join(output.splitlines()[-tail:])
    return {
        "id": node.id,
        "stage": str(node.stage),
        "server": node.server_name or None,
        "status": str(node.status),
        "started_at": node.started_at.isoformat() if node.started_at else None,
        "finished_at": node.finished_at.isoformat() if node.finished_at else None,
        "seconds": seconds_between(node.started_at, node.finished_at),
        "exit_status": node.exit_status,
        "error": node.error or None,
        "bytes_sent": node.bytes_sent,
        "previous_release": node.previous_release,
        "output": output,
    }


async def task_row(task: DeployTask) -> dict[str, Any]:
    await task.fetch_related("environment", "environment__project")
    env = task.environment
    return {
        "id": task.id,
        "project": env.project.slug,
        "env": env.name,
        "kind": str(task.kind),
        "version": task.version,
        "ref": task.ref,
        "commit": task.commit_sha,
        "subject": task.commit_subject,
        "mode": str(task.mode),
        "canary_servers": list(task.canary_servers),
        "status": str(task.status),
        "requester": task.requester,
        "via": task.via,
        "note": task.note,
        "created_at": task.created_at.isoformat(),
        "scheduled_at": task.scheduled_at.isoformat() if task.scheduled_at else None,
        "reason": task.reason,
        "started_at": task.started_at.isoformat() if task.started_at else None,
        "finished_at": task.finished_at.isoformat() if task.finished_at else None,
        "seconds": seconds_between(task.started_at, task.finished_at),
        "package_bytes": task.package_size,
    }


async def task_detail(task: DeployTask, *, tail: int = 20) -> dict[str, Any]:
    row = await task_row(task)
    nodes = await StageRun.filter(task=task).order_by("id")
    row["nodes"] = [node_row(n, tail=tail) for n in nodes]
    row["hooks"] = {
        stage: getattr(task, f"hook_{stage}")
        for stage in ("pre_download", "post_download", "pre_deploy", "post_deploy")
        if getattr(task, f"hook_{stage}")
    }
    return row
