"""Scheduled releases through the real bot: `/deploy … --at`, approvals, reminder, start, end.

Time is a `TestClock` the test moves; the scheduler's timers (APScheduler) are set from it, and
the test fires what is due with `run_due()` / `fire_task()` — the same calls the timers make.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.blocks import actions as ids
from bot.demo.render import flatten
from core.audit import Actor
from core.config import Settings
from core.errors import ConflictError
from core.inventory import service
from core.inventory.specs import EnvSpec
from core.scheduling.due import Due
from core.secrets import generate_secret
from core.status import Decision, TaskStatus
from core.store.models import AuditEvent, DeployTask, Environment, Project
from tests.clock import START, TestClock
from tests.slackbot import ALICE, BOB, CAROL, CHANNEL, Story, start_story, stop_story


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def settings(db: Settings) -> Settings:
    """The parametrized database, with a secret given (the story's fleet seals keys with it)."""
    return replace(db, secret_key=db.secret_key or generate_secret())


@pytest.fixture
async def story(settings: Settings, tmp_path: Path, clock: TestClock) -> AsyncIterator[Story]:
    story = await start_story(settings, tmp_path, clock=clock)
    await service.add_env(
        Actor("alice", via="cli"),
        EnvSpec(
            "shop",
            "staging",
            deploy_path=f"{story.fleet.data}/staging/",
            codes_root=f"{story.fleet.data}/codes",
            servers=("web1",),
        ),
    )
    yield story
    await stop_story(story)


def texts_in(story: Story, channel: str = CHANNEL) -> list[str]:
    return [m.text + "\n" + flatten(m.blocks) for m in story.slack.messages(channel)]


def announcements(story: Story) -> list[str]:
    marks = ("🗓️", "⏰", "🚀", "✅", "❌", "⌛", "🚫", "⚠️")
    return [t for t in texts_in(story) if t.startswith(marks)]


async def said_to(story: Story, user: str, fragment: str) -> str:
    def find() -> str | None:
        for e in story.slack.ephemerals(user=user):
            text = e.text + flatten(e.blocks)
            if fragment in text:
                return text
        return None

    return await story.slack.wait_for(find, timeout=30)


async def schedule(story: Story, user: str, when: str, env: str = "prod") -> DeployTask:
    before = await DeployTask.all().count()
    await story.slack.slash_command(user, f"shop {env} --at '{when}'", channel=CHANNEL)
    await said_to(story, user, f"#{before + 1}")
    return await DeployTask.get(id=before + 1)


async def approve_both(story: Story, task: DeployTask) -> None:
    message = await story.message_where(lambda t: f"#{task.id}" in t and "Approve" in t)
    await story.slack.click(BOB, (CHANNEL, message.ts), ids.APPROVE, str(task.id))
    await said_to(story, BOB, "1 of 2")
    await story.slack.click(CAROL, (CHANNEL, message.ts), ids.APPROVE, str(task.id))
    await said_to(story, CAROL, "2 of 2")


def stamp(when: datetime) -> str:
    return f"<!date^{int(when.timestamp())}^"


async def test_schedule_approve_remind_start_end_in_order(story: Story, clock: TestClock):
    task = await schedule(story, ALICE, "+1h")
    start = START + timedelta(hours=1)
    assert task.status == TaskStatus.PENDING_APPROVAL
    assert task.scheduled_at == start
    assert [j.id for j in story.running.bot.scheduler.jobs()] == [
        f"task:{task.id}:0",
        f"task:{task.id}:1",
    ]
    assert [j.next_run for j in story.running.bot.scheduler.jobs()] == [
        start - timedelta(minutes=15),
        start,
    ]
    await approve_both(story, task)
    await task.refresh_from_db()
    assert task.status == TaskStatus.SCHEDULED

    scheduler = story.running.bot.scheduler
    clock.advance(minutes=44)
    assert await scheduler.fire_task(task.id) == Due.NOTHING
    clock.advance(minutes=2)
    await scheduler.run_due()
    await story.settle()
    clock.set(start)
    await scheduler.run_due()
    await story.settle()

    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED
    said = announcements(story)
    assert [line.split()[0] for line in said] == ["🗓️", "⏰", "🚀", "✅"]
    scheduled, reminder, started, ended = said
    assert stamp(start) in scheduled and "<@U0ALICE00>" in scheduled
    assert "needs 2 more approval" in scheduled
    assert "Reviewers:" in reminder and "approved by <@U0BOB0000>, <@U0CAROL00>" in reminder
    assert "still needs" not in reminder
    assert "first release" in reminder.lower() or "Changes" in reminder
    assert f"task #{task.id}" in started and stamp(start) in started
    assert "Succeeded" in ended


async def test_reminder_names_the_commits_since_the_live_release(story: Story, clock: TestClock):
    repo = story.fleet.repo
    first = await schedule(story, ALICE, "+1h", env="staging")
    clock.set(first.scheduled_at)  # type: ignore[arg-type]
    await story.running.bot.scheduler.run_due()
    await story.settle()
    await first.refresh_from_db()
    assert first.status == TaskStatus.SUCCEEDED
    for n in range(12):
        repo.commit({"app.txt": f"change {n}\n"}, f"change number {n}")
    second = await schedule(story, ALICE, "+2h", env="staging")
    clock.advance(hours=1, minutes=50)
    await story.running.bot.scheduler.run_due()
    await story.settle()
    reminder = next(t for t in announcements(story) if t.startswith("⏰"))
    assert f"task #{second.id}" in reminder
    assert "change number 11" in reminder and "change number 2" in reminder
    assert "change number 1\n" not in reminder
    assert "and 2 more" in reminder
    assert f"since `{first.version}`" in reminder


async def test_not_approved_in_time_does_not_run(story: Story, clock: TestClock):
    task = await schedule(story, ALICE, "+30m")
    message = await story.message_where(lambda t: f"#{task.id}" in t and "Approve" in t)
    await story.slack.click(BOB, (CHANNEL, message.ts), ids.APPROVE, str(task.id))
    await said_to(story, BOB, "1 of 2")
    clock.advance(minutes=30)
    await story.running.bot.scheduler.run_due()
    await story.settle()
    await task.refresh_from_db()
    assert task.status == TaskStatus.MISSED
    assert "not approved" in task.reason
    missed = [t for t in announcements(story) if t.startswith("⌛")]
    assert len(missed) == 1 and f"task #{task.id}" in missed[0]
    dm = [m.text for m in story.slack.messages(ALICE)]
    assert any("did not run" in t and "not approved" in t for t in dm)
    final = story.slack.message(CHANNEL, message.ts)
    assert "Missed its start time" in flatten(final.blocks)
    assert ids.APPROVE not in str(final.blocks)
    with pytest.raises(ConflictError, match="no longer needs a review"):
        await story.running.bot.decide(CAROL, task.id, Decision.APPROVE)
    await task.refresh_from_db()
    assert task.status == TaskStatus.MISSED
    assert not await DeployTask.filter(status=TaskStatus.RUNNING).exists()


async def test_an_approval_after_the_start_time_is_refused(story: Story, clock: TestClock):
    task = await schedule(story, ALICE, "+30m")
    message = await story.message_where(lambda t: f"#{task.id}" in t and "Approve" in t)
    clock.advance(minutes=31)  # the timer has not run yet: the click itself must refuse
    await story.slack.click(BOB, (CHANNEL, message.ts), ids.APPROVE, str(task.id))
    refusal = await said_to(story, BOB, "not approved in time")
    assert f"task #{task.id}" in refusal
    assert await task.approvals.all().count() == 0


async def test_times_are_read_in_the_requesters_zone(story: Story, clock: TestClock):
    task = await schedule(story, BOB, "17:00", env="staging")
    assert task.scheduled_at == datetime(2031, 3, 3, 22, 0, tzinfo=UTC)  # New York, EST
    [scheduled] = [t for t in announcements(story) if t.startswith("🗓️")]
    assert stamp(datetime(2031, 3, 3, 22, 0, tzinfo=UTC)) in scheduled  # each reader's own zone


async def test_a_release_scheduled_from_the_terminal_is_announced_once(
    story: Story, clock: TestClock
):
    bot = story.running.bot
    request = replace(story.fleet.request(), env="staging", scheduled_at=START + timedelta(hours=2))
    task = await bot.engine.deploy(request, Actor("alice", via="cli"))
    await bot.scheduler.sync()  # what every housekeeping round does
    await bot.scheduler.sync()
    await story.settle()
    scheduled = [t for t in announcements(story) if t.startswith("🗓️")]
    assert len(scheduled) == 1 and f"task #{task.id}" in scheduled[0]


async def test_a_start_that_was_queued_but_never_ran_is_missed_after_the_grace(
    settings: Settings, story: Story, clock: TestClock
):
    task = await schedule(story, ALICE, "+1h", env="staging")
    await story.running.stop()
    # the process that queued it at its start stopped before running it
    await DeployTask.filter(id=task.id).update(status=TaskStatus.QUEUED)
    clock.advance(hours=1, minutes=30)
    await story.restart(settings, clock)
    await story.settle()
    await task.refresh_from_db()
    assert task.status == TaskStatus.MISSED and "grace period" in task.reason
    assert task.started_at is None
    assert len([t for t in announcements(story) if t.startswith("⌛")]) == 1


async def test_bad_start_times_are_refused_with_the_reason(story: Story):
    for text, reason in [
        ("yesterday", "cannot read the time"),
        ("2031-03-01 10:00", "in the past"),
        ("2031-12-25 10:00", "more than 90 days"),
        ("25:00", "hours go to 23"),
    ]:
        await story.slack.slash_command(ALICE, f"shop staging --at '{text}'", channel=CHANNEL)
        await said_to(story, ALICE, reason)
    assert await DeployTask.all().count() == 0


async def test_a_scheduled_release_can_be_moved_and_cancelled(story: Story, clock: TestClock):
    task = await schedule(story, ALICE, "+2h", env="staging")
    await story.slack.slash_command(ALICE, f"reschedule {task.id} +3h", channel=CHANNEL)
    await said_to(story, ALICE, "now starts")
    await task.refresh_from_db()
    assert task.scheduled_at == START + timedelta(hours=3)
    jobs = {j.id: j.next_run for j in story.running.bot.scheduler.jobs()}
    assert jobs[f"task:{task.id}:1"] == START + timedelta(hours=3)
    assert any("was moved" in t for t in announcements(story))
    assert await AuditEvent.filter(action="task.reschedule").count() == 1

    await Environment.filter(name="staging").update(deployers=[ALICE])
    await story.slack.slash_command(BOB, f"reschedule {task.id} +4h", channel=CHANNEL)
    await said_to(story, BOB, "not allowed to reschedule")
    await story.slack.slash_command(ALICE, f"cancel {task.id}", channel=CHANNEL)
    await said_to(story, ALICE, "cancelled")
    clock.advance(hours=3)
    await story.running.bot.scheduler.run_due()
    assert await story.running.bot.scheduler.fire_task(task.id) == Due.NOTHING
    await story.settle()
    await task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    await story.slack.slash_command(ALICE, f"reschedule {task.id} +5h", channel=CHANNEL)
    await said_to(story, ALICE, "only a scheduled release that has not started")


async def test_restart_rebuilds_the_timers_and_the_start_fires_once(
    settings: Settings, story: Story, clock: TestClock
):
    task = await schedule(story, ALICE, "+1h", env="staging")
    await story.restart(settings, clock)
    jobs = {j.id: j.next_run for j in story.running.bot.scheduler.jobs()}
    assert jobs[f"task:{task.id}:1"] == START + timedelta(hours=1)
    clock.advance(hours=1)
    scheduler = story.running.bot.scheduler
    assert await scheduler.fire_task(task.id) == Due.START
    assert await scheduler.fire_task(task.id) == Due.NOTHING
    await scheduler.run_due()
    await story.settle()
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED
    assert len([t for t in announcements(story) if t.startswith("🚀")]) == 1


async def test_a_start_missed_beyond_the_grace_period_is_announced_not_run(
    settings: Settings, story: Story, clock: TestClock
):
    late = await schedule(story, ALICE, "+1h", env="staging")
    clock.advance(hours=1, minutes=11)  # down for the start, and 11 minutes past it
    await story.restart(settings, clock)
    await story.settle()
    await late.refresh_from_db()
    assert late.status == TaskStatus.MISSED
    assert "grace period of 10 minutes" in late.reason
    missed = [t for t in announcements(story) if t.startswith("⌛")]
    assert len(missed) == 1 and "grace period" in missed[0]
    assert not await late.stage_runs.filter(status="succeeded").exists()


async def test_a_start_missed_within_the_grace_period_runs_at_start_up(
    settings: Settings, story: Story, clock: TestClock
):
    task = await schedule(story, ALICE, "+1h", env="staging")
    clock.advance(hours=1, minutes=9)
    await story.restart(settings, clock)
    await story.settle()
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED


async def test_the_forms_start_time_schedules_the_release(story: Story, clock: TestClock):
    await story.slack.slash_command(ALICE, "", channel=CHANNEL)
    view = await story.slack.wait_for(lambda: next(iter(story.slack.modals(ALICE)), None))
    await story.slack.click_view(ALICE, view.id, ids.PROJECT, "shop")
    await story.slack.wait_for(lambda: ids.ENV in str(story.slack.view(view.id).spec) or None)
    await story.slack.click_view(ALICE, view.id, ids.ENV, "staging")
    await story.slack.wait_for(lambda: ids.START_AT in str(story.slack.view(view.id).spec) or None)
    main = {
        "selected_option": {
            "value": "refs/heads/main",
            "text": {"type": "plain_text", "text": "main"},
        }
    }
    ref = {ids.REF: {ids.REF: main}}
    past = int((START - timedelta(minutes=5)).timestamp())
    await story.slack.submit_view(ALICE, view.id, ref | {ids.START_AT: {ids.START_AT: past}})
    assert "in the past" in story.slack.view(view.id).errors[ids.START_AT]
    assert await DeployTask.all().count() == 0

    later = START + timedelta(hours=2)
    await story.slack.submit_view(
        ALICE, view.id, ref | {ids.START_AT: {ids.START_AT: int(later.timestamp())}}
    )
    await story.slack.wait_for(  # the bot's last word on a form: a direct message
        lambda: any("#1" in m.text for m in story.slack.messages(ALICE)) or None
    )
    assert any(t.startswith("🗓️") for t in texts_in(story))
    task = await DeployTask.get(id=1)
    assert task.status == TaskStatus.SCHEDULED
    assert task.scheduled_at == later
    assert [j.next_run for j in story.running.bot.scheduler.jobs()] == [
        later - timedelta(minutes=15),
        later,
    ]


async def test_a_digest_of_three_environments_is_posted_once(story: Story, clock: TestClock):
    bot = story.running.bot
    alice = Actor("alice", via="cli")
    await service.add_env(
        alice,
        EnvSpec(
            "shop",
            "qa",
            deploy_path=f"{story.fleet.data}/qa/",
            codes_root=f"{story.fleet.data}/codes",
            servers=("web2",),
        ),
    )
    shop = await Project.get(slug="shop")
    await Project.filter(id=shop.id).update(
        digest_cron="0 17 * * 1-5", digest_timezone="Europe/Berlin"
    )
    versions = {}
    for env in ("prod", "staging", "qa"):
        request = story.fleet.request(skip_approval=True)
        task = await bot.engine.deploy(replace(request, env=env), alice)
        assert await bot.engine.run(task.id) == TaskStatus.SUCCEEDED
        versions[env] = task.version
    clock.advance(minutes=30)
    again = await bot.engine.deploy(replace(story.fleet.request(), env="staging"), alice)
    await bot.engine.run(again.id)
    rollback = await bot.engine.rollback("shop", "staging", alice)
    await bot.engine.run(rollback.id)

    due_at = datetime(2031, 3, 3, 16, 0, tzinfo=UTC)  # Monday 17:00 in Berlin
    await bot.scheduler.sync()
    timer = {j.id: j.next_run for j in bot.scheduler.jobs()}[f"digest:{shop.id}"]
    assert timer is not None  # a cron timer runs on the real clock: 17:00 on a weekday in Berlin
    berlin = timer.astimezone(ZoneInfo("Europe/Berlin"))
    assert (berlin.hour, berlin.minute) == (17, 0) and berlin.weekday() < 5
    clock.set(due_at)
    assert await bot.scheduler.fire_digest(shop.id, due_at) is True
    assert await bot.scheduler.fire_digest(shop.id, due_at) is False  # a second process
    await story.settle()

    digests = [t for t in texts_in(story) if "Release digest for shop" in t]
    assert len(digests) == 1
    [digest] = digests
    for env, version in versions.items():
        assert f"*{env}*" in digest and version in digest
    assert "↩️" in digest
    await story.slack.slash_command(ALICE, "schedule shop", channel=CHANNEL)
    listed = await said_to(story, ALICE, "Release digest of")
    assert "`0 17 * * 1-5`" in listed and "Europe/Berlin" in listed
    assert stamp(datetime(2031, 3, 4, 16, 0, tzinfo=UTC)) in listed  # the next one: Tuesday
