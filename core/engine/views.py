"""Tasks and nodes as plain rows (JSON-safe), for the CLI and any other observer.

Also the pure rules every surface uses to say where a rollout is: one state per server
chain, one per plan step (done, failed, running, next, pending or skipped).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from core.engine import rollout
from core.engine.rollout import Step
from core.engine.summary import (
    NodeFacts,
    stage_timings,
    timing_text,
    transfer_text,
    transfers,
)
from core.store.models import DeployTask, StageRun

STEP_STATES = ("done", "failed", "running", "next", "pending", "skipped")
"""What a rollout step can be: its servers all done, one failed, some running; the step a
Continue runs next; one still to come; or one that will not run (the task ended before it)."""


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def chain_state(statuses: Iterable[str]) -> str:
    """One status for a server's chain: failed, running, succeeded, skipped or pending."""
    found = set(statuses)
    if "failed" in found:
        return "failed"
    if "running" in found or ("pending" in found and "succeeded" in found):
        return "running"
    if found and found <= {"succeeded", "skipped"}:
        return "succeeded" if "succeeded" in found else "skipped"
    return "pending"


def step_states(
    steps: Sequence[Sequence[str]], next_step: int, status: str, servers: Mapping[str, str]
) -> list[str]:
    """The state of each rollout step, from its servers' chain states (`chain_state`), the
    task's next step and its status. A server the task does not name counts as pending."""
    states = []
    for index, names in enumerate(steps):
        chains = {servers.get(name, "pending") for name in names}
        if "failed" in chains:
            state = "failed"
        elif chains and chains <= {"succeeded", "skipped"}:
            state = "done" if "succeeded" in chains else "skipped"
        elif "running" in chains or "succeeded" in chains:
            state = "running"
        elif index == next_step and status in ("paused", "running"):
            state = "next" if status == "paused" else "running"
        else:
            state = "pending"
        states.append(state)
    return states


def node_row(node: StageRun, *, tail: int | None = None) -> dict[str, Any]:
    output = node.output
    if tail is not None:
        output = "\n".join(output.splitlines()[-tail:] if tail > 0 else [])
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
        "files_sent": node.files_sent,
        "transfer": node.transfer or None,
        "transfer_note": node.transfer_note or None,
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
        "plan": task.plan_name or None,
        "step": task.step,
        "paused_at": task.paused_at.isoformat() if task.paused_at else None,
        "resume_at": task.resume_at.isoformat() if task.resume_at else None,
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
    row["steps"] = plan_rows(task, nodes)
    facts = [node_facts(n) for n in nodes]
    sent = transfers(facts)
    timings = stage_timings(facts)
    row["transfer"] = transfer_text(sent) if sent else None
    row["timing"] = timing_text(timings) or None
    row["timings"] = [
        {"stage": t.stage, "nodes": t.nodes, "median": t.median, "slowest": t.slowest}
        for t in timings
    ]
    return row


def node_facts(node: StageRun) -> NodeFacts:
    return NodeFacts(
        stage=str(node.stage),
        server=node.server_name,
        status=str(node.status),
        seconds=seconds_between(node.started_at, node.finished_at),
        bytes_sent=node.bytes_sent,
        files_sent=node.files_sent,
        transfer=node.transfer,
    )


def plan_rows(task: DeployTask, nodes: Iterable[StageRun]) -> list[dict[str, Any]]:
    """The task's rollout plan, a row per step: its servers, pause, description and state."""
    steps = [Step.load(s) for s in task.plan_steps]
    chains: dict[str, list[str]] = {}
    for node in nodes:
        if node.server_name:
            chains.setdefault(node.server_name, []).append(str(node.status))
    servers = {name: chain_state(statuses) for name, statuses in chains.items()}
    states = step_states([s.servers for s in steps], task.step, str(task.status), servers)
    return [
        {
            "step": index + 1,
            "servers": list(step.servers),
            "pause": step.pause,
            "text": text,
            "state": state,
        }
        for index, (step, text, state) in enumerate(
            zip(steps, rollout.describe(steps), states, strict=True)
        )
    ]
