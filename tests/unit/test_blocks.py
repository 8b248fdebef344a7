"""Block Kit builders: snapshots of typical states, and Slack's limits over many extreme ones.

Snapshots live in tests/snapshots/blocks/; rewrite them with HOIST_UPDATE_SNAPSHOTS=1 and read
the diff before committing.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import texts
from bot.blocks import actions as ids
from bot.blocks.data import (
    ApprovalView,
    CommitOption,
    DeployFormView,
    NodeView,
    RefOption,
    TaskView,
    TemplateOption,
)
from bot.blocks.help import help_message
from bot.blocks.modal import (
    deploy_modal,
    options_for_commits,
    options_for_refs,
    ref_from_value,
    reject_modal,
)
from bot.blocks.progress import log_snippet
from bot.blocks.task_message import task_message

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots" / "blocks"
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=3, seconds=12)
LOCAL = ("start", "pre_download", "download", "post_download", "package")
REMOTE = ("upload", "pre_deploy", "deploy", "post_deploy")
HOSTILE = "<!channel> & <@U0EVIL0000> ``` `` > <https://evil|click>"
TASK_STATUSES = tuple(texts.STATUS)


def assert_snapshot(name: str, payload: dict[str, Any], folder: Path = SNAPSHOTS) -> None:
    """`payload` equals the stored JSON; with HOIST_UPDATE_SNAPSHOTS=1 it is stored instead."""
    path = folder / f"{name}.json"
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("HOIST_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path}; run with HOIST_UPDATE_SNAPSHOTS=1"
    assert path.read_text(encoding="utf-8") == text, f"{name} differs from its snapshot"


# --- Views -------------------------------------------------------------------------------------


def local_nodes(status: str = "succeeded") -> list[NodeView]:
    return [NodeView(stage, "", status, 1.5) for stage in LOCAL]


def server_nodes(server: str, state: str) -> list[NodeView]:
    """A server's chain: `done`, `failed` (at deploy), `running` (deploy) or `pending`."""
    marks = {
        "done": ("succeeded",) * 4,
        "failed": ("succeeded", "succeeded", "failed", "skipped"),
        "running": ("succeeded", "succeeded", "running", "pending"),
        "pending": ("pending",) * 4,
    }[state]
    error = "exit status 1: migration lock held" if state == "failed" else ""
    return [
        NodeView(stage, server, mark, 2.0, error if mark == "failed" else "", 1_500_000 * (i == 0))
        for i, (stage, mark) in enumerate(zip(REMOTE, marks, strict=True))
    ]


def fleet(states: list[str]) -> tuple[tuple[str, ...], tuple[NodeView, ...]]:
    servers = tuple(f"web-{i + 1}" for i in range(len(states)))
    nodes = local_nodes()
    for server, state in zip(servers, states, strict=True):
        nodes += server_nodes(server, state)
    return servers, tuple(nodes)


def task(**changes: Any) -> TaskView:
    base = TaskView(
        id=42,
        project="shop",
        env="production",
        version="v1.4.0",
        kind="deploy",
        ref="main",
        commit="9fceb02d0ae598e95dc970b74767f19372d61af8",
        subject="Checkout: retry card payments once",
        requester="U012AB3CDE",
        status="pending_approval",
        servers=("web-1", "web-2", "web-3"),
        approvals_required=2,
        reviewers=("U0REVIEW01", "U0REVIEW02"),
        live_version="v1.3.2",
        changes=("Checkout: retry card payments once", "Bump requests to 2.32", "Fix typo"),
        more_changes=12,
    )
    return replace(base, **changes)


def running_task() -> TaskView:
    servers, nodes = fleet(["done", "failed", "running"])
    return task(status="running", servers=servers, nodes=nodes, started_at=T0)


# --- Snapshots ---------------------------------------------------------------------------------


def test_pending_task_with_two_reviewers_and_one_approval():
    view = task(
        approvals=(ApprovalView("U0REVIEW01", "approve"),),
        hooks={"pre_deploy": "./bin/check-migrations", "post_deploy": "systemctl restart app"},
        hook_sources={"pre_deploy": "typed", "post_deploy": "template:restart app"},
        scheduled_at=T0 + timedelta(hours=2),
        note="Ship before the sale",
    )
    message = task_message(view)
    assert_snapshot("pending_task", message)
    text = json.dumps(message)
    assert "1 of 2" in text and "<@U0REVIEW01>" in text and "_and 12 more_" in text
    assert "*post_deploy*: template `restart app`" in text
    assert button_ids(message) == [ids.APPROVE, ids.REJECT, ids.CANCEL]
    assert {b["value"] for b in buttons(message)} == {"42"}


