"""The App Home tab through the stand-in Slack: opened, clicked, and refreshed as tasks change.

The real bot on loopback, signed `app_home_opened` events and button clicks from the stand-in,
the home views it keeps per user; on every database the tests run on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot import home_texts as words
from bot.blocks import actions as ids
from bot.demo.render import flatten
from bot.sandbox import View
from core.config import Settings
from core.secrets import generate_secret
from core.status import Decision, TaskStatus
from core.store.db import close_database, open_database
from core.store.models import Approval, DeployTask, Environment
from tests.slackbot import ALICE, BOB, CAROL, CHANNEL, MALLORY, Story, start_story, stop_story


@pytest.fixture
async def story(hoist_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Story]:
    """The story bot (prod needs two approvals from S0REVIEWS: bob, carol) on each database."""
    settings = Settings.from_env({"HOIST_SECRET_KEY": generate_secret()} | hoist_env)
    await open_database(settings)
    story = await start_story(settings, tmp_path)
    yield story
    await stop_story(story)
    await close_database()


async def home_where(story: Story, user: str, test: Callable[[str], bool]) -> View:
    """Wait until the user's published Home (all its text) passes `test`."""

    def find() -> View | None:
        view = story.slack.home(user)
        return view if view is not None and test(flatten(view.blocks)) else None

    return await story.slack.wait_for(find, timeout=30)


async def opened(story: Story, user: str, test: Callable[[str], bool] = bool) -> View:
    """`user` opens the Home tab; wait for the Home published in answer."""
    shown = story.slack.home(user)
    before = len(shown.versions) if shown is not None else 0
    reply = await story.slack.open_home(user)
    assert reply.status == 200

    def find() -> View | None:
        view = story.slack.home(user)
        if view is None or len(view.versions) <= before:
            return None
        return view if test(flatten(view.blocks)) else None

    return await story.slack.wait_for(find, timeout=30)


async def requested(story: Story, user: str = ALICE) -> DeployTask:
    """`user` types `/deploy shop prod`; the task once its message is in the channel."""
    before = len(story.slack.messages(CHANNEL))
    await story.slack.slash_command(user, "shop prod", channel=CHANNEL)
    await story.slack.wait_for(lambda: len(story.slack.messages(CHANNEL)) > before, timeout=30)
    task = await DeployTask.filter(requester=user).order_by("-id").first()
    assert task is not None
    return task


async def approved(story: Story, reviewer: str, task: DeployTask) -> None:
    """`reviewer` presses Approve on the task's message; wait for the bot's private answer."""
    before = len(story.slack.ephemerals(user=reviewer))
    await story.slack.click(reviewer, (CHANNEL, story.last_message().ts), ids.APPROVE, str(task.id))
    await story.slack.wait_for(
        lambda: len(story.slack.ephemerals(user=reviewer)) > before, timeout=30
    )


async def test_a_reviewer_approves_from_home_and_the_task_leaves_the_list(story: Story):
    task = await requested(story)
    await approved(story, CAROL, task)
    home = await opened(story, BOB, lambda t: f"Deploy #{task.id}" in t)
    text = flatten(home.blocks)
    assert "Approvals: 1 of 2" in text and f"<@{ALICE}>" in text
    buttons = [b for b in home.blocks if b["type"] == "actions"]
    assert [[e["action_id"] for e in b["elements"]] for b in buttons] == [[ids.APPROVE, ids.REJECT]]
    carol = await opened(story, CAROL)
    assert f"Deploy #{task.id}" not in flatten(carol.blocks)  # she has decided already
    assert words.NO_REVIEWS in flatten(carol.blocks)

    await story.slack.click_view(BOB, home.id, ids.APPROVE, str(task.id))
    await home_where(story, BOB, lambda t: words.NO_REVIEWS in t)
    assert await Approval.filter(task_id=task.id, reviewer=BOB, decision=Decision.APPROVE).exists()
    await story.settle()
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED


