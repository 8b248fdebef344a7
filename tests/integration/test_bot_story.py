"""The whole Slack story, end to end: signed requests to the real bot, the stand-in as Slack,
real SSH hosts. A modal, two approvals, three servers, a hook failing on one, retry, rollback."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.blocks import actions as ids
from bot.demo.render import flatten
from bot.sandbox import sign
from core.audit import Actor
from core.engine.requests import HookChoice
from core.status import HookStage, TaskKind, TaskStatus
from core.store.models import DeployTask, Environment
from tests.slackbot import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    MALLORY,
    Story,
    start_story,
    stop_story,
)

HOOK = '[ "$HOIST_SERVER" != web2 ] || test -e "$(dirname "$HOIST_DEPLOY_LINK")/ok"'


@pytest.fixture
async def story(sqlite_db, tmp_path: Path) -> AsyncIterator[Story]:
    story = await start_story(sqlite_db, tmp_path)
    yield story
    await stop_story(story)


@pytest.fixture
async def open_story(sqlite_db, tmp_path: Path) -> AsyncIterator[Story]:
    """The same bot, on an environment that needs no approvals (releases start at once)."""
    story = await start_story(sqlite_db, tmp_path, approvals=0)
    yield story
    story.slack.up()
    await stop_story(story)


def ephemeral_to(story: Story, user: str) -> list[str]:
    return [e.text + flatten(e.blocks) for e in story.slack.ephemerals(user=user)]


async def said_to(story: Story, user: str, fragment: str) -> str:
    def find() -> str | None:
        return next((t for t in ephemeral_to(story, user) if fragment in t), None)

    return await story.slack.wait_for(find, timeout=30)


async def test_deploy_from_a_slash_command_with_two_approvals(story: Story):
    reply = await story.slack.slash_command(ALICE, "shop prod", channel=CHANNEL)
    assert reply.status == 200
    await said_to(story, ALICE, "#1")
    message = await story.message_where(lambda t: "shop" in t and "prod" in t)
    where = (CHANNEL, message.ts)
    await story.slack.click(ALICE, where, ids.APPROVE, "1")
    await said_to(story, ALICE, "cannot approve")
    await story.slack.click(MALLORY, where, ids.APPROVE, "1")
    await said_to(story, MALLORY, "only this environment's reviewers")
    await story.slack.click(BOB, where, ids.APPROVE, "1")
    await said_to(story, BOB, "Task #1 approved: 1 of 2")
    await story.slack.click(BOB, where, ids.APPROVE, "1")
    await said_to(story, BOB, "already")
    await story.slack.click(CAROL, where, ids.APPROVE, "1")
    await said_to(story, CAROL, "2 of 2")
    await story.settle()
    task = await DeployTask.get(id=1)
    assert task.status == TaskStatus.SUCCEEDED
    final = story.slack.message(CHANNEL, message.ts)
    assert "3/3" in flatten(final.blocks)
    assert {story.fleet.live(s) for s in ("web1", "web2", "web3")} == {task.version}


async def test_the_modal_then_a_failing_hook_retry_and_rollback(story: Story):
    await story.slack.slash_command(ALICE, "shop prod", channel=CHANNEL)
    first = await story.message_where(lambda t: "#1" in t or "shop" in t)
    await story.slack.click(BOB, (CHANNEL, first.ts), ids.APPROVE, "1")
    await story.slack.click(CAROL, (CHANNEL, first.ts), ids.APPROVE, "1")
    await said_to(story, CAROL, "2 of 2")
    await story.settle()
    story.fleet.repo.commit({"index.html": "v2\n"}, "second release")

    await story.slack.slash_command(ALICE, "", channel=CHANNEL)
    view = await story.slack.wait_for(lambda: next(iter(story.slack.modals(ALICE)), None))
    await story.slack.click_view(ALICE, view.id, ids.PROJECT, "shop")
    await story.slack.wait_for(lambda: ids.ENV in str(story.slack.view(view.id).spec) or None)
    await story.slack.click_view(ALICE, view.id, ids.ENV, "prod")
    await story.slack.wait_for(lambda: ids.MODE in str(story.slack.view(view.id).spec) or None)
    options = await story.slack.block_suggestion(ALICE, view.id, ids.REF, ids.REF, "ma")
    values = [o["value"] for g in options.get("option_groups", []) for o in g["options"]]
    assert "refs/heads/main" in values
    main = {
        "selected_option": {
            "value": "refs/heads/main",
            "text": {"type": "plain_text", "text": "main"},
        }
    }
    filled: dict[str, dict[str, Any]] = {
        ids.REF: {ids.REF: main},
        ids.HOOK_SCRIPT["post_deploy"]: {ids.HOOK_SCRIPT["post_deploy"]: HOOK},
        ids.DESCRIPTION: {ids.DESCRIPTION: "second release"},
    }
    save = ids.HOOK_SAVE["post_deploy"]
    await story.slack.submit_view(ALICE, view.id, filled | {save: {save: [ids.SAVE_AS_TEMPLATE]}})
    errors = story.slack.view(view.id).errors
    assert errors == {ids.HOOK_TITLE["post_deploy"]: "a template needs a title"}
    await story.slack.submit_view(ALICE, view.id, filled | {save: {save: []}})
    second = await story.message_where(lambda t: "#2" in t)
    assert "test -e" in flatten(second.blocks)  # reviewers see the script that will run
    await story.slack.click(BOB, (CHANNEL, second.ts), ids.APPROVE, "2")
    await story.slack.click(CAROL, (CHANNEL, second.ts), ids.APPROVE, "2")
    await said_to(story, CAROL, "Task #2 approved: 2 of 2")
    await story.settle()
    task = await DeployTask.get(id=2)
    assert task.status == TaskStatus.FAILED
    thread = story.slack.replies(CHANNEL, second.ts)
    assert any("web2" in flatten(r.blocks) + r.text for r in thread)

    story.fleet.on_disk("web2", story.fleet.data / "prod" / "ok").touch()
    await story.slack.click(ALICE, (CHANNEL, second.ts), ids.RETRY, "2")
    await said_to(story, ALICE, "Retrying task #2")
    await story.settle()
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED
    assert {story.fleet.live(s) for s in ("web1", "web2", "web3")} == {task.version}

    await story.slack.click(ALICE, (CHANNEL, second.ts), ids.ROLLBACK, "2")
    await said_to(story, ALICE, "Rollback #3")
    await story.settle()
    rollback = await DeployTask.filter(kind=TaskKind.ROLLBACK).first()
    assert rollback is not None and rollback.status == TaskStatus.SUCCEEDED
    old = await DeployTask.get(id=1)
    assert {story.fleet.live(s) for s in ("web1", "web2", "web3")} == {old.version}


async def test_forged_and_stale_requests_get_401_and_do_nothing(story: Story):
    story.slack.connect_bot(story.running.events_url, "not-the-secret")
    forged = await story.slack.slash_command(ALICE, "shop prod", channel=CHANNEL)
    assert forged.status == 401
    body = b"command=%2Fdeploy&text=shop+prod&user_id=U0ALICE00&channel_id=C0DEPLOYS"
    headers = sign("signing-secret-for-tests", body, int(time.time()) - 6 * 60)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.post(story.running.events_url, data=body, headers=headers) as response:
            assert response.status == 401
    assert await DeployTask.all().count() == 0


async def test_wrong_input_gets_a_private_answer(story: Story):
    await story.slack.slash_command(ALICE, "shpo prod", channel=CHANNEL)
    text = await said_to(story, ALICE, "unknown project")
    assert "shop" in text
    await story.slack.slash_command(ALICE, "shop prod nope", channel=CHANNEL)
    await said_to(story, ALICE, "unknown ref `nope`")
    await story.slack.slash_command(ALICE, "retry", channel=CHANNEL)
    await said_to(story, ALICE, "usage: /deploy retry ID")
    await story.slack.slash_command(ALICE, "shop prod --at 'next week'", channel=CHANNEL)
    await said_to(story, ALICE, "cannot read the time `next week`")
    await story.slack.slash_command(ALICE, "", channel=CHANNEL)
    view = await story.slack.wait_for(lambda: next(iter(story.slack.modals(ALICE)), None))
    options = await story.slack.block_suggestion(ALICE, view.id, ids.REF, ids.REF, "")
    assert options == {"options": []}  # no project picked yet: nothing to offer, no error
    assert story.slack.messages(CHANNEL) == []


async def test_lock_holds_a_release_until_unlocked(story: Story):
    await story.slack.slash_command(BOB, "lock shop prod db migration --for 2h", channel=CHANNEL)
    await said_to(story, BOB, "locked")
    await story.slack.slash_command(ALICE, "shop prod", channel=CHANNEL)
    await said_to(story, ALICE, "locked by")
    message = await story.message_where(lambda t: "#1" in t or "shop" in t)
    await story.slack.click(BOB, (CHANNEL, message.ts), ids.APPROVE, "1")
    await story.slack.click(CAROL, (CHANNEL, message.ts), ids.APPROVE, "1")
    await said_to(story, CAROL, "Task #1 approved: 2 of 2")
    task = await DeployTask.get(id=1)
    assert task.status == TaskStatus.QUEUED
    await story.slack.slash_command(BOB, "unlock shop prod", channel=CHANNEL)
    await story.slack.wait_for(
        lambda: next(
            (c for c in story.slack.calls("chat.postMessage") if c.params.get("channel") == ALICE),
            None,
        )
    )
    await story.settle()
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED


async def test_slack_429_and_500_during_a_deploy_still_deliver_the_final_message(open_story: Story):
    story = open_story
    story.slack.fail_next("chat.update", status=429, retry_after=1)
    story.slack.fail_next("chat.update", status=500, count=2)
    await story.slack.slash_command(ALICE, "shop prod", channel=CHANNEL)
    await said_to(story, ALICE, "Task #1")
    await story.settle()
    task = await DeployTask.get(id=1)
    assert task.status == TaskStatus.SUCCEEDED
    statuses = [c.status for c in story.slack.calls("chat.update")]
    assert 429 in statuses and statuses.count(500) == 2 and statuses[-1] == 200
    final = story.slack.message(CHANNEL, task.slack_ts or "")
    assert "3/3" in flatten(final.blocks)


async def test_a_message_slack_refuses_does_not_stop_the_release(open_story: Story):
    story = open_story
    story.slack.fail_next("chat.postMessage", error="not_in_channel")
    await story.slack.slash_command(ALICE, "shop prod", channel=CHANNEL)
    await said_to(story, ALICE, "Slack did not take the task's message")
    await story.settle()
    assert (await DeployTask.get(id=1)).status == TaskStatus.SUCCEEDED


async def test_a_slack_outage_is_retried_until_the_message_is_final(open_story: Story):
    story = open_story
    await story.slack.slash_command(ALICE, "shop prod", channel=CHANNEL)
    await said_to(story, ALICE, "Task #1")
    story.slack.down("503")
    await story.running.bot.wait_runs()
    assert (await DeployTask.get(id=1)).status == TaskStatus.SUCCEEDED
    story.slack.up()
    await story.settle()
    task = await DeployTask.get(id=1)
    final = story.slack.message(CHANNEL, task.slack_ts or "")
    assert "3/3" in flatten(final.blocks)


async def test_a_rejection_asks_for_a_reason_and_ends_the_task(story: Story):
    await story.slack.slash_command(ALICE, "shop prod", channel=CHANNEL)
    message = await story.message_where(lambda t: "shop" in t)
    await story.slack.click(BOB, (CHANNEL, message.ts), ids.REJECT, "1")
    view = await story.slack.wait_for(lambda: next(iter(story.slack.modals(BOB)), None))
    reason = ids.REJECT_REASON_BLOCK
    await story.slack.submit_view(BOB, view.id, {reason: {ids.REJECT_REASON: "not on a Friday"}})
    await story.message_where(lambda t: "not on a Friday" in t, ts=message.ts)
    task = await DeployTask.get(id=1)
    assert task.status == TaskStatus.REJECTED
    final = story.slack.message(CHANNEL, message.ts)
    assert ids.APPROVE not in str(final.blocks)  # no buttons left to press
    await story.slack.slash_command(CAROL, "cancel 1", channel=CHANNEL)
    await said_to(story, CAROL, "already rejected")


async def test_an_expired_lock_frees_the_environment_and_tells_who_waited(story: Story):
    await story.slack.slash_command(BOB, "lock shop prod deploy freeze --for 1m", channel=CHANNEL)
    await said_to(story, BOB, "locked")
    await story.slack.slash_command(ALICE, "shop prod", channel=CHANNEL)
    await said_to(story, ALICE, "locked by")
    await DeployTask.filter(id=1).update(status=TaskStatus.QUEUED)  # as if approved
    from core.store.models import EnvironmentLock

    await EnvironmentLock.all().update(until=story.running.bot.now())
    await story.running.bot.housekeeping()
    story.running.bot.run(1)
    await story.settle()
    assert (await DeployTask.get(id=1)).status == TaskStatus.SUCCEEDED
    told = [c for c in story.slack.calls("chat.postMessage") if c.params.get("channel") == ALICE]
    assert any("free again" in str(c.params.get("text")) for c in told)


async def test_rollback_on_a_failed_task_undoes_only_that_task(open_story: Story):
    story = open_story
    await story.slack.slash_command(ALICE, "shop prod", channel=CHANNEL)
    await said_to(story, ALICE, "Task #1")
    await story.settle()
    first = await DeployTask.get(id=1)
    story.fleet.repo.commit({"index.html": "v2\n"}, "second")
    await Environment.filter(name="prod").update(templates_only=False)
    task = await story.running.bot.engine.deploy(
        story.fleet.request(hooks={HookStage.POST_DEPLOY: HookChoice(script="exit 1")}),
        Actor(ALICE, "slack"),
    )
    await story.running.bot.announce(task, CHANNEL)
    story.running.bot.run(task.id)
    await story.settle()
    await task.refresh_from_db()
    assert task.status == TaskStatus.FAILED
    await story.slack.click(BOB, (CHANNEL, first.slack_ts or ""), ids.ROLLBACK, "1")
    await said_to(story, BOB, "no earlier good release")
    await story.slack.click(BOB, (CHANNEL, task.slack_ts or ""), ids.ROLLBACK, str(task.id))
    await said_to(story, BOB, "Rollback #3")
    await story.settle()
    assert {story.fleet.live(s) for s in ("web1", "web2", "web3")} == {first.version}
    newer = await story.running.bot.engine.deploy(story.fleet.request(), Actor(ALICE, "slack"))
    await story.running.bot.engine.run(newer.id)
    await story.slack.click(BOB, (CHANNEL, first.slack_ts or ""), ids.ROLLBACK, "1")
    await said_to(story, BOB, "not live any more")


async def test_promote_is_refused_while_locked_and_runs_once(open_story: Story):
    story = open_story
    await story.slack.slash_command(ALICE, "shop prod --canary web2", channel=CHANNEL)
    await said_to(story, ALICE, "Task #1")
    await story.settle()
    task = await DeployTask.get(id=1)
    assert task.status == TaskStatus.CANARY
    await story.slack.slash_command(BOB, "lock shop prod hold on", channel=CHANNEL)
    await said_to(story, BOB, "locked")
    await story.slack.slash_command(ALICE, "promote 1", channel=CHANNEL)
    await said_to(story, ALICE, "locked by U0BOB0000: hold on")
    await story.slack.slash_command(BOB, "unlock shop prod", channel=CHANNEL)
    await said_to(story, BOB, "unlocked")
    await story.slack.slash_command(ALICE, "promote 1", channel=CHANNEL)
    await said_to(story, ALICE, "Promoting task #1")
    await story.slack.slash_command(ALICE, "promote 1", channel=CHANNEL)
    await said_to(story, ALICE, "not a canary waiting")
    await story.settle()
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED
    assert {story.fleet.live(s) for s in ("web1", "web2", "web3")} == {task.version}


async def test_pickers_list_nothing_for_someone_who_may_not_deploy(story: Story):
    await Environment.all().update(deployers=[ALICE])
    await story.running.bot.engine.git.ensure_mirror("shop", story.fleet.repo.url)
    await story.slack.slash_command(MALLORY, "", channel=CHANNEL)
    view = await story.slack.wait_for(lambda: next(iter(story.slack.modals(MALLORY)), None))
    assert "shop" not in str(story.slack.view(view.id).spec)  # no project to pick
    picked = {"type": "static_select", "selected_option": {"value": "shop"}}
    story.slack.view(view.id).picked = {ids.PROJECT: {ids.PROJECT: picked}}
    options = await story.slack.block_suggestion(MALLORY, view.id, ids.REF, ids.REF, "")
    assert options == {"options": []}


async def test_a_task_whose_runner_died_is_found_by_the_periodic_check(story: Story):
    from datetime import timedelta

    await story.slack.slash_command(ALICE, "shop prod", channel=CHANNEL)
    await said_to(story, ALICE, "Task #1")
    past = story.running.bot.now() - timedelta(minutes=5)
    await DeployTask.filter(id=1).update(
        status=TaskStatus.RUNNING, lease_owner="gone:1", lease_until=past
    )
    await story.running.bot.housekeeping()
    assert (await DeployTask.get(id=1)).status == TaskStatus.INTERRUPTED