def test_running_task_on_three_servers_with_one_failed():
    message = task_message(running_task(), NOW)
    assert_snapshot("running_task", message)
    rows = section_texts(message)
    assert any("❌ ⚪  `web-2` — deploy: exit status 1" in t.replace("➖", "⚪") for t in rows)
    assert any(
        "*1/3 servers done* · ❌ 1 failed" in t and "3m 12s" in t for t in all_texts(message)
    )
    assert button_ids(message) == [ids.CANCEL]


def test_task_on_120_servers_is_summarised():
    states = ["done"] * 100 + ["failed"] * 5 + ["running"] * 5 + ["pending"] * 10
    servers, nodes = fleet(states)
    view = task(
        status="running", servers=servers, nodes=nodes, started_at=T0, log_url="https://ci/42"
    )
    message = task_message(view, NOW)
    assert_snapshot("task_120_servers", message)
    assert len(message["blocks"]) <= ids.MAX_BLOCKS
    text = "\n".join(all_texts(message))
    assert "`web-1`" not in text and "`web-101`" in text and "`web-105`" in text
    assert "✅ 100 done" in text and "❌ 5 failed" in text and "/deploy status 42" in text
    view_logs = buttons(message)[-1]  # a link per viewer, asked for by the click: no URL here
    assert (view_logs["action_id"], view_logs["value"], view_logs.get("url")) == (
        ids.VIEW_LOGS,
        "42",
        None,
    )


def test_canary_task_waits_for_promotion():
    servers, nodes = fleet(["done", "pending", "pending"])
    view = task(status="canary", mode="canary", canary_servers=("web-1",), servers=servers)
    message = task_message(replace(view, nodes=nodes, started_at=T0, finished_at=NOW))
    assert_snapshot("canary_task", message)
    assert "Canary first on `web-1`" in json.dumps(message, ensure_ascii=False)
    assert any("`web-1` _(canary)_" in t for t in section_texts(message))
    assert button_ids(message) == [ids.PROMOTE, ids.CANCEL]


def test_rejected_task_shows_the_reason_and_no_buttons():
    decisions = (
        ApprovalView("U0REVIEW01", "approve"),
        ApprovalView("U0REVIEW02", "reject", "Not during the sale & not <b>today</b>"),
    )
    message = task_message(task(status="rejected", approvals=decisions))
    assert_snapshot("rejected_task", message)
    assert any(
        "<@U0REVIEW02> rejected: Not during the sale &amp; not &lt;b&gt;today&lt;/b&gt;" in t
        for t in section_texts(message)
    )
    assert buttons(message) == []


def test_changes_are_listed_up_to_a_limit_then_counted():
    view = task(changes=tuple(f"change {i}" for i in range(25)), more_changes=5)
    (changes,) = [t for t in section_texts(task_message(view)) if t.startswith("*Changes")]
    assert changes.count("• ") == 10 and changes.endswith("_and 20 more_")


def test_a_delta_release_says_what_it_sent_and_where_the_time_went():
    servers, nodes = fleet(["done", "done", "done"])

    def uploaded(node: NodeView) -> NodeView:
        if node.stage != "upload":
            return node
        if node.server == "web-3":  # its live release could not be trusted: sent whole
            return replace(node, transfer="full")
        return replace(node, transfer="delta", files_sent=3, bytes_sent=14_200)

    view = task(
        status="succeeded",
        servers=servers,
        nodes=tuple(uploaded(n) for n in nodes),
        started_at=T0,
        finished_at=NOW,
    )
    message = task_message(view, now=NOW)
    assert_snapshot("delta_release", message)
    notes = [e["text"] for b in message["blocks"] for e in b.get("elements", []) if "text" in e]
    sent = "3 files, 14.2 kB to 2 servers · whole release (1.5 MB) to 1 server: `web-3`"
    assert any(sent in note for note in notes), notes
    assert any("Time per stage: start 1.5 s" in n and "upload 2.0 s" in n for n in notes), notes


def test_end_states_offer_retry_rollback_and_logs():
    failed = task_message(replace(running_task(), status="failed", log_url="https://ci/42"))
    assert button_ids(failed) == [ids.RETRY, ids.ROLLBACK, ids.VIEW_LOGS]
    assert button_ids(task_message(task(status="succeeded"))) == [ids.ROLLBACK]
    assert button_ids(task_message(task(status="interrupted"))) == [ids.RETRY]
    assert button_ids(task_message(task(status="missed"))) == []


