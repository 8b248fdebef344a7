"""Rollout plans in the engine, on in-process SSH hosts with separate disks: steps, pauses,
a failed step that pauses the task and rolls back what it switched, continue and retry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.audit import Actor
from core.engine.requests import HookChoice
from core.engine.rollout import WAIT, parse_plan, resolve
from core.errors import ConflictError, HoistError
from core.sandbox.ssh_host import isolation_available
from core.status import DeployMode, HookStage, NodeStatus, TaskKind, TaskStatus
from core.store.models import AuditEvent, DeployTask, Environment
from tests.fleet import Fleet, make_fleet

pytestmark = pytest.mark.skipif(
    isolation_available() is not None,
    reason=f"these cases need hosts with separate disks: {isolation_available()}",
)
ALICE = Actor("alice", via="cli")
# Fails on the servers named in a file `broken`: in the release itself (a release that breaks
# those servers), or next to the link (the environment is broken there, whatever the release).
FLAKY_HOOK = (
    'for f in "$HOIST_RELEASE_DIR/broken" "$(dirname "$HOIST_DEPLOY_LINK")/broken"; do '
    'if grep -qx "$HOIST_SERVER" "$f" 2>/dev/null; then '
    'echo "broken on $HOIST_SERVER"; exit 3; fi; done'
)


@pytest.fixture
async def fleet(sqlite_db, tmp_path: Path) -> AsyncIterator[Fleet]:
    fleet = await make_fleet(tmp_path, ["web1", "web2", "web3"], box=None)
    await Environment.filter(name="prod").update(
        rollout_plans={"careful": "1 wait, 100%", "timed": "1 10m, 2, 100%", "all": "100%"}
    )
    yield fleet
    for host in fleet.hosts.values():
        await host.stop()


def broken(fleet: Fleet, *servers: str) -> None:
    for name in fleet.hosts:
        path = fleet.on_disk(name, fleet.data / "prod" / "broken")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{s}\n" for s in servers))


async def deploy(fleet: Fleet, plan: str | None, hook: str = "") -> DeployTask:
    hooks = {HookStage.POST_DEPLOY: HookChoice(script=hook)} if hook else {}
    task = await fleet.engine.deploy(fleet.request(plan=plan, hooks=hooks), ALICE)
    await fleet.engine.run(task.id)
    await task.refresh_from_db()
    return task


async def test_a_step_that_waits_pauses_until_someone_continues(fleet: Fleet):
    task = await deploy(fleet, "careful")
    assert task.plan_name == "careful"
    assert [s["servers"] for s in task.plan_steps] == [["web1"], ["web2", "web3"]]
    assert task.status == TaskStatus.PAUSED, await fleet.describe(task)
    assert task.step == 1 and task.resume_at is None
    assert "step 1 of 2 done: waiting for someone to continue" in task.reason
    assert fleet.live("web1") == task.version
    assert fleet.live("web2") is None and fleet.live("web3") is None

    await fleet.engine.continue_(task.id, ALICE)
    assert await fleet.engine.run(task.id) == TaskStatus.SUCCEEDED
    assert {fleet.live(s) for s in fleet.hosts} == {task.version}
    await task.refresh_from_db()
    assert task.reason == "" and task.paused_at is None
    assert await AuditEvent.filter(action="task.continue", target=f"task:{task.id}").count() == 1
    with pytest.raises(ConflictError, match="not paused"):
        await fleet.engine.continue_(task.id, ALICE)


async def test_a_timed_pause_says_when_it_ends(fleet: Fleet):
    task = await deploy(fleet, "timed")
    assert task.status == TaskStatus.PAUSED
    assert task.paused_at is not None and task.resume_at == task.paused_at + timedelta(minutes=10)
    assert "pausing 10m" in task.reason


async def test_a_failed_step_pauses_and_rolls_back_what_it_switched(fleet: Fleet):
    first = await deploy(fleet, "all", FLAKY_HOOK)
    assert first.status == TaskStatus.SUCCEEDED
    await Environment.filter(name="prod").update(auto_rollback=True)
    fleet.repo.commit({"index.html": "v2\n", "broken": "web1\n"}, "a release that breaks web1")
    task = await deploy(fleet, "careful", FLAKY_HOOK)

    assert task.status == TaskStatus.PAUSED, await fleet.describe(task)
    assert "step 1 of 2 failed on 1 server (web1); 0 allowed" in task.reason
    assert f"web1 rolled back to {first.version}: succeeded" in task.reason
    nodes = await fleet.nodes(task)
    assert nodes[("web1", "post_deploy")].status == NodeStatus.FAILED
    assert nodes[("web2", "upload")].status == NodeStatus.PENDING  # step 2 never started
    assert {fleet.live(s) for s in fleet.hosts} == {first.version}
    [rollback] = await DeployTask.filter(kind=TaskKind.ROLLBACK)
    assert rollback.requester == "hoist" and rollback.status == TaskStatus.SUCCEEDED


async def test_retry_of_a_failed_step_goes_back_to_it(fleet: Fleet):
    broken(fleet, "web1")
    task = await deploy(fleet, "careful", FLAKY_HOOK)
    assert task.status == TaskStatus.PAUSED and task.step == 1
    broken(fleet)  # fixed: retry goes back to the failed step, then waits as planned
    await fleet.engine.retry(task.id, ALICE)
    assert await fleet.engine.run(task.id) == TaskStatus.PAUSED
    assert fleet.live("web1") == task.version and fleet.live("web2") is None
    await fleet.engine.continue_(task.id, ALICE)
    assert await fleet.engine.run(task.id) == TaskStatus.SUCCEEDED
    assert {fleet.live(s) for s in fleet.hosts} == {task.version}


async def test_a_paused_task_can_be_aborted_with_a_rollback(fleet: Fleet):
    first = await deploy(fleet, "all")
    fleet.repo.commit({"index.html": "v2\n"}, "second")
    task = await deploy(fleet, "careful")
    assert task.status == TaskStatus.PAUSED and fleet.live("web1") == task.version
    report = await fleet.engine.cancel(task.id, ALICE, rollback=True)
    assert report.switched == ["web1"] and len(report.rollbacks) == 1
    await task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    assert {fleet.live(s) for s in fleet.hosts} == {first.version}
    nodes = await fleet.nodes(task)
    assert nodes[("web2", "upload")].status == NodeStatus.SKIPPED


async def test_failures_within_the_allowance_go_on_and_end_failed(fleet: Fleet):
    await Environment.filter(name="prod").update(max_failed=1)
    broken(fleet, "web2")
    task = await deploy(fleet, "all", FLAKY_HOOK)
    assert task.status == TaskStatus.FAILED, await fleet.describe(task)
    assert fleet.live("web1") == task.version and fleet.live("web3") == task.version
    nodes = await fleet.nodes(task)
    assert nodes[("web2", "post_deploy")].status == NodeStatus.FAILED


async def test_an_unknown_plan_or_a_plan_with_canary_is_refused(fleet: Fleet):
    with pytest.raises(HoistError, match="unknown rollout plan of shop/prod `nope`"):
        await fleet.engine.deploy(fleet.request(plan="nope"), ALICE)
    with pytest.raises(HoistError, match="canary deploy has its own order"):
        await fleet.engine.deploy(
            fleet.request(plan="careful", mode=DeployMode.CANARY, canary=("web1",)), ALICE
        )
    assert await DeployTask.all().count() == 0


async def test_after_an_automatic_rollback_retry_deploys_the_servers_again(fleet: Fleet):
    first = await deploy(fleet, "all")  # no hook: putting it back cannot fail
    await Environment.filter(name="prod").update(auto_rollback=True)
    broken(fleet, "web1")
    fleet.repo.commit({"index.html": "v2\n"}, "second")
    task = await deploy(fleet, "careful", FLAKY_HOOK)
    assert task.status == TaskStatus.PAUSED and fleet.live("web1") == first.version
    nodes = await fleet.nodes(task)
    assert nodes[("web1", "deploy")].status == NodeStatus.SKIPPED
    assert nodes[("web1", "deploy")].error.startswith("rolled back by task #")

    broken(fleet)  # fixed: retry must switch web1 to the new release again, not just rerun
    await fleet.engine.retry(task.id, ALICE)  # the hook on the old one
    assert await fleet.engine.run(task.id) == TaskStatus.PAUSED
    assert fleet.live("web1") == task.version
    await fleet.engine.continue_(task.id, ALICE)
    assert await fleet.engine.run(task.id) == TaskStatus.SUCCEEDED
    assert {fleet.live(s) for s in fleet.hosts} == {task.version}


async def test_continue_after_an_automatic_rollback_ends_failed_not_succeeded(fleet: Fleet):
    first = await deploy(fleet, "all")
    await Environment.filter(name="prod").update(auto_rollback=True)
    broken(fleet, "web1")
    fleet.repo.commit({"index.html": "v2\n"}, "second")
    task = await deploy(fleet, "careful", FLAKY_HOOK)
    await fleet.engine.continue_(task.id, ALICE)
    assert await fleet.engine.run(task.id) == TaskStatus.FAILED
    assert fleet.live("web1") == first.version
    assert fleet.live("web2") == task.version and fleet.live("web3") == task.version
    with pytest.raises(ConflictError, match="not paused"):
        await fleet.engine.continue_(task.id, ALICE)


async def test_a_late_second_click_does_not_pass_the_next_gate(fleet: Fleet):
    await Environment.filter(name="prod").update(rollout_plans={"gates": "1 wait, 2 wait, 100%"})
    task = await deploy(fleet, "gates")
    stale = await DeployTask.get(id=task.id)  # what a slow second click read
    await fleet.engine.continue_(task.id, ALICE)
    assert await fleet.engine.run(task.id) == TaskStatus.PAUSED  # at the second gate now
    with pytest.raises(ConflictError):
        await fleet.engine.recorder.move_task(
            stale, TaskStatus.QUEUED, unchanged={"step": stale.step, "paused_at": stale.paused_at}
        )
    await task.refresh_from_db()
    assert task.status == TaskStatus.PAUSED and task.step == 2


def test_a_step_lost_to_rounding_keeps_its_pause():
    steps = resolve(parse_plan("1, 10% wait, 100%"), ["a", "b", "c"])
    assert [(s.servers, s.pause) for s in steps] == [(("a",), WAIT), (("b", "c"), None)]
