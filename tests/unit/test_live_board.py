"""The terminal view is a pure board fed by events, drawn with rich."""

from rich.console import Console

from core.cli.live import PAUSED_NOTE, Board, render
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


def drawn(board: Board, width: int = 200) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(render(board))
    return console.export_text()


def test_health_is_a_column_only_where_servers_are_checked():
    board = Board("#8 shop/prod v8")
    board.apply(NodeChanged(8, 1, Stage.POST_DEPLOY, "web1", NodeStatus.SUCCEEDED))
    assert "health" not in drawn(board)
    board.apply(NodeChanged(8, 2, Stage.HEALTH, "web1", NodeStatus.FAILED, None, "503"))
    text = drawn(board)
    header = next(line for line in text.splitlines() if "upload" in line)
    assert header.rstrip("┃ ").endswith("post-deploy ┃ health")
    row = next(line for line in text.splitlines() if line.lstrip("│ ").startswith("web1"))
    assert row.replace("│", " ").split()[-2:] == ["✓", "✗"]


def test_a_paused_rollout_shows_its_plan_steps_and_says_it_is_paused():
    board = Board("#9 shop/prod v9", plan="careful", steps={"web1": 1, "web2": 2})
    board.apply(NodeChanged(9, 1, Stage.UPLOAD, "web1", NodeStatus.SUCCEEDED))
    board.apply(NodeChanged(9, 2, Stage.UPLOAD, "web2", NodeStatus.PENDING))
    assert board.apply(TaskChanged(9, TaskStatus.PAUSED)) == "task paused"
    text = drawn(board)
    assert "[paused]  plan careful" in text and PAUSED_NOTE in text
    rows = {w[0]: w[1:] for w in (ln.replace("│", " ").split() for ln in text.splitlines()) if w}
    assert rows["web1"][0] == "1" and rows["web2"][0] == "2"
    board.apply(TaskChanged(9, TaskStatus.RUNNING))
    assert PAUSED_NOTE not in drawn(board)
