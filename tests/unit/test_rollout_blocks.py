"""Rollouts in the Block Kit builders: the plan's lines, the paused message with its failed
servers and buttons, the health column, the modal's plan picker — and Slack's limits."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot import texts
from bot.blocks import actions as ids
from bot.blocks.data import NodeView, PlanOption, TaskView
from bot.blocks.modal import deploy_modal
from bot.blocks.task_message import task_message
from bot.demo.render import flatten
from core.engine.rollout import WAIT, Step
from core.engine.views import chain_state, step_states
from tests.unit.test_blocks import (
    HOSTILE,
    NOW,
    T0,
    all_texts,
    assert_escaped,
    assert_fits,
    assert_modal_fits,
    assert_slack_sdk_accepts,
    assert_snapshot,
    button_ids,
    buttons,
    canary_form,
    local_nodes,
    section_texts,
    task,
)

STAGES = ("upload", "pre_deploy", "deploy", "post_deploy", "health")
PLAN = (Step(("web-1",), WAIT), Step(("web-2", "web-3"), 600), Step(("web-4",)))
HEALTH_ERROR = "GET http://10.0.0.1:8080/health answered 503, 3 times in a row"


def chain(server: str, state: str, *, health: bool = True) -> list[NodeView]:
    """`done`, `sick` (its health check failed), `hook` (post_deploy failed), `running`,
    `pending` or `skipped`; five stages with health, else four."""
    marks = {
        "done": ("succeeded",) * 5,
        "sick": ("succeeded",) * 4 + ("failed",),
        "hook": ("succeeded",) * 3 + ("failed", "skipped"),
        "running": ("succeeded", "succeeded", "running", "pending", "pending"),
        "pending": ("pending",) * 5,
        "skipped": ("skipped",) * 5,
    }[state]
    errors = {"sick": HEALTH_ERROR, "hook": "exit status 3: broken on " + server}
    stages = STAGES if health else STAGES[:4]
    return [
        NodeView(stage, server, mark, 1.0, errors.get(state, "") if mark == "failed" else "")
        for stage, mark in zip(stages, marks, strict=False)
    ]


def rollout_task(states: list[str], **changes: object) -> TaskView:
    servers = tuple(f"web-{i + 1}" for i in range(len(states)))
    nodes = local_nodes()
    for server, state in zip(servers, states, strict=True):
        nodes += chain(server, state)
    view = task(
        status="paused",
        approvals_required=0,
        servers=servers,
        nodes=tuple(nodes),
        started_at=T0,
        plan_name="careful",
        plan=PLAN,
        step=1,
        paused_at=NOW,
        reason="step 1 of 3 failed on 1 server (web-1); 0 allowed",
    )
    return replace(view, **changes)  # type: ignore[arg-type]


# --- Step states (shared with the CLI) -----------------------------------------------------------


def test_chain_and_step_states():
    assert chain_state(["succeeded", "skipped"]) == "succeeded"
    assert chain_state(["succeeded", "pending"]) == "running"
    assert chain_state(["skipped", "skipped"]) == "skipped"
    assert chain_state(["succeeded", "failed", "skipped"]) == "failed"
    assert chain_state([]) == "pending"
    steps = [s.servers for s in PLAN]
    servers = {"web-1": "succeeded", "web-2": "pending", "web-3": "pending", "web-4": "pending"}
    assert step_states(steps, 1, "paused", servers) == ["done", "next", "pending"]
    assert step_states(steps, 1, "running", servers) == ["done", "running", "pending"]
    assert step_states(steps, 1, "queued", servers) == ["done", "pending", "pending"]
    servers |= {"web-1": "failed", "web-2": "succeeded", "web-3": "running"}
    assert step_states(steps, 1, "running", servers) == ["failed", "running", "pending"]
    servers |= {"web-3": "succeeded", "web-4": "skipped"}
    assert step_states(steps, 2, "cancelled", servers) == ["failed", "done", "skipped"]


# --- The paused message --------------------------------------------------------------------------


def test_a_step_that_failed_its_health_check_pauses_with_the_failed_server_and_buttons():
    message = task_message(rollout_task(["sick", "pending", "pending", "pending"]), NOW)
    assert_snapshot("paused_failed_step", message)
    status = section_texts(message)[0]
    assert status.startswith("⏸️ *Paused after step 1 of 3*\nstep 1 of 3 failed on 1 server")
    assert texts.PAUSE_WAITS in status
    assert f"*Failed servers*\n❌ `web-1` — health: {HEALTH_ERROR}" in status
    assert button_ids(message) == [ids.CONTINUE, ids.RETRY, ids.ABORT]
    abort = buttons(message)[-1]
    assert abort["style"] == "danger" and abort["confirm"]["title"]["text"] == texts.ABORT + "?"
    assert {b["value"] for b in buttons(message)} == {"42"}
    assert message["text"].endswith(": Paused")


def test_a_timed_pause_says_when_it_ends_and_offers_no_retry_without_failures():
    resume = NOW + timedelta(minutes=10)
    view = rollout_task(
        ["done", "pending", "pending", "pending"],
        reason="step 1 of 3 done: pausing 10m",
        resume_at=resume,
    )
    message = task_message(view, NOW)
    status = section_texts(message)[0]
    assert f"continues by itself {texts.slack_date(resume)}" in status
    assert "*Failed servers*" not in status and texts.PAUSE_WAITS not in status
    assert button_ids(message) == [ids.CONTINUE, ids.ABORT]


def test_the_plan_marks_done_failed_running_next_and_to_come():
    paused = "\n".join(section_texts(task_message(rollout_task(["sick"] + ["pending"] * 3), NOW)))
    assert "*Rollout plan* `careful` · step 1 of 3 done" in paused
    assert "❌ *1.* 1 server (web-1), then wait for someone to continue" in paused
    assert "⏭️ *2.* 2 servers (web-2, web-3), then pause 10m  ← _next_" in paused
    assert "⚪ *3.* 1 server (web-4)" in paused

    running = rollout_task(["done", "done", "running", "pending"], status="running", reason="")
    text = "\n".join(section_texts(task_message(running, NOW)))
    assert "✅ *1.*" in text and "🔄 *2.*" in text and "⚪ *3.*" in text
    assert "Paused" not in text and "← _next_" not in text

    done = rollout_task(["done"] * 4, status="succeeded", step=3, reason="")
    text = "\n".join(section_texts(task_message(replace(done, finished_at=NOW), NOW)))
    assert "· all 3 steps done" in text and text.count("✅ *") == 4  # and *Succeeded*

    aborted = rollout_task(["done", "skipped", "skipped", "skipped"], status="cancelled")
    message = task_message(aborted, NOW)
    assert "➖ *2.*" in "\n".join(section_texts(message)) and button_ids(message) == []


def test_a_task_without_a_plan_has_no_plan_section():
    message = task_message(rollout_task(["done"] * 4, status="succeeded", plan=(), plan_name=""))
    assert not any("Rollout plan" in t for t in all_texts(message))
    assert "plan `" not in json.dumps(message, ensure_ascii=False)


def test_the_health_column_shows_only_where_servers_are_checked():
    checked = task_message(rollout_task(["sick", "done", "pending", "pending"]), NOW)
    text = "\n".join(all_texts(checked))
    assert "servers: upload → pre_deploy → deploy → post_deploy → health" in text
    assert "✅ ✅ ✅ ✅ ❌  `web-1` — health: GET" in text
    assert "✅ ✅ ✅ ✅ ✅  `web-2`" in text
    nodes = local_nodes() + chain("web-1", "done", health=False)
    plain = task_message(rollout_task(["done"], nodes=tuple(nodes), plan=()), NOW)
    text = "\n".join(all_texts(plain))
    assert "→ health" not in text and "health:" not in text
    assert "✅ ✅ ✅ ✅  `web-1`" in text


def test_a_failed_post_deploy_hook_with_a_skipped_health_check_names_the_hook():
    message = task_message(rollout_task(["hook", "pending", "pending", "pending"]), NOW)
    status = section_texts(message)[0]
    assert "❌ `web-1` — post_deploy: exit status 3: broken on web-1" in status


# --- Limits --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "hostile"), list(itertools.product((1, 50, 120, 400), (False, True)))
)
def test_every_paused_message_fits_slack_and_escapes_user_text(count: int, hostile: bool):
    prefix = HOSTILE * 3 if hostile else "web"
    servers = tuple(f"{prefix}-{i}" for i in range(count))
    states = [("sick", "hook", "done", "pending")[i % 4] for i in range(count)]
    nodes = local_nodes()
    for name, state in zip(servers, states, strict=True):
        nodes += [replace(n, error=n.error + HOSTILE * 50 * hostile) for n in chain(name, state)]
    plan = tuple(Step(servers[i : i + 1], WAIT if i % 2 else 60) for i in range(count))
    word = (HOSTILE * 40) if hostile else "x"
    for status, resume in itertools.product(("paused", "running", "failed"), (None, NOW)):
        view = rollout_task(
            ["done"],
            status=status,
            servers=servers,
            nodes=tuple(nodes),
            plan=plan,
            plan_name=word,
            step=count // 2,
            reason=word * 10,
            resume_at=resume,
        )
        message = task_message(view, NOW)
        assert len(message["blocks"]) <= ids.MAX_BLOCKS
        assert message["blocks"][-1]["type"] == "actions"  # the buttons are never cut off
        assert_fits(message)
        assert_escaped(message)
        assert_slack_sdk_accepts(message["blocks"])
        if status == "paused":
            assert ids.CONTINUE in button_ids(message) and ids.ABORT in button_ids(message)


# --- The /deploy modal's plan picker -------------------------------------------------------------


PLANS = (PlanOption("all", "100%"), PlanOption("careful", "1 wait, 10%, 50% 10m, 100%"))


def plan_picker(modal: dict[str, Any]) -> Any:
    return next((b for b in modal["blocks"] if b.get("block_id") == ids.PLAN), None)


def test_the_plan_picker_preselects_the_default_and_hides_in_canary_mode():
    form = canary_form(mode="full", plans=PLANS, plan_default="careful")
    modal = deploy_modal(form)
    assert_snapshot("modal_plan_picker", modal)
    picker = plan_picker(modal)
    assert picker is not None and picker["optional"] is False
    element = picker["element"]
    assert [o["value"] for o in element["options"]] == ["all", "careful"]
    assert element["initial_option"]["value"] == "careful"
    assert element["options"][1]["description"]["text"] == "1 wait, 10%, 50% 10m, 100%"
    chosen = plan_picker(deploy_modal(replace(form, plan="all")))
    assert chosen["element"]["initial_option"]["value"] == "all"
    assert plan_picker(deploy_modal(replace(form, mode="canary"))) is None
    assert plan_picker(deploy_modal(replace(form, plans=(), plan_default=None))) is None


def test_without_a_default_the_picker_offers_no_plan_first():
    element = plan_picker(deploy_modal(canary_form(mode="full", plans=PLANS)))["element"]
    assert [o["value"] for o in element["options"]] == [ids.NO_PLAN, "all", "careful"]
    assert element["initial_option"]["text"]["text"] == texts.NO_PLAN


def test_every_plan_picker_fits_slack():
    huge = HOSTILE * 40
    plans = tuple(PlanOption(f"p{i}-{huge[:60]}", huge) for i in range(300))
    for default in (None, plans[3].name):
        modal = deploy_modal(canary_form(mode="full", plans=plans, plan_default=default))
        assert_modal_fits(modal)
        assert_escaped(modal)


def test_the_paused_message_reads_well_as_a_whole():
    view = rollout_task(["sick", "done", "pending", "pending"])
    text = flatten(task_message(view, NOW)["blocks"])
    lines = text.splitlines()
    assert lines[:2] == ["Deploy #42 · shop v1.4.0 → production", "⏸️ *Paused after step 1 of 3*"]
    assert "Full · 4 servers · plan `careful`" in text
    assert [line for line in lines if line.startswith(texts.CONTINUE)] == ["Continue"]
