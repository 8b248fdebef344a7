"""Reviewers' decisions and environment locks, against the database and the engine's claim."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.approvals import NotAllowed, decide
from core.audit import Actor
from core.errors import ConflictError
from core.locks import current_lock, expire_locks, lock, note_waiting, unlock
from core.status import Decision, TaskStatus
from core.store.models import Approval, AuditEvent, Environment
from tests.fleet import Fleet, make_fleet, stop_fleet

BOB, CAROL, ALICE = Actor("U_BOB", "slack"), Actor("U_CAROL", "slack"), Actor("U_ALICE", "slack")
REVIEWERS = frozenset({"U_BOB", "U_CAROL", "U_ALICE"})


@pytest.fixture
async def fleet(sqlite_db, tmp_path: Path) -> AsyncIterator[Fleet]:
    fleet = await make_fleet(tmp_path, ["web1"])
    await Environment.filter(name="prod").update(approvals_required=2, reviewers=list(REVIEWERS))
    yield fleet
    await stop_fleet(fleet)


async def pending(fleet: Fleet):
    request = fleet.request()
    task = await fleet.engine.deploy(
        type(request)(**{**request.__dict__, "requester": "U_ALICE", "via": "slack"}), ALICE
    )
    assert task.status == TaskStatus.PENDING_APPROVAL
    return task


async def test_two_approvals_queue_the_task(fleet: Fleet):
    task = await pending(fleet)
    recorder = fleet.engine.recorder
    first = await decide(task.id, BOB, Decision.APPROVE, recorder, reviewers=REVIEWERS)
    assert (
        first.changed and first.approvals == 1 and first.task.status == TaskStatus.PENDING_APPROVAL
    )
    again = await decide(task.id, BOB, Decision.APPROVE, recorder, reviewers=REVIEWERS)
    assert not again.changed and again.approvals == 1
    second = await decide(task.id, CAROL, Decision.APPROVE, recorder, reviewers=REVIEWERS)
    assert second.task.status == TaskStatus.QUEUED
    assert await Approval.filter(task_id=task.id).count() == 2
    assert await AuditEvent.filter(action="task.approve").count() == 2


async def test_self_approval_and_strangers_are_refused(fleet: Fleet):
    task = await pending(fleet)
    recorder = fleet.engine.recorder
    with pytest.raises(NotAllowed, match="you requested this release"):
        await decide(task.id, ALICE, Decision.APPROVE, recorder, reviewers=REVIEWERS)
    with pytest.raises(NotAllowed, match="only this environment's reviewers"):
        await decide(
            task.id, Actor("U_EVE", "slack"), Decision.APPROVE, recorder, reviewers=REVIEWERS
        )
    assert await Approval.all().count() == 0


async def test_a_rejection_ends_the_task(fleet: Fleet):
    task = await pending(fleet)
    recorder = fleet.engine.recorder
    outcome = await decide(
        task.id, BOB, Decision.REJECT, recorder, reviewers=REVIEWERS, comment="not on a Friday"
    )
    assert outcome.task.status == TaskStatus.REJECTED
    with pytest.raises(ConflictError, match="no longer needs a review"):
        await decide(task.id, CAROL, Decision.APPROVE, recorder, reviewers=REVIEWERS)


async def test_a_locked_environment_holds_queued_tasks(fleet: Fleet):
    env = await Environment.get(name="prod")
    await Environment.filter(id=env.id).update(approvals_required=0)
    now = fleet.engine.recorder.clock()
    await lock(env, BOB, "db migration", now, timedelta(hours=2))
    with pytest.raises(ConflictError, match="already locked by U_BOB: db migration"):
        await lock(env, CAROL, "mine", now, None)
    task = await fleet.engine.deploy(fleet.request(), ALICE)
    assert not await fleet.engine._claim(task)
    await note_waiting(env, "U_ALICE")
    assert await unlock(env, BOB) == ["U_ALICE"]
    assert await fleet.engine.run(task.id) == TaskStatus.SUCCEEDED


async def test_locks_expire_by_themselves(fleet: Fleet):
    env = await Environment.get(name="prod")
    now = fleet.engine.recorder.clock()
    await lock(env, BOB, "", now, timedelta(minutes=30))
    await note_waiting(env, "U_CAROL")
    later = now + timedelta(minutes=31)
    assert await current_lock(env, later) is None
    assert await expire_locks(later) == [(env.id, ["U_CAROL"])]
    with pytest.raises(ConflictError, match="not locked"):
        await unlock(env, BOB)
