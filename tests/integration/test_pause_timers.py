"""Pauses between rollout steps through the real bot, with a clock the test moves: a timed
pause ends by itself (once, even across a restart), a pause waiting for a person reminds the
channel once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.demo.render import flatten
from core.config import Settings
from core.secrets import generate_secret
from core.status import TaskStatus
from core.store.models import DeployTask, Environment
from tests.clock import TestClock
from tests.slackbot import ALICE, CHANNEL, Story, start_story, stop_story


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def settings(db: Settings) -> Settings:
    return replace(db, secret_key=db.secret_key or generate_secret())


@pytest.fixture
async def story(settings: Settings, tmp_path: Path, clock: TestClock) -> AsyncIterator[Story]:
    story = await start_story(settings, tmp_path, clock=clock, approvals=0)
    await Environment.filter(name="prod").update(
        rollout_plans={"timed": "1 10m, 100%", "careful": "1 wait, 100%"}, pause_reminder=1800
    )
    yield story
    await stop_story(story)


def said(story: Story, mark: str) -> list[str]:
    return [
        flatten(m.blocks)
        for m in story.slack.messages(CHANNEL)
        if flatten(m.blocks).startswith(mark)
    ]


async def paused_task(story: Story, plan: str) -> DeployTask:
    await Environment.filter(name="prod").update(rollout_default=plan)
    await story.slack.slash_command(ALICE, "shop prod", channel=CHANNEL)
    await story.slack.wait_for(
        lambda: any("#1" in e.text for e in story.slack.ephemerals(ALICE)) or None
    )
    await story.settle()
    task = await DeployTask.get(id=1)
    assert task.status == TaskStatus.PAUSED
    return task


async def test_a_timed_pause_ends_by_itself_once(
    story: Story, clock: TestClock, settings: Settings
):
    task = await paused_task(story, "timed")
    assert task.resume_at == clock.now + timedelta(minutes=10)
    jobs = {j.id: j.next_run for j in story.running.bot.scheduler.jobs()}
    assert jobs[f"pause:{task.id}"] == task.resume_at

    await story.restart(settings, clock)  # the timer is rebuilt from the database
    assert f"pause:{task.id}" in {j.id for j in story.running.bot.scheduler.jobs()}
    assert await story.running.bot.scheduler.fire_pause(task.id) is False  # not yet
    clock.advance(minutes=10)
    assert await story.running.bot.scheduler.fire_pause(task.id) is True
    assert await story.running.bot.scheduler.fire_pause(task.id) is False  # a second process
    await story.settle()
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED
    assert len(said(story, "▶️")) == 1


async def test_a_pause_waiting_for_a_person_reminds_the_channel_once(
    story: Story, clock: TestClock
):
    task = await paused_task(story, "careful")
    assert task.resume_at is None
    jobs = {j.id: j.next_run for j in story.running.bot.scheduler.jobs()}
    assert task.paused_at is not None
    assert jobs[f"pause:{task.id}"] == task.paused_at + timedelta(minutes=30)
    clock.advance(minutes=29)
    assert await story.running.bot.scheduler.fire_pause(task.id) is False
    clock.advance(minutes=1)
    assert await story.running.bot.scheduler.fire_pause(task.id) is True
    assert await story.running.bot.scheduler.fire_pause(task.id) is False
    await story.settle()
    [reminder] = said(story, "⏸️")
    assert f"task #{task.id}" in reminder and "waiting for someone to continue" in reminder
    await task.refresh_from_db()
    assert task.status == TaskStatus.PAUSED  # a reminder decides nothing
