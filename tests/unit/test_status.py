import pytest

from core.errors import ConflictError
from core.status import (
    NODE_TRANSITIONS,
    TASK_TRANSITIONS,
    NodeStatus,
    TaskStatus,
    check_node_move,
    check_task_move,
)


def test_every_status_has_a_row_in_the_table():
    assert set(TASK_TRANSITIONS) == set(TaskStatus)
    assert set(NODE_TRANSITIONS) == set(NodeStatus)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (TaskStatus.PENDING_APPROVAL, TaskStatus.QUEUED),
        (TaskStatus.QUEUED, TaskStatus.RUNNING),
        (TaskStatus.RUNNING, TaskStatus.CANARY),
        (TaskStatus.CANARY, TaskStatus.RUNNING),
        (TaskStatus.FAILED, TaskStatus.QUEUED),
        (TaskStatus.INTERRUPTED, TaskStatus.QUEUED),
    ],
)
def test_allowed_task_moves(current, new):
    check_task_move(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (TaskStatus.SUCCEEDED, TaskStatus.RUNNING),
        (TaskStatus.PENDING_APPROVAL, TaskStatus.RUNNING),
        (TaskStatus.REJECTED, TaskStatus.QUEUED),
        (TaskStatus.CANCELLED, TaskStatus.QUEUED),
    ],
)
def test_illegal_task_moves_raise(current, new):
    with pytest.raises(ConflictError, match=f"a task that is {current} cannot become {new}"):
        check_task_move(current, new)


def test_node_retry_goes_back_to_pending_but_success_is_final():
    check_node_move(NodeStatus.FAILED, NodeStatus.PENDING)
    with pytest.raises(ConflictError):
        check_node_move(NodeStatus.SUCCEEDED, NodeStatus.PENDING)


def test_finished_and_active_flags():
    assert TaskStatus.FAILED.finished and not TaskStatus.RUNNING.finished
    assert TaskStatus.CANARY.active and not TaskStatus.QUEUED.active
