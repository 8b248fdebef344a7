"""The pipeline in a task's message (a row of local stages, a row per server) and log snippets.

Up to `SERVER_ROWS` servers each get a line of status marks; past that the message shows counts
per status and names the failed servers instead. Rows are packed into as few sections as fit
Slack's 3,000 characters, so the drawing costs a handful of blocks whatever the fleet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot import texts
from bot.blocks.actions import MAX_FALLBACK, MAX_TEXT, PROGRESS_BLOCK, Block, context, section
from bot.blocks.data import NodeView, TaskView
from core.engine.summary import stage_timings, timing_text, transfer_text, transfers
from core.engine.views import chain_state
from core.status import LOCAL_STAGES, SERVER_STAGES, Stage

SERVER_ROWS = 50
"""Servers drawn one row each; more than this and the message summarises."""
FAILED_NAMED = 20
"""Failed servers named in a summary; the rest are counted."""
_LINE_ERROR = 120
_NAME = 60
_ORDER = ("succeeded", "running", "pending", "failed", "skipped")


def progress_blocks(view: TaskView, now: datetime | None = None) -> list[Block]:
    """The pipeline, a summary line and what the task took so far; nothing before it runs."""
    if not view.nodes:
        return []
    servers = server_names(view)
    blocks = [_local_row(view.nodes), context(_legend(server_stages(view)))]
    if len(servers) <= SERVER_ROWS:
        blocks += _server_rows(view, servers)
    else:
        blocks += _server_summary(view, servers)
    blocks.append(context(_summary(view, servers, now)))
    timing = timing_text(stage_timings(n.facts() for n in view.nodes))
    if timing:
        blocks.append(context(texts.stage_times(timing)))
    return blocks


def server_names(view: TaskView) -> list[str]:
    """The task's servers in their given order, then any the nodes name besides."""
    named = dict.fromkeys(view.servers)
    named.update(dict.fromkeys(n.server for n in view.nodes if n.server))
    return list(named)


def server_state(nodes: Iterable[NodeView]) -> str:
    """One status for a server's chain: failed, running, succeeded, skipped or pending."""
    return chain_state(n.status for n in nodes)


def server_stages(view: TaskView) -> tuple[str, ...]:
    """The columns of a server's row: its chain, and health where the servers are checked."""
    stages = tuple(str(s) for s in SERVER_STAGES)
    if any(n.stage == Stage.HEALTH for n in view.nodes):
        stages += (str(Stage.HEALTH),)
    return stages


def elapsed_seconds(view: TaskView, now: datetime | None) -> float | None:
    """Seconds from start to finish, or to `now` while it runs; None when unknown."""
    end = view.finished_at or now
    if view.started_at is None or end is None:
        return None
    return (end - view.started_at).total_seconds()


def _marks(nodes: dict[str, NodeView], stages: Iterable[str]) -> str:
    statuses = (nodes[s].status if s in nodes else "pending" for s in stages)
    return " ".join(texts.NODE_MARK.get(status, texts.NODE_MARK["pending"]) for status in statuses)


def failure(nodes: Iterable[NodeView]) -> str:
    """` — deploy: <error>` for the first failed node, else nothing."""
    for node in nodes:
        if node.status == "failed":
            error = texts.safe(texts.one_line(node.error), _LINE_ERROR)
            return f" — {node.stage}: {error}" if error else f" — {node.stage}"
    return ""


def _local_row(nodes: tuple[NodeView, ...]) -> Block:
    local = {n.stage: n for n in nodes if not n.server}
    row = f"{texts.LOCAL_ROW}  {_marks(local, LOCAL_STAGES)}{failure(local.values())}"
    return section(row, block_id=PROGRESS_BLOCK)


def _legend(stages: tuple[str, ...]) -> str:
    local = texts.stages_legend([str(s) for s in LOCAL_STAGES])
    servers = texts.stages_legend(list(stages))
    return f"{texts.LOCAL}: {local}   ·   servers: {servers}"


def server_chains(view: TaskView) -> dict[str, dict[str, NodeView]]:
    """Each server's nodes by stage, servers in the order their nodes come."""
    chains: dict[str, dict[str, NodeView]] = {}
    for node in view.nodes:
        if node.server:
            chains.setdefault(node.server, {})[node.stage] = node
    return chains


