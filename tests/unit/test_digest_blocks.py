"""The release digest's Slack message: what it says, and that it stays inside Slack's limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.blocks import actions as ids
from bot.blocks.digest import digest_message
from core.scheduling.digest import Digest, DigestTask, EnvDigest
from core.status import TaskKind, TaskStatus
from tests.unit.test_blocks import HOSTILE, assert_escaped, assert_fits, assert_slack_sdk_accepts

SINCE = datetime(2026, 11, 20, 16, tzinfo=UTC)
UNTIL = SINCE + timedelta(days=1)


def done(version: str, **changes: object) -> DigestTask:
    base = DigestTask(
        id=1,
        kind=TaskKind.DEPLOY,
        version=version,
        status=TaskStatus.SUCCEEDED,
        requester="U0ALICE001",
        ref="main",
        commit="abc1234",
        finished_at=UNTIL,
        seconds=190.0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def env(name: str, tasks: tuple[DigestTask, ...] = (), **changes: object) -> EnvDigest:
    base = EnvDigest(
        name=name,
        live_version="shop-v3",
        tasks=tasks,
        more=0,
        releases=sum(t.kind == TaskKind.DEPLOY for t in tasks),
        rollbacks=sum(t.kind == TaskKind.ROLLBACK for t in tasks),
        succeeded=sum(t.status == TaskStatus.SUCCEEDED for t in tasks),
        failed=sum(t.status == TaskStatus.FAILED for t in tasks),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def digest(*envs: EnvDigest) -> Digest:
    return Digest(project="shop", channel="#shop", since=SINCE, until=UNTIL, envs=envs)


def typical() -> Digest:
    prod = env(
        "prod",
        (
            done("shop-v3", kind=TaskKind.ROLLBACK, requester="U0CAROL001", seconds=12.0),
            done("shop-v4", status=TaskStatus.FAILED, requester="bob", ref="v4.0.0", seconds=42),
            done("shop-v3"),
        ),
    )
    staging = env(
        "staging",
        (done("shop-v2", status=TaskStatus.REJECTED, seconds=None),),
        live_version="shop-v1",
    )
    return digest(prod, staging, env("test", live_version=None))


def sections(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def test_digest_shows_each_environment_its_releases_and_what_is_live():
    message = digest_message(typical())
    assert message["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Release digest · shop", "emoji": True},
    }
    period = message["blocks"][1]["elements"][0]["text"]
    assert period.startswith("🗓️ <!date^1795190400^") and "2026-11-21 16:00 UTC>" in period
    prod, staging, test = sections(message)
    assert prod.splitlines() == [
        "*prod* · live `shop-v3`",
        "_2 releases · 1 rollback · ✅ 2 · ❌ 1_",
        "✅ ↩️ rollback to `shop-v3` by <@U0CAROL001> · 12s · `main` `abc1234`",
        "❌ `shop-v4` by bob · failed · 42s · `v4.0.0` `abc1234`",
        "✅ `shop-v3` by <@U0ALICE001> · 3m 10s · `main` `abc1234`",
    ]
    assert staging.splitlines() == [
        "*staging* · live `shop-v1`",
        "_1 release_",
        "⛔ `shop-v2` by <@U0ALICE001> · rejected · `main` `abc1234`",
    ]
    assert test.splitlines() == ["*test* · live _nothing yet_", "_No releases._"]
    assert message["text"] == "Release digest for shop: 3 releases and 1 rollback in 3 environments"
    assert_slack_sdk_accepts(message["blocks"])


def test_a_quiet_period_says_so():
    message = digest_message(digest(env("prod"), env("test")))
    assert message["text"] == "Release digest for shop: no releases"
    assert [s.splitlines()[1] for s in sections(message)] == ["_No releases._"] * 2
    assert sections(digest_message(digest())) == ["_This project has no environments._"]


def test_tasks_beyond_the_list_are_counted_as_earlier():
    many = env("prod", (done("shop-v9"),) * 3, more=17, releases=20, succeeded=20)
    [text] = sections(digest_message(digest(many)))
    assert text.splitlines()[1] == "_20 releases · ✅ 20_"
    assert text.splitlines()[-1] == "_and 17 earlier_"


def test_many_environments_stay_within_fifty_blocks():
    message = digest_message(digest(*(env(f"env-{i:02d}") for i in range(80))))
    assert len(message["blocks"]) == ids.MAX_BLOCKS
    assert message["blocks"][-1]["elements"][0]["text"] == "_and 33 more environments_"
    assert sections(message)[-1].startswith("*env-46*")
    exactly = digest_message(digest(*(env(f"env-{i:02d}") for i in range(48))))
    assert len(exactly["blocks"]) == ids.MAX_BLOCKS and len(sections(exactly)) == 48


def test_long_and_hostile_text_fits_and_is_escaped():
    word = HOSTILE * 30
    tasks = tuple(
        done(word, requester=word, ref=word, commit=word[:7], kind=kind, status=status)
        for kind, status in [(TaskKind.DEPLOY, TaskStatus.FAILED), (TaskKind.ROLLBACK, "odd")] * 10
    )
    huge = env(word, tasks, live_version=word, more=10**6, releases=10**6)
    message = digest_message(replace(digest(huge, huge), project=word))
    assert_fits(message)
    assert_escaped(message)
    assert_slack_sdk_accepts(message["blocks"])
    for text in sections(message):
        assert len(text) <= ids.MAX_TEXT
        assert text.endswith(" earlier_")  # cut at a whole line, never mid-line by the clip