def test_deploy_modal_initial():
    modal = deploy_modal(DeployFormView(projects=("shop", "blog")))
    assert_snapshot("modal_initial", modal)
    assert input_ids(modal) == [ids.PROJECT]
    assert modal["blocks"][0]["dispatch_action"] is True


def test_deploy_modal_canary_with_templates():
    modal = deploy_modal(canary_form())
    assert_snapshot("modal_canary_templates", modal)
    inputs = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    for block_id in (ids.PROJECT, ids.ENV, ids.MODE, ids.HOOK_TEMPLATE["post_deploy"]):
        assert inputs[block_id]["dispatch_action"] is True
    assert inputs[ids.REF]["element"]["min_query_length"] == 0
    assert [o["value"] for o in inputs[ids.CANARY_SERVERS]["element"]["options"]] == [
        "web-1",
        "web-2",
    ]
    assert ids.HOOK_SCRIPT["post_deploy"] not in inputs  # the template runs; nothing to type
    assert ids.HOOK_SCRIPT["pre_deploy"] in inputs and ids.HOOK_TITLE["pre_deploy"] in inputs
    assert inputs[ids.START_AT]["element"]["type"] == "datetimepicker"


def canary_form(**changes: Any) -> DeployFormView:
    templates = (
        TemplateOption(1, "restart app", "post_deploy", "systemctl restart app"),
        TemplateOption(2, "migrate", "pre_deploy", "./manage.py migrate"),
    )
    form = DeployFormView(
        projects=("shop", "blog"),
        project="shop",
        envs=("staging", "production"),
        env="production",
        servers=("web-1", "web-2"),
        mode="canary",
        templates=templates,
        chosen_templates={"post_deploy": 1},
    )
    return replace(form, **changes)


def test_options_for_refs_with_a_query():
    branches = [
        RefOption("main", "branch", "a" * 40),
        RefOption("release-2026", "branch", "b" * 40),
    ]
    tags = [RefOption("v1.4.0", "tag", "c" * 40), RefOption("pre-release-1", "tag", "d" * 40)]
    answer = options_for_refs(branches, tags, "RELEASE")
    assert_snapshot("refs_query", answer)
    values = [o["value"] for g in answer["option_groups"] for o in g["options"]]
    assert values == ["refs/heads/release-2026", "refs/tags/pre-release-1"]
    assert ref_from_value(values[1]) == ("tag", "pre-release-1")
    assert options_for_refs(branches, tags, "nothing-like-it") == {"options": []}


def test_options_for_commits_match_sha_subject_or_author_and_stay_bounded():
    shas = [hashlib.sha1(str(i).encode()).hexdigest() for i in range(300)]
    commits = [CommitOption(sha, f"Change {i} " + "x" * 90, "Ada") for i, sha in enumerate(shas)]
    assert len(options_for_commits(commits, "")["options"]) == ids.MAX_OPTIONS
    found = options_for_commits(commits, shas[299][:12].upper())["options"]
    assert [o["value"] for o in found] == [shas[299]]
    assert found[0]["description"]["text"] == "Ada"
    assert len(found[0]["text"]["text"]) <= ids.MAX_OPTION_TEXT
    assert [o["value"] for o in options_for_commits(commits, "Change 29")["options"]][:2] == [
        shas[29],
        shas[290],
    ]


def test_reject_modal_requires_a_reason():
    modal = reject_modal(42)
    assert_snapshot("reject_modal", modal)
    reason = modal["blocks"][-1]
    assert reason["optional"] is False and reason["element"]["multiline"] is True
    assert modal["private_metadata"] == "42" and modal["callback_id"] == ids.REJECT_CALLBACK


def test_log_snippet_shows_the_error_and_the_output_tail():
    node = NodeView("deploy", "web-2", "failed", 3.2, "exit status 1\n<!here> broke", 0)
    snippet = log_snippet(42, node, [f"line {i}" for i in range(5000)])
    assert_snapshot("log_snippet_failed", snippet)
    text = "\n".join(all_texts(snippet))
    assert "&lt;!here&gt; broke" in text and "line 4999" in text and "line 0\n" not in text
    assert "earlier lines not shown" in text


