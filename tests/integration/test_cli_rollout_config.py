"""An environment's health check and rollout settings through `hoist env …`, on every backend."""

from __future__ import annotations

import json

import pytest

from core.store.models import AuditEvent
from tests.conftest import CliCall, ok, refused

PLAN = "1 wait, 10%, 50% 10m, 100%"


@pytest.fixture
def env(hoist: CliCall) -> CliCall:
    """A key, a server, project `shop` with environment `prod`."""
    ok(hoist("key", "add", "deploy", "--user", "deploy", "--generate"))
    ok(hoist("server", "add", "10.0.0.1", "--name", "web1", "--key", "deploy"))
    ok(hoist("project", "add", "shop", "--repo", "git@example.test:acme/shop.git"))
    ok(hoist("env", "add", "shop", "prod", "--path", "/data/prod/", "--servers", "web1"))
    return hoist


def shown(hoist: CliCall) -> dict:
    return json.loads(ok(hoist("env", "show", "shop", "prod", "--json")))


def listed(hoist: CliCall) -> dict:
    [row] = json.loads(ok(hoist("env", "list", "--json")))
    return row


def table(hoist: CliCall) -> str:
    return ok(hoist("env", "list", env={"COLUMNS": "250"}))


def show_text(hoist: CliCall) -> dict[str, str]:
    """`hoist env show`'s lines as field → text (continuation lines joined by newlines)."""
    fields: dict[str, str] = {}
    key = ""
    for line in ok(hoist("env", "show", "shop", "prod")).splitlines():
        if line.startswith(" "):
            fields[key] += "\n" + line.strip()
        else:
            key, _, value = line.partition(" ")
            fields[key] = value.strip()
    return fields


def test_a_new_environment_has_no_check_and_no_plans(env: CliCall):
    row = shown(env)
    assert row == listed(env)
    assert {k: row[k] for k in list(row)[-7:]} == {
        "health_check": None,
        "rollout_plans": {},
        "rollout_default": None,
        "max_failed": 0,
        "auto_rollback": False,
        "pause_reminder": 1800,
        "status": "enabled",
    }
    text = show_text(env)
    assert text["health_check"] == "-" and text["rollout_plans"] == "-"
    assert text["pause_reminder"] == "30m" and text["auto_rollback"] == "no"


def test_health_check_set_shown_and_changed_part_by_part(env: CliCall):
    out = ok(
        env(
            "env",
            "set",
            "shop",
            "prod",
            "--health-url",
            "http://{server}:8080/health",
            "--health-body",
            "ok",
            "--health-passes",
            "2",
            "--health-wait",
            "2m",
            "--health-timeout",
            "2.5",
        )
    )
    assert out.startswith("environment shop/prod: health_check None → {'url': 'http://{server}")
    check = {
        "url": "http://{server}:8080/health",
        "status": 200,
        "body": "ok",
        "command": None,
        "timeout": 2.5,
        "passes": 2,
        "interval": 2.0,
        "wait": 120.0,
    }
    assert shown(env)["health_check"] == check == listed(env)["health_check"]
    assert show_text(env)["health_check"] == (
        'GET http://{server}:8080/health → 200 containing "ok"; 2 consecutive passes, every 2s, '
        "at most 120s, 2.5s per attempt"
    )

    ok(env("env", "set", "shop", "prod", "--health-command", "systemctl is-active shop"))
    check["command"] = "systemctl is-active shop"
    assert shown(env)["health_check"] == check  # the rest of the check is kept
    assert "http+command" in table(env)
    assert "no changes" in ok(env("env", "set", "shop", "prod", "--health-passes", "2"))

    ok(env("env", "set", "shop", "prod", "--health-url", ""))
    assert shown(env)["health_check"] == check | {"url": None}
    ok(env("env", "set", "shop", "prod", "--no-health"))
    assert shown(env)["health_check"] is None


def test_environment_added_with_a_check_and_plans(env: CliCall):
    ok(
        env(
            "env",
            "add",
            "shop",
            "test",
            "--path",
            "/data/test/",
            "--health-command",
            "curl -fs localhost:8080/health",
            "--rollout",
            f"careful={PLAN}",
            "--rollout-default",
            "careful",
            "--max-failed",
            "1",
            "--auto-rollback",
            "--pause-reminder",
            "10m",
        )
    )
    row = json.loads(ok(env("env", "show", "shop", "test", "--json")))
    assert row["health_check"]["command"] == "curl -fs localhost:8080/health"
    assert row["rollout_plans"] == {"careful": PLAN} and row["rollout_default"] == "careful"
    assert (row["max_failed"], row["auto_rollback"], row["pause_reminder"]) == (1, True, 600)


