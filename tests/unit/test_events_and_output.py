from core.engine.events import EventBus, LogLine, NodeChanged, TaskChanged
from core.engine.output import NodeOutput
from core.status import NodeStatus, Stage, TaskStatus


def test_a_slow_subscriber_loses_log_lines_but_never_status_events():
    bus = EventBus()
    slow = bus.subscribe(max_log_backlog=2)
    for i in range(5):
        bus.publish(LogLine(1, 1, Stage.UPLOAD, "web1", f"line {i}"))
    bus.publish(NodeChanged(1, 1, Stage.UPLOAD, "web1", NodeStatus.SUCCEEDED))
    bus.publish(TaskChanged(1, TaskStatus.SUCCEEDED))
    got = []
    while (event := slow.get_nowait()) is not None:
        got.append(event)
    assert [type(e).__name__ for e in got] == ["LogLine", "LogLine", "NodeChanged", "TaskChanged"]
    assert slow.dropped_lines == 3


def test_subscriptions_can_follow_one_task():
    bus = EventBus()
    one = bus.subscribe(task_id=2)
    bus.publish(TaskChanged(1, TaskStatus.RUNNING))
    bus.publish(TaskChanged(2, TaskStatus.RUNNING))
    assert one.get_nowait() == TaskChanged(2, TaskStatus.RUNNING)
    assert one.get_nowait() is None
    one.close()
    bus.publish(TaskChanged(2, TaskStatus.FAILED))
    assert one.get_nowait() is None


def test_output_keeps_head_and_tail_and_counts_the_middle():
    seen: list[str] = []
    output = NodeOutput(seen.append, head=20, tail=20)
    for i in range(100):
        output.line(f"line {i:03}")
    text = output.text()
    assert text.startswith("line 000\nline 001")
    assert text.endswith("line 098\nline 099")
    assert "bytes omitted" in text and output.omitted > 0
    assert len(seen) == 100
