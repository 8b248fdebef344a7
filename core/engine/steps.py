"""Running one pipeline node: mark it running, do its work, store how it ended."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from core.engine.local_hooks import HookTimeout
from core.engine.output import NodeOutput
from core.engine.recorder import Recorder
from core.errors import HoistError
from core.status import NodeStatus
from core.store.models import StageRun


@dataclass
class StepResult:
    """What a node's work reports: its exit status and fields to store on the node."""

    exit_status: int = 0
    fields: dict[str, Any] = field(default_factory=dict)


Work = Callable[[NodeOutput], Awaitable[StepResult]]
SAVE_SECONDS = 2.0
"""How often a running node's output so far is stored (a page opened mid-stage shows it)."""


async def _save_while_running(node: StageRun, output: NodeOutput) -> None:
    """Store the output kept so far, when it changed, while the node runs."""
    saved = 0
    while True:
        await asyncio.sleep(SAVE_SECONDS)
        if output.lines != saved:
            saved = output.lines
            await StageRun.filter(id=node.id, status=NodeStatus.RUNNING).update(
                output=output.text()
            )


async def run_node(
    recorder: Recorder,
    node: StageRun,
    work: Work,
    *,
    timeout: float,
    cancel_note: Callable[[], str] = lambda: "cancelled",
) -> bool:
    """Run `work` as `node`; True if it succeeded. A cancel marks the node skipped, with
    `cancel_note()` (asked at that moment) as its error."""
    await recorder.start_node(node)
    output = recorder.output_for(node)
    saver = asyncio.create_task(_save_while_running(node, output))
    try:
        result = await asyncio.wait_for(work(output), timeout)
    except asyncio.CancelledError:
        note = cancel_note()
        output.line(note)
        await asyncio.shield(recorder.finish_node(node, NodeStatus.SKIPPED, output, error=note))
        raise
    except (HoistError, HookTimeout) as error:
        return await _failed(recorder, node, output, str(error))
    except TimeoutError:
        return await _failed(recorder, node, output, f"stage ran past its {timeout:g} s limit")
    finally:
        saver.cancel()
    if result.exit_status != 0:
        message = result.fields.pop("error", "") or f"exited with status {result.exit_status}"
        await recorder.finish_node(
            node,
            NodeStatus.FAILED,
            output,
            exit_status=result.exit_status,
            error=message,
            **result.fields,
        )
        return False
    await recorder.finish_node(node, NodeStatus.SUCCEEDED, output, exit_status=0, **result.fields)
    return True


async def _failed(recorder: Recorder, node: StageRun, output: NodeOutput, message: str) -> bool:
    output.line(message)
    await recorder.finish_node(node, NodeStatus.FAILED, output, error=message)
    return False