def test_a_refused_add_adds_nothing(env: CliCall):
    args = ("env", "add", "shop", "test", "--path", "/data/test/")
    refused(env(*args, "--health-passes", "2"), "needs a URL to ask or a command")
    refused(env(*args, "--rollout", "careful=1, 0%"), "rollout plan `careful`: step 2")
    refused(env(*args, "--rollout-default", "careful"), "rollout default `careful`")
    assert [r["name"] for r in json.loads(ok(env("env", "list", "--json")))] == ["prod"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--health-url", ""], "a health check needs a URL to ask or a command to run"),
        (["--health-url", "ftp://{server}/"], "must be an http:// or https:// URL"),
        (["--health-command", "true", "--health-status", "700"], "status 700 is not an HTTP"),
        (["--health-command", "true", "--health-passes", "0"], "passes must be at least 1"),
        (["--health-command", "true", "--health-interval", "0"], "interval must be more than 0"),
        (["--health-command", "true", "--health-timeout", "soon"], "--health-timeout `soon`"),
        (
            ["--health-command", "true", "--health-wait", "1", "--health-interval", "5"],
            "wait (1s) must be at least its interval (5s)",
        ),
        (["--health-command", "true", "--no-health"], "give --no-health or --health-"),
        (["--rollout", "careful"], "--rollout `careful` must be NAME=PLAN"),
        (["--rollout", "=100%"], "must be NAME=PLAN"),
        (["--rollout", "no way=100%"], "rollout plan name `no way` is not valid"),
        (["--rollout", "careful=1 wait, ten"], "rollout plan `careful`: step 2 (`ten`)"),
        (["--rollout", "careful=1 soon"], "pause `soon` is neither `wait` nor a duration"),
        (["--rollout", "a=1", "--rollout", "a=2"], "rollout plan `a` is given twice"),
        (["--rollout", "quick=100%", "--no-rollout", "quick"], "is both given and removed"),
        (["--no-rollout", "carefull"], "unknown rollout plan `carefull`"),
        (["--no-rollout", "careful"], "rollout plan `careful` is the default"),
        (["--rollout-default", "fast"], "rollout default `fast` is not one of the rollout plans"),
        (["--max-failed", "-1"], "failed servers allowed per step (--max-failed) must be at least"),
        (["--pause-reminder", "soon"], "pause reminder `soon` is not a duration"),
        (["--pause-reminder", "-5m"], "pause reminder `-5m`"),
    ],
)
def test_every_refusal_changes_nothing(env: CliCall, query, args: list[str], message: str):
    ok(
        env(
            "env",
            "set",
            "shop",
            "prod",
            "--health-url",
            "http://{server}/health",
            "--rollout",
            f"careful={PLAN}",
            "--rollout-default",
            "careful",
        )
    )
    before = shown(env)
    events = query(lambda: AuditEvent.all().count())
    refused(env("env", "set", "shop", "prod", "--max-failed", "3", *args), message)
    assert shown(env) == before
    assert query(lambda: AuditEvent.all().count()) == events


def test_unknown_plan_suggests_the_closest(env: CliCall):
    ok(env("env", "set", "shop", "prod", "--rollout", f"careful={PLAN}"))
    refused(env("env", "set", "shop", "prod", "--no-rollout", "carefull"), "did you mean `careful`")


def test_rollout_plans_added_defaulted_removed_and_cleared(env: CliCall):
    out = ok(
        env(
            "env",
            "set",
            "shop",
            "prod",
            "--rollout",
            f"careful={PLAN}",
            "--rollout",
            "quick = 100%",
            "--rollout-default",
            "careful",
        )
    )
    assert "rollout_default None → 'careful'" in out
    row = shown(env)
    assert row["rollout_plans"] == {"careful": PLAN, "quick": "100%"}
    text = show_text(env)
    assert text["rollout_plans"] == f"careful: {PLAN}\nquick: 100%"
    assert text["rollout_default"] == "careful"
    assert "careful (default),quick" in table(env)

    ok(env("env", "set", "shop", "prod", "--rollout", "quick=1, 100%"))
    assert shown(env)["rollout_plans"]["quick"] == "1, 100%"
    ok(env("env", "set", "shop", "prod", "--no-rollout", "quick"))
    assert shown(env)["rollout_plans"] == {"careful": PLAN}
    ok(env("env", "set", "shop", "prod", "--rollout-default", "", "--no-rollout", "careful"))
    row = shown(env)
    assert row["rollout_plans"] == {} and row["rollout_default"] is None


def test_failure_budget_rollback_and_reminder(env: CliCall):
    out = ok(
        env(
            "env",
            "set",
            "shop",
            "prod",
            "--max-failed",
            "2",
            "--auto-rollback",
            "--pause-reminder",
            "1h30m",
        )
    )
    assert "max_failed 0 → 2" in out and "auto_rollback False → True" in out
    assert "pause_reminder 1800 → 5400" in out
    row = shown(env)
    assert (row["max_failed"], row["auto_rollback"], row["pause_reminder"]) == (2, True, 5400)
    text = show_text(env)
    assert text["auto_rollback"] == "yes" and text["pause_reminder"] == "1h30m"

    ok(env("env", "set", "shop", "prod", "--no-auto-rollback", "--pause-reminder", "0"))
    row = shown(env)
    assert row["auto_rollback"] is False and row["pause_reminder"] == 0
    assert show_text(env)["pause_reminder"] == "never"
    assert "no changes" in ok(env("env", "set", "shop", "prod", "--pause-reminder", "0m"))


def test_changes_are_audited(env: CliCall, query):
    ok(
        env(
            "--as",
            "alice",
            "env",
            "set",
            "shop",
            "prod",
            "--health-command",
            "true",
            "--rollout",
            "quick=100%",
            "--max-failed",
            "1",
        )
    )
    event = query(lambda: AuditEvent.all().order_by("-id").first())
    assert (event.actor, event.action, event.target) == ("alice", "env.set", "env:shop/prod")
    assert event.details["health_check"]["command"] == "true"
    assert event.details["rollout_plans"] == {"quick": "100%"}
    assert event.details["max_failed"] == 1


def test_show_names_an_unknown_environment(env: CliCall):
    refused(env("env", "show", "shop", "prdo"), "unknown environment", "`prod`")
