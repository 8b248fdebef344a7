"""The App Home builder (each section, empty states, Slack's limits) and who sees what on it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.models.views import View

from bot import home_texts as words
from bot.blocks import actions as ids
from bot.blocks.data import TaskView
from bot.blocks.home import (
    ENVS_SHOWN,
    MAX_HOME_BLOCKS,
    RECENT_SHOWN,
    REVIEWS_SHOWN,
    UPCOMING_SHOWN,
    HomeData,
    HomeEnv,
    HomeTask,
    home_view,
)
from bot.blocks.task_message import task_message
from bot.home import Board, Review, concerns
from bot.sandbox.limits import view_errors
from core.permissions import Rules

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
ALICE, BOB, CAROL, DAVE = "U0ALICE00", "U0BOB0000", "U0CAROL00", "U0DAVE000"
HOSTILE = "<!channel> & <@U0EVIL0000> ``` `` > <https://evil|click>"
LINK = "https://slack.com/archives/C0DEPLOYS/p1714564800000100"


def task(task_id: int = 7, **changes: Any) -> HomeTask:
    base = HomeTask(
        id=task_id,
        project="shop",
        env="prod",
        version=f"shop-v{task_id}-20260501120000",
        status="pending_approval",
        requester=ALICE,
        ref="main",
        commit="9fceb02d0ae598e95dc970b74767f19372d61af8",
        subject="Checkout: retry card payments once",
        approvals=1,
        approvals_required=2,
        created_at=NOW - timedelta(hours=1),
    )
    return replace(base, **changes)


def env(name: str = "prod", **changes: Any) -> HomeEnv:
    return replace(HomeEnv("shop", name, "shop-v3-20260430090000", 2), **changes)


def blocks_of(view: dict[str, Any]) -> list[dict[str, Any]]:
    assert view["type"] == "home"
    assert len(view["blocks"]) <= MAX_HOME_BLOCKS
    assert view_errors(view) == []  # what the stand-in Slack would refuse
    View(**view).validate_json()  # and what slack_sdk's own models refuse
    return list(view["blocks"])


def text_of(block: dict[str, Any]) -> str:
    parts = [block.get("text", {}).get("text", "")]
    parts += [f["text"] for f in block.get("fields", [])]
    parts += [e.get("text", "") for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return "\n".join(p for p in parts if p)


def all_text(view: dict[str, Any]) -> str:
    return "\n".join(text_of(b) for b in view["blocks"])


def headers(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]


def section_after(view: dict[str, Any], heading: str) -> list[dict[str, Any]]:
    """The blocks between the header `heading` and the next divider."""
    blocks = view["blocks"]
    start = next(i for i, b in enumerate(blocks) if b.get("text", {}).get("text") == heading)
    end = next((i for i in range(start, len(blocks)) if blocks[i]["type"] == "divider"), None)
    return blocks[start + 1 : end]


def test_every_section_in_order_with_its_facts():
    soon, later = NOW + timedelta(hours=2), NOW + timedelta(days=1)
    data = HomeData(
        environments=(env(locked_by=BOB, locked_until=later), env("test", live_version=None)),
        to_review=(task(7, scheduled_at=soon, link=LINK),),
        upcoming=(
            task(7, scheduled_at=soon),
            task(9, status="scheduled", scheduled_at=later, requester=CAROL),
        ),
        recent=(
            task(
                12,
                status="succeeded",
                started_at=NOW - timedelta(minutes=10),
                finished_at=NOW - timedelta(minutes=6, seconds=48),
            ),
            task(11, status="running", started_at=NOW - timedelta(seconds=42)),
            task(10, status="rejected", kind="rollback"),
        ),
    )
    view = home_view(data, NOW)
    blocks_of(view)
    assert headers(view) == [
        words.TITLE,
        words.REVIEW_HEADING,
        words.UPCOMING_HEADING,
        words.ENVS_HEADING,
        words.RECENT_HEADING,
    ]

    review = section_after(view, words.REVIEW_HEADING)
    facts = text_of(review[0])
    assert "*Deploy #7* · shop/prod" in facts
    assert f"`shop-v7-20260501120000` from `main`, requested by <@{ALICE}>" in facts
    assert "`9fceb02` Checkout: retry card payments once" in facts
    assert f"Approvals: 1 of 2 · Starts <!date^{int(soon.timestamp())}^" in facts
    assert f"<{LINK}|Open the task's message>" in facts
    buttons = review[1]
    assert buttons["type"] == "actions" and buttons["block_id"] == "hoist.home.review.7"
    assert [(e["action_id"], e["value"]) for e in buttons["elements"]] == [
        (ids.APPROVE, "7"),
        (ids.REJECT, "7"),
    ]

    upcoming = text_of(section_after(view, words.UPCOMING_HEADING)[0]).split("\n")
    assert [line.split("*#")[1].split("*")[0] for line in upcoming] == ["7", "9"]  # soonest first
    assert upcoming[1].startswith(f"<!date^{int(later.timestamp())}^")
    assert f"by <@{CAROL}>" in upcoming[1] and "Scheduled" in upcoming[1]

    cards = section_after(view, words.ENVS_HEADING)[0]["fields"]
    prod, test = cards[0]["text"], cards[1]["text"]
    assert prod.startswith("*shop/prod*\nLive: `shop-v3-20260430090000`")
    assert "`/deploy shop prod` · needs 2 approvals" in prod
    assert f":lock: locked by <@{BOB}> until <!date^{int(later.timestamp())}^" in prod
    assert "Live: _nothing yet_" in test and "lock" not in test

    recent = text_of(section_after(view, words.RECENT_HEADING)[0]).split("\n")
    assert recent[0].startswith("✅ Succeeded · *#12* shop/prod `shop-v12-")
    assert "took 3m 12s" in recent[0]
    assert "running for 42s" in recent[1]
    assert "*#10* rollback shop/prod" in recent[2] and "took" not in recent[2]
    assert f"<!date^{int((NOW - timedelta(hours=1)).timestamp())}^" in recent[0]
    assert text_of(view["blocks"][-1]).startswith(f"Updated <!date^{int(NOW.timestamp())}^")


def test_empty_sections_say_what_to_do():
    view = home_view(HomeData(), NOW)
    blocks = blocks_of(view)
    text = all_text(view)
    for empty in (words.NO_REVIEWS, words.NO_UPCOMING, words.NO_ENVS, words.NO_RECENT):
        assert empty in text
    assert not [b for b in blocks if b["type"] == "actions"]
    assert "more" not in text


def test_the_review_buttons_are_the_task_messages_own():
    """Same action ids, values and labels as the task message, so the same handlers run."""
    pending = TaskView(
        id=7,
        project="shop",
        env="prod",
        version="v",
        kind="deploy",
        ref="main",
        commit="9fceb02",
        subject="",
        requester=ALICE,
        status="pending_approval",
        servers=("web1",),
        approvals_required=2,
    )
    message = task_message(pending)["blocks"][-1]["elements"]
    wanted = [e for e in message if e["action_id"] in (ids.APPROVE, ids.REJECT)]
    home = home_view(HomeData(to_review=(task(7),)), NOW)
    shown = next(b for b in home["blocks"] if b["type"] == "actions")["elements"]
    assert shown == wanted


def test_long_lists_stay_inside_slacks_limits_and_say_how_many_more():
    many = 300
    data = HomeData(
        environments=tuple(env(f"env{i}") for i in range(many)),
        to_review=tuple(task(i) for i in range(many)),
        upcoming=tuple(task(i, scheduled_at=NOW + timedelta(minutes=i)) for i in range(many)),
        recent=tuple(task(i, status="succeeded") for i in range(RECENT_SHOWN)),
        older=500,
    )
    view = home_view(data, NOW)
    blocks = blocks_of(view)
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)) == REVIEWS_SHOWN
    review = section_after(view, words.REVIEW_HEADING)
    assert sum(1 for b in review if b["type"] == "actions") == REVIEWS_SHOWN
    assert f"_and {many - REVIEWS_SHOWN} more_" in text_of(review[-1])
    envs = section_after(view, words.ENVS_HEADING)
    assert sum(len(b.get("fields", [])) for b in envs) == ENVS_SHOWN
    assert f"_and {many - ENVS_SHOWN} more_" in text_of(envs[-1])
    upcoming = text_of(section_after(view, words.UPCOMING_HEADING)[0])
    assert upcoming.endswith(f"_and {many - UPCOMING_SHOWN} more_")
    recent = section_after(view, words.RECENT_HEADING)
    assert text_of(recent[0]).endswith("_and 500 more_")
    assert words.MORE_RECENT in text_of(recent[1])


def test_text_that_would_overflow_a_section_is_cut_with_a_count():
    huge = "x" * 400
    data = HomeData(
        upcoming=tuple(
            task(i, scheduled_at=NOW, project=huge, env=huge) for i in range(UPCOMING_SHOWN)
        ),
        recent=tuple(task(i, project=huge, env=huge) for i in range(RECENT_SHOWN)),
    )
    view = home_view(data, NOW)
    blocks_of(view)
    upcoming = text_of(section_after(view, words.UPCOMING_HEADING)[0])
    recent = text_of(section_after(view, words.RECENT_HEADING)[0])
    assert re.search(r"_and \d+ more_$", upcoming) and re.search(r"_and \d+ more_$", recent)


_OURS = re.compile(
    r"<(@[UW][A-Z0-9]+|!date\^\d+\^[^|>]+\|[^>]+|https://slack\.com/archives/[^|>]+\|[^>]+)>"
)


def test_names_from_the_inventory_cannot_mention_link_or_break_out():
    data = HomeData(
        environments=(HomeEnv(HOSTILE, HOSTILE, HOSTILE, 1, HOSTILE),),
        to_review=(task(1, project=HOSTILE, env=HOSTILE, version=HOSTILE, ref=HOSTILE),),
        upcoming=(task(2, project=HOSTILE, version=HOSTILE, scheduled_at=NOW),),
        recent=(task(3, env=HOSTILE, version=HOSTILE, subject=HOSTILE),),
    )
    view = home_view(data, NOW)
    blocks_of(view)
    for block in view["blocks"]:
        text = text_of(block)
        bare = _OURS.sub("", text)
        assert "<" not in bare and ">" not in bare, text
        assert "<!channel>" not in text and "<@U0EVIL0000>" not in text


# --- Who sees what -----------------------------------------------------------------------------

REVIEWED = Rules.of(deployers=[ALICE, DAVE], reviewers=[BOB, CAROL])
OPEN = Rules.of(deployers=[], reviewers=[])


def board() -> Board:
    return Board(
        environments=((env("prod"), REVIEWED), (env("test"), OPEN)),
        pending=(
            Review(task(1), REVIEWED, frozenset({CAROL})),
            Review(task(2, requester=BOB), REVIEWED, frozenset()),
        ),
        upcoming=(
            (task(1, scheduled_at=NOW), REVIEWED),
            (task(3, env="test", status="scheduled", scheduled_at=NOW), OPEN),
        ),
    )


def test_reviewers_see_what_they_have_not_decided_and_did_not_request():
    assert [t.id for t in board().for_viewer(BOB, (), 0).to_review] == [1]
    assert [t.id for t in board().for_viewer(CAROL, (), 0).to_review] == [2]
    assert board().for_viewer(ALICE, (), 0).to_review == ()
    assert board().for_viewer(DAVE, (), 0).to_review == ()


def test_environments_and_schedules_follow_the_rules():
    mallory = board().for_viewer("U0MALLORY", (), 0)
    assert [e.env for e in mallory.environments] == ["test"]  # anyone deploys to test only
    assert [t.id for t in mallory.upcoming] == [3]
    dave = board().for_viewer(DAVE, (), 0)
    assert [e.env for e in dave.environments] == ["prod", "test"]
    assert [t.id for t in dave.upcoming] == [1, 3]
    assert [t.id for t in board().for_viewer(BOB, (), 0).upcoming] == [1, 3]  # reviews prod


def test_a_task_concerns_its_requester_reviewers_and_deployers_only():
    assert concerns(REVIEWED, requester="U0ERIN000", viewer="U0ERIN000")
    assert concerns(REVIEWED, requester=ALICE, viewer=BOB)
    assert concerns(REVIEWED, requester=ALICE, viewer=DAVE)
    assert not concerns(REVIEWED, requester=ALICE, viewer="U0MALLORY")
    assert concerns(OPEN, requester=ALICE, viewer="U0MALLORY")
