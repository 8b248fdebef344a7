"""Rollout settings of an environment: durations, plan checks and edits, without a database."""

from __future__ import annotations

import pytest

from core.errors import NotFoundError, UsageError
from core.inventory.env_settings import (
    SettingsEdit,
    check_default,
    check_plan,
    parse_reminder,
    parse_seconds,
    reminder_text,
)
from core.inventory.specs import EnvSpec

CHECK = {"url": "http://{server}/health", "status": 200, "body": "", "command": None}


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("1h30m", 5400), ("90s", 90), ("0", 0), ("0m", 0)]
)
def test_pause_reminders(text: str, seconds: int):
    assert parse_reminder(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-5m", "", "30"])
def test_pause_reminder_must_be_a_duration(text: str):
    with pytest.raises(UsageError, match="is not a duration like 30m or 2h"):
        parse_reminder(text)


@pytest.mark.parametrize(("seconds", "text"), [(0, "never"), (1800, "30m"), (5430, "1h30m30s")])
def test_reminder_text(seconds: int, text: str):
    assert reminder_text(seconds) == text


@pytest.mark.parametrize(
    ("text", "seconds"), [("5", 5.0), ("2.5", 2.5), ("90s", 90.0), ("2m", 120)]
)
def test_seconds(text: str, seconds: float):
    assert parse_seconds(text, "--health-wait") == seconds


def test_seconds_name_the_option():
    with pytest.raises(UsageError, match="--health-wait `1 minute` is not a number of seconds"):
        parse_seconds("1 minute", "--health-wait")


def test_plans_are_checked_by_name_and_text():
    check_plan("careful", "1 wait, 10%, 50% 10m, 100%")
    with pytest.raises(UsageError, match=r"rollout plan `careful`: step 1 \(`x`\)"):
        check_plan("careful", "x")
    with pytest.raises(UsageError, match="rollout plan name `a b` is not valid"):
        check_plan("a b", "100%")


def test_the_default_must_be_a_plan():
    check_default(None, {}, "shop/prod")
    check_default("quick", {"quick": "100%"}, "shop/prod")
    with pytest.raises(UsageError, match=r"plans of shop/prod \(none yet\)"):
        check_default("quick", {}, "shop/prod")
    with pytest.raises(UsageError, match=r"\(`a`, `b`\)"):
        check_default("c", {"b": "1", "a": "1"}, "shop/prod")


def test_health_edits_build_on_the_current_check():
    edited = SettingsEdit(health={"passes": 3, "wait": 30.0}).apply({"health_check": CHECK})
    assert edited["health_check"]["url"] == CHECK["url"]
    assert (edited["health_check"]["passes"], edited["health_check"]["wait"]) == (3, 30.0)
    assert SettingsEdit().apply({"health_check": CHECK})["health_check"] == CHECK
    assert SettingsEdit(no_health=True).apply({"health_check": CHECK})["health_check"] is None
    without_url = SettingsEdit(health={"url": "", "command": "true"}).apply({"health_check": CHECK})
    assert without_url["health_check"]["url"] is None


def test_plan_edits():
    values = {"rollout_plans": {"a": "1, 100%", "b": "100%"}, "rollout_default": "a"}
    edited = SettingsEdit(plans={"c": "50%"}, drop_plans=("b",)).apply(values)
    assert edited["rollout_plans"] == {"a": "1, 100%", "c": "50%"}
    assert values["rollout_plans"] == {"a": "1, 100%", "b": "100%"}  # not changed in place
    with pytest.raises(UsageError, match="`a` is the default"):
        SettingsEdit(drop_plans=("a",)).apply(values)
    assert SettingsEdit(drop_plans=("a",)).apply(values | {"rollout_default": ""})
    with pytest.raises(NotFoundError, match="did you mean `b`"):
        SettingsEdit(drop_plans=("bb",)).apply(values)


def test_spec_from_state_and_back():
    state = {
        "deploy_path": "/data/prod/",
        "servers": ["web1"],
        "health_check": SettingsEdit(health={"command": "true"}).apply({})["health_check"],
        "rollout_plans": {"quick": "100%"},
        "rollout_default": "",
        "pause_reminder": 0,
    }
    spec = EnvSpec.from_state("shop", "prod", state)
    assert spec.servers == ("web1",) and spec.health_check and spec.health_check.command == "true"
    desired = spec.desired()
    assert desired["health_check"] == state["health_check"]
    assert desired["rollout_plans"] == {"quick": "100%"} and desired["rollout_default"] is None
    assert (desired["max_failed"], desired["auto_rollback"], desired["pause_reminder"]) == (
        0,
        False,
        0,
    )
    hash(spec)  # a spec stays hashable with its plans