async def test_reject_from_home_asks_why_and_the_task_leaves_the_list(story: Story):
    task = await requested(story)
    home = await opened(story, BOB, lambda t: f"Deploy #{task.id}" in t)
    await story.slack.click_view(BOB, home.id, ids.REJECT, str(task.id))
    modal = await story.slack.wait_for(lambda: next(iter(story.slack.modals(BOB)), None))
    reason = {ids.REJECT_REASON_BLOCK: {ids.REJECT_REASON: "not during the sale"}}
    await story.slack.submit_view(BOB, modal.id, reason)
    await home_where(story, BOB, lambda t: words.NO_REVIEWS in t)
    await task.refresh_from_db()
    assert task.status == TaskStatus.REJECTED


async def test_the_requester_sees_their_releases_and_where_they_can_deploy(story: Story):
    await Environment.filter(name="prod").update(deployers=[ALICE])
    empty = await opened(story, ALICE)
    assert words.NO_RECENT in flatten(empty.blocks)
    assert "Live: _nothing yet_" in flatten(empty.blocks)
    task = await requested(story)
    await approved(story, BOB, task)
    await approved(story, CAROL, task)
    await story.settle()
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED

    home = await opened(story, ALICE, lambda t: "Succeeded" in t)
    text = flatten(home.blocks)
    assert f"*#{task.id}* shop/prod `{task.version}`" in text
    assert "took " in text
    assert f"*shop/prod*\nLive: `{task.version}`" in text
    assert "`/deploy shop prod` · needs 2 approvals" in text
    assert words.NO_REVIEWS in text  # a requester never reviews their own release

    mallory = await opened(story, MALLORY)
    assert words.NO_ENVS in flatten(mallory.blocks)  # only alice deploys to prod now
    assert "shop/prod" not in flatten(mallory.blocks)


async def test_open_homes_follow_a_task_that_changes(story: Story):
    await Environment.filter(name="prod").update(deployers=[ALICE])
    await opened(story, ALICE, lambda t: words.NO_RECENT in t)
    task = await requested(story)
    await opened(story, BOB, lambda t: f"Deploy #{task.id}" in t)
    mallory = await opened(story, MALLORY)

    await story.slack.slash_command(ALICE, f"cancel {task.id}", channel=CHANNEL)
    await home_where(story, ALICE, lambda t: f"Cancelled · *#{task.id}*" in t)
    await home_where(story, BOB, lambda t: words.NO_REVIEWS in t)
    await story.running.bot.home.idle.wait()
    assert len(mallory.versions) == 1  # neither deployer, reviewer nor requester: left alone


async def test_a_decision_that_does_not_move_the_task_refreshes_the_homes(story: Story):
    task = await requested(story)
    bob = await opened(story, BOB, lambda t: "Approvals: 0 of 2" in t)
    await opened(story, CAROL, lambda t: f"Deploy #{task.id}" in t)
    await approved(story, CAROL, task)  # 1 of 2: no status change, so no engine event
    await home_where(story, CAROL, lambda t: words.NO_REVIEWS in t)
    await home_where(story, BOB, lambda t: "Approvals: 1 of 2" in t)
    assert "Approvals: 0 of 2" in flatten(bob.versions[0]["blocks"])  # it was redrawn


async def test_scheduled_releases_show_soonest_first_to_whom_they_concern(story: Story):
    await Environment.filter(name="prod").update(deployers=[ALICE])
    first, second = await requested(story), await requested(story)
    now = story.running.bot.now()
    soon, later = now + timedelta(hours=1), now + timedelta(days=2)
    await DeployTask.filter(id=first.id).update(scheduled_at=later)
    await DeployTask.filter(id=second.id).update(scheduled_at=soon, status=TaskStatus.SCHEDULED)
    home = await opened(story, BOB, lambda t: words.UPCOMING_HEADING in t)
    text = flatten(home.blocks)
    upcoming = text[text.index(words.UPCOMING_HEADING) :]
    assert upcoming.index(f"<!date^{int(soon.timestamp())}^") < upcoming.index(
        f"<!date^{int(later.timestamp())}^"
    )
    assert f"*#{second.id}*" in upcoming and f"*#{first.id}*" in upcoming
    mallory = await opened(story, MALLORY)
    assert words.NO_UPCOMING in flatten(mallory.blocks)