def test_help_lists_every_command():
    message = help_message()
    assert_snapshot("help", message)
    text = "\n".join(all_texts(message))
    for word in ("status", "history", "retry", "rollback", "cancel", "promote", "lock|unlock"):
        assert f"`/deploy {word}" in text


# --- Texts -------------------------------------------------------------------------------------


def test_a_script_reads_back_exactly_from_its_code_block():
    script = "echo '```' && cat <<EOF\n& <!channel> ````\nEOF"
    block = texts.code_block(script, 3000)
    assert block.count("```") == 2
    inner = block.removeprefix("```\n").removesuffix("\n```")
    assert html.unescape(inner).replace("\u200b", "") == script


def test_clipping_never_splits_an_entity():
    for limit in range(1, 30):
        clipped = texts.safe("a&b<c>d" * 5, limit)
        assert len(clipped) <= limit
        assert not re.search(r"&(?!amp;|lt;|gt;)", clipped), clipped


def test_long_scripts_are_cut_at_lines_and_say_so():
    block = texts.code_block("\n".join(f"step {i}" for i in range(2000)), 500)
    assert len(block) <= 500 and block.count("```") == 2 and "more lines not shown" in block


def test_durations_and_sizes():
    assert [texts.duration(s) for s in (5, 192, 3900)] == ["5s", "3m 12s", "1h 05m"]
    assert [texts.size(n) for n in (512, 3_700_000, 12 * 10**12)] == [
        "512 B",
        "3.7 MB",
        "12000.0 GB",
    ]


def test_snapshot_helper_writes_then_catches_a_change(tmp_path, monkeypatch):
    monkeypatch.setenv("HOIST_UPDATE_SNAPSHOTS", "1")
    assert_snapshot("x", {"a": 1}, tmp_path)
    monkeypatch.delenv("HOIST_UPDATE_SNAPSHOTS")
    assert_snapshot("x", {"a": 1}, tmp_path)
    with pytest.raises(AssertionError):
        assert_snapshot("x", {"a": 2}, tmp_path)


# --- Limits and escaping over many extreme views ------------------------------------------------


def extreme_views() -> list[TaskView]:
    views = []
    sizes = (0, 3, 50, 51, 120)
    for status, count, hostile in itertools.product(TASK_STATUSES, sizes, (False, True)):
        views.append(extreme_task(status, count, hostile))
    return views


def extreme_fleet(count: int, hostile: bool) -> tuple[tuple[str, ...], tuple[NodeView, ...]]:
    """`count` servers in every state, with hostile names and errors if asked."""
    prefix, error = (HOSTILE * 5, HOSTILE * 100) if hostile else ("web", "")
    servers, nodes = fleet([("failed", "done", "running", "pending")[i % 4] for i in range(count)])
    names = {s: f"{prefix}-{s}" for s in servers}
    return tuple(names.values()), tuple(
        replace(n, server=names.get(n.server, ""), error=error) for n in nodes
    )


def extreme_task(status: str, count: int, hostile: bool) -> TaskView:
    word = (HOSTILE * 40 + "\n") * 30 if hostile else "x"
    servers, nodes = extreme_fleet(count, hostile)
    words = ("project", "env", "version", "ref", "subject", "note", "requester", "live_version")
    decisions = [ApprovalView(f"U{i:09d}", ("approve", "reject")[i % 2], word) for i in range(40)]
    return task(
        **dict.fromkeys(words, word),
        status=status,
        mode="canary",
        servers=servers,
        canary_servers=servers[:30],
        nodes=nodes,
        reviewers=tuple(f"<!here>{i}" for i in range(40)),
        approvals_required=99,
        approvals=tuple(decisions),
        hooks=dict.fromkeys(ids.HOOK_STAGES, word),
        hook_sources=dict.fromkeys(ids.HOOK_STAGES, f"template:{word}"),
        changes=(word,) * 30,
        more_changes=10**6,
        started_at=T0,
        scheduled_at=T0,
        log_url="https://ci/" + "x" * 4000 if hostile else "https://ci/1",
    )


def test_every_task_message_fits_slack_and_escapes_user_text():
    for view in extreme_views():
        message = task_message(view, NOW)
        assert len(message["blocks"]) <= ids.MAX_BLOCKS
        assert_fits(message)
        assert_escaped(message)
        assert_slack_sdk_accepts(message["blocks"])


