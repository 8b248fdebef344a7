"""What the task page shows, read from the database: the task's facts and its nodes (no output).

Outputs stay out of the state, which is re-read every few seconds per open page; a node's
output is fetched when someone clicks it, and its live lines come as log events.
"""

from __future__ import annotations

import re
from typing import Any

from bot.web.redact import redact
from core.engine.summary import stage_timings, timing_text, transfer_text, transfers
from core.engine.views import node_facts, plan_rows, seconds_between, task_row
from core.status import LOCAL_STAGES, SERVER_STAGES, Stage
from core.store.models import Approval, DeployTask, StageRun

NODE_FIELDS = (
    "id",
    "task_id",
    "stage",
    "server_name",
    "status",
    "started_at",
    "finished_at",
    "exit_status",
    "error",
    "bytes_sent",
    "files_sent",
    "transfer",
)
STAGE_ORDER = {stage: i for i, stage in enumerate(LOCAL_STAGES + SERVER_STAGES + (Stage.HEALTH,))}


def node_key(stage: str, server: str) -> str:
    """The node's name on the page: `STAGE:SERVER`, SERVER empty for a local stage."""
    return f"{stage}:{server}"


def node_state(node: StageRun) -> dict[str, Any]:
    """One node as the page sees it."""
    return {
        "id": node.id,
        "key": node_key(str(node.stage), node.server_name),
        "stage": str(node.stage),
        "server": node.server_name,
        "status": str(node.status),
        "started_at": node.started_at.isoformat() if node.started_at else None,
        "finished_at": node.finished_at.isoformat() if node.finished_at else None,
        "seconds": seconds_between(node.started_at, node.finished_at),
        "exit_status": node.exit_status,
        "error": redact(node.error) or None,
        "bytes_sent": node.bytes_sent,
        "files_sent": node.files_sent,
        "transfer": node.transfer or None,
    }


def ordered(nodes: list[StageRun]) -> list[StageRun]:
    """Local stages first, then each server's chain in the order servers first appear."""
    servers: dict[str, int] = {}
    for node in sorted(nodes, key=lambda n: n.id):
        servers.setdefault(node.server_name, len(servers) if node.server_name else -1)
    return sorted(
        nodes,
        key=lambda n: (servers[n.server_name], STAGE_ORDER.get(Stage(n.stage), 99), n.id),
    )


async def task_state(task_id: int) -> dict[str, Any] | None:
    """The page's state for a task, or None if there is no such task."""
    task = await DeployTask.get_or_none(id=task_id)
    if task is None:
        return None
    row = await task_row(task)
    nodes = ordered(await StageRun.filter(task_id=task_id).only(*NODE_FIELDS))
    approvals = await Approval.filter(task_id=task_id).order_by("id")
    row["reason"] = redact(row["reason"])
    row["note"] = redact(row["note"])
    row["approvals"] = [
        {"reviewer": a.reviewer, "decision": str(a.decision), "at": a.created_at.isoformat()}
        for a in approvals
    ]
    row["steps"] = plan_rows(task, nodes)
    row["nodes"] = [node_state(n) for n in nodes]
    facts = [node_facts(n) for n in nodes]
    sent = transfers(facts)
    row["transfer"] = transfer_text(sent) if sent else None
    row["timing"] = timing_text(stage_timings(facts)) or None
    return row


async def node_output(task_id: int, node_id: int) -> StageRun | None:
    """A node of the task, with its stored output."""
    return await StageRun.get_or_none(id=node_id, task_id=task_id)


def node_title(node: StageRun) -> str:
    """`STAGE on SERVER`, `local` standing for the Hoist machine."""
    return f"{node.stage} on {node.server_name or 'local'}"


def node_log(node: StageRun) -> str:
    """A node's output as a download: a heading, then the stored (bounded) output."""
    seconds = seconds_between(node.started_at, node.finished_at)
    took = f", {seconds:g}s" if seconds is not None else ""
    lines = [f"==== {node_title(node)}: {node.status}{took} ===="]
    if node.error:
        lines.append(f"error: {node.error}")
    if node.output:
        lines.append(node.output)
    return redact("\n".join(lines)) + "\n"


def task_log_heading(state: dict[str, Any]) -> str:
    """The first lines of a task's download."""
    return (
        f"Hoist task #{state['id']}: {state['project']} {state['env']} {state['version']} "
        f"({state['ref']} @ {state['commit']}) by {state['requester']}: {state['status']}\n\n"
    )


def download_name(task_id: int, node: StageRun | None = None) -> str:
    """A file name for a download, safe in a header whatever the server is called."""
    if node is None:
        return f"hoist-task-{task_id}.log"
    server = re.sub(r"[^A-Za-z0-9._-]+", "_", node.server_name or "local")
    return f"hoist-task-{task_id}-{node.stage}-{server}.log"
