"""The terminal view is a pure board fed by events, drawn with rich."""

from rich.console import Console

from core.cli.live import Board, render
from core.engine.events import LogLine, NodeChanged, TaskChanged
from core.status import NodeStatus, Stage, TaskStatus


def test_events_move_the_board_and_make_progress_lines():
    board = Board("#7 shop/prod shop-v7-20260101000000")
    assert board.apply(TaskChanged(7, TaskStatus.RUNNING)) == "task running"
    line = board.apply(NodeChanged(7, 1, Stage.UPLOAD, "web1", NodeStatus.FAILED, 3, "disk full"))
    assert line == "web1 upload failed: disk full"
    assert board.apply(LogLine(7, 1, Stage.UPLOAD, "web1", "no space left")) is None
    assert board.cells[("web1", Stage.UPLOAD)] == NodeStatus.FAILED
    assert list(board.log) == ["web1 upload: no space left"]


def test_the_grid_has_a_row_per_server_with_status_marks():
    board = Board("#7 shop/prod v7")
    board.apply(NodeChanged(7, 1, Stage.START, "", NodeStatus.SUCCEEDED))
    board.apply(NodeChanged(7, 2, Stage.UPLOAD, "web1", NodeStatus.SUCCEEDED))
    board.apply(NodeChanged(7, 3, Stage.UPLOAD, "web2", NodeStatus.RUNNING))
    console = Console(width=160, record=True, color_system=None)
    console.print(render(board))
    text = console.export_text()
    cells = [line.replace("│", " ").split() for line in text.splitlines()]
    rows = {words[0]: " ".join(words[1:]) for words in cells if words}
    assert "✓" in rows["web1"] and "▶" in rows["web2"] and "✓" in rows["local"]