def test_every_snippet_and_modal_fits_slack():
    huge = HOSTILE * 400
    for status, error, lines in itertools.product(
        ("failed", "succeeded"), ("", huge), ([], [huge] * 50)
    ):
        snippet = log_snippet(7, NodeView("post_deploy", huge, status, 1.0, error), lines)
        assert_fits(snippet)
        assert_escaped(snippet)
    templates = tuple(TemplateOption(i, huge, s, huge) for i in range(150) for s in ids.HOOK_STAGES)
    names = tuple(f"{huge[:140]}{i}" for i in range(200))
    for mode, only, chosen in itertools.product(
        ("full", "canary"), (False, True), ({}, {"pre_deploy": 3})
    ):
        form = canary_form(
            projects=names, envs=names, servers=names, mode=mode, templates=templates
        )
        modal = deploy_modal(replace(form, templates_only=only, chosen_templates=chosen))
        assert_modal_fits(modal)
        assert_escaped(modal)


def test_every_options_answer_fits_slack():
    refs = [RefOption(HOSTILE * i, "branch", "f" * 40) for i in range(1, 300)]
    commits = [CommitOption("e" * 40, HOSTILE * i, HOSTILE * i) for i in range(1, 300)]
    for answer in (options_for_refs(refs, refs, ""), options_for_commits(commits, "")):
        options = answer.get("options") or [
            o for g in answer["option_groups"] for o in g["options"]
        ]
        assert 0 < len(options) <= ids.MAX_OPTIONS
        assert_fits(answer)


# --- Helpers -------------------------------------------------------------------------------------


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def button_ids(message: dict[str, Any]) -> list[str]:
    return [b["action_id"] for b in buttons(message)]


def input_ids(modal: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in modal["blocks"] if b["type"] == "input"]


def section_texts(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b]


def text_objects(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [t for item in node for t in text_objects(item)]
    if not isinstance(node, dict):
        return []
    own = [node] if node.get("type") in ("mrkdwn", "plain_text") else []
    return own + [t for value in node.values() for t in text_objects(value)]


def all_texts(message: dict[str, Any]) -> list[str]:
    return [t["text"] for t in text_objects(message)]


def assert_fits(payload: dict[str, Any]) -> None:
    """Slack's length limits on every text object, field, button and option in `payload`."""
    for obj in text_objects(payload):
        assert 0 < len(obj["text"]) <= ids.MAX_TEXT
    for block in payload.get("blocks", []):
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= ids.MAX_HEADER
        for field in block.get("fields", []):
            assert len(field["text"]) <= ids.MAX_FIELD
        assert len(block.get("fields", [])) <= ids.MAX_FIELDS
        assert len(block.get("elements", [])) <= 25
    for element in buttons(payload) if "blocks" in payload else []:
        assert (
            len(element["text"]["text"]) <= ids.MAX_BUTTON
            and len(element.get("url", "")) <= ids.MAX_URL
        )
    for opt in options_in(payload):
        assert (
            len(opt["text"]["text"]) <= ids.MAX_OPTION_TEXT
            and len(opt["value"]) <= ids.MAX_OPTION_VALUE
        )
    if "blocks" in payload and payload.get("type") != "modal":
        assert 0 < len(payload["text"]) <= ids.MAX_FALLBACK


def options_in(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [o for item in node for o in options_in(item)]
    if not isinstance(node, dict):
        return []
    own = node.get("options", [])
    assert len(own) <= ids.MAX_OPTIONS
    return own + [o for key, value in node.items() if key != "options" for o in options_in(value)]


def assert_modal_fits(modal: dict[str, Any]) -> None:
    assert len(modal["blocks"]) <= ids.MAX_MODAL_BLOCKS
    for key in ("title", "submit", "close"):
        assert len(modal[key]["text"]) <= ids.MAX_MODAL_TITLE
    assert len(modal.get("private_metadata", "")) <= 3000
    assert_fits(modal)
    View(**modal).validate_json()


_ALLOWED_TOKEN = re.compile(r"<(@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+|!date\^\d+\^[^|>]+\|[^>]+)>")


def assert_escaped(payload: dict[str, Any]) -> None:
    """No mention, link or fence comes from user text: only the builders' own tokens remain."""
    texts_ = [t["text"] for t in text_objects(payload) if t["type"] == "mrkdwn"]
    texts_ += [payload["text"]] if isinstance(payload.get("text"), str) else []
    for text in texts_:
        bare = _ALLOWED_TOKEN.sub("", text)
        assert "<" not in bare and ">" not in bare, text[:200]
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text[:200]
        assert text.count("```") in (0, 2), text[:200]


def assert_slack_sdk_accepts(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