def _server_rows(view: TaskView, servers: list[str]) -> list[Block]:
    chains = server_chains(view)
    stages = server_stages(view)
    canary = set(view.canary_servers) if view.mode == "canary" else set()
    lines = [texts.SERVERS_HEADING]
    for name in servers:
        chain = chains.get(name, {})
        tag = texts.CANARY_TAG if name in canary else ""
        row = f"{_marks(chain, stages)}  {texts.code(name, _NAME)}{tag}"
        lines.append(row + failure(chain.values()))
    return [section(text) for text in pack(lines, MAX_TEXT)]


def pack(lines: list[str], limit: int) -> list[str]:
    """Lines joined into as few texts of at most `limit` characters as they fit in."""
    packed: list[str] = []
    for line in lines:
        if packed and len(packed[-1]) + 1 + len(line) <= limit:
            packed[-1] += "\n" + line
        else:
            packed.append(texts.clip(line, limit))
    return packed


def _server_summary(view: TaskView, servers: list[str]) -> list[Block]:
    chains = server_chains(view)
    states = {name: server_state(chains.get(name, {}).values()) for name in servers}
    counts = Counter(states.values())
    blocks = [section(f"{texts.SERVERS_HEADING}  {texts.status_counts(_ordered(counts))}")]
    failed = [name for name, state in states.items() if state == "failed"]
    if failed:
        blocks.append(section(_failed_list(failed, chains)))
    blocks.append(context(texts.see_all_servers(view.id)))
    return blocks


def _ordered(counts: Counter[str]) -> dict[str, int]:
    return {state: counts[state] for state in _ORDER}


def _failed_list(failed: list[str], chains: dict[str, dict[str, NodeView]]) -> str:
    """The first failed servers with their errors, as many as fit; the rest counted."""
    named = failed[:FAILED_NAMED]
    lines = [f"❌ {texts.code(name, _NAME)}{failure(chains[name].values())}" for name in named]
    room = MAX_TEXT - len(texts.SERVER_FAILURES) - 1
    listed = texts.join_within(lines, room, texts.and_more, extra=len(failed) - len(named))
    return f"{texts.SERVER_FAILURES}\n{listed}"


def _summary(view: TaskView, servers: list[str], now: datetime | None) -> str:
    chains = server_chains(view)
    states = [server_state(chains.get(name, {}).values()) for name in servers]
    parts = [texts.server_summary(states.count("succeeded"), len(servers), states.count("failed"))]
    seconds = elapsed_seconds(view, now)
    if seconds is not None:
        parts.append(texts.elapsed(seconds))
    found = transfers(n.facts() for n in view.nodes)
    if found is not None:
        parts.append(texts.sent(transfer_text(found, lambda name: texts.code(name, _NAME))))
    else:
        parts.append(texts.bytes_sent(sum(n.bytes_sent for n in view.nodes)))
    return "   ·   ".join(parts)


def log_snippet(task_id: int, node: NodeView, lines: list[str]) -> dict[str, Any]:
    """A thread reply for one node: its error if it failed, and the tail of its output."""
    where = texts.code(node.server or texts.LOCAL, 80)
    blocks = [context(texts.snippet_heading(where, node.stage, node.status, node.seconds))]
    if node.status == "failed" and node.error.strip():
        room = MAX_TEXT - len(texts.ERROR_HEADING) - 1
        blocks.append(section(f"{texts.ERROR_HEADING}\n{texts.code_block(node.error, room)}"))
    if any(line.strip() for line in lines):
        room = MAX_TEXT - len(texts.OUTPUT_HEADING) - 1
        output = texts.code_block("\n".join(lines), room, tail=True)
        blocks.append(section(f"{texts.OUTPUT_HEADING}\n{output}"))
    elif len(blocks) == 1:
        blocks.append(context(texts.NO_OUTPUT))
    fallback = texts.snippet_fallback(task_id, node.server or texts.LOCAL, node.stage, node.status)
    return {"text": texts.safe(fallback, MAX_FALLBACK), "blocks": blocks}
