"""`hoist deploy` and friends as a new user runs them: inventory by CLI, then releases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_inventory import add_shop, deploy_key
from tests.conftest import CliCall, ok, refused
from tests.gitrepo import GitRepo
from tests.threaded import threaded_hosts

SERVERS = ["web1", "web2"]


@pytest.fixture
def shop(hoist: CliCall, tmp_path: Path) -> Iterator[tuple[CliCall, GitRepo, Path]]:
    """Two hosts, and an inventory made through the CLI: key, servers, project, env."""
    key_file, public = deploy_key(tmp_path)
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"index.html": "v1\n"}, "first")
    repo.tag("v1.0")
    with threaded_hosts(SERVERS, public, tmp_path) as (hosts, data):
        add_shop(hoist, key_file, hosts, repo.url, data, "--keep", "3")
        yield hoist, repo, data


def test_deploy_prints_progress_and_exits_0(shop):
    hoist, repo, _ = shop
    out = ok(hoist("deploy", "shop", "prod", "--ref", "v1.0"))
    assert "web1 upload running" in out and "web2 deploy succeeded" in out
    assert out.strip().endswith("succeeded")
    [task] = json.loads(ok(hoist("tasks", "list", "--json")))
    assert task["status"] == "succeeded" and task["ref"] == "v1.0"
    assert task["commit"] == repo.git("rev-parse", "v1.0")


def test_a_failed_deploy_exits_1_and_retry_fixes_it(shop, tmp_path: Path):
    hoist, _, data = shop
    hook = tmp_path / "check.sh"
    hook.write_text('test -e "$(dirname "$HOIST_DEPLOY_LINK")/ready" || exit 9\n')
    result = hoist("deploy", "shop", "prod", "--hook", f"post_deploy={hook}")
    assert result.exit_code == 1 and "post_deploy failed" in result.output
    detail = json.loads(ok(hoist("tasks", "show", "1", "--json")))
    failed = [n for n in detail["nodes"] if n["status"] == "failed"]
    assert {(n["server"], n["exit_status"]) for n in failed} == {("web1", 9), ("web2", 9)}
    roots = tmp_path / "roots"
    for name in SERVERS:
        ((roots / name) if roots.exists() else data).joinpath("prod", "ready").touch()
    out = ok(hoist("retry", "1"))
    assert "web1 upload" not in out and "web2 upload" not in out  # only the failed hooks ran
    assert "task #1 succeeded" in out


def test_tasks_show_and_releases(shop):
    hoist, repo, _ = shop
    first = ok(hoist("deploy", "shop", "prod"))
    assert "sent: whole release" in first and "time per stage: start" in first
    text = ok(hoist("tasks", "show", "1"))
    assert "web2" in text and "deploy" in text and "succeeded" in text
    assert (
        "whole release: " in text and "(the server has no release of this environment yet)" in text
    )
    repo.commit({"index.html": "v2\n"}, "second")
    second = ok(hoist("deploy", "shop", "prod"))
    assert "sent: 1 file, " in second and "to 2 servers" in second
    detail = json.loads(ok(hoist("tasks", "show", "2", "--json")))
    uploads = [n for n in detail["nodes"] if n["stage"] == "upload"]
    assert {(n["transfer"], n["files_sent"]) for n in uploads} == {("delta", 1)}
    assert [t["stage"] for t in detail["timings"]][:2] == ["start", "download"]
    assert "  delta: 1 file, " in ok(hoist("tasks", "show", "2"))
    rows = json.loads(ok(hoist("releases", "shop", "prod", "--json")))
    version = json.loads(ok(hoist("tasks", "list", "--json")))[0]["version"]
    assert [(r["server"], r["live"], r["error"]) for r in rows] == [
        ("web1", version, None),
        ("web2", version, None),
    ]


def test_rollback_from_the_cli(shop):
    hoist, repo, _ = shop
    ok(hoist("deploy", "shop", "prod"))
    repo.commit({"index.html": "v2\n"}, "second")
    ok(hoist("deploy", "shop", "prod"))
    first = json.loads(ok(hoist("tasks", "list", "--json")))[-1]["version"]
    ok(hoist("rollback", "shop", "prod"))
    rows = json.loads(ok(hoist("releases", "shop", "prod", "--json")))
    assert {r["live"] for r in rows} == {first}
    refused(hoist("rollback", "shop", "prod", "--to", "shop-v9-x"), "unknown good release")


def test_deploy_refusals(shop, tmp_path: Path):
    hoist, _, _ = shop
    refused(hoist("deploy", "shop", "prod", "--ref", "nope"), "unknown ref `nope`")
    refused(hoist("deploy", "shop", "prod", "--hook", "later=x"), "--hook stage `later`")
    refused(hoist("deploy", "shop", "prod", "--hook", "post_deploy"), "must be STAGE=FILE")
    refused(hoist("deploy", "shop", "prod", "--canary", "web9"), "unknown server", "web9")
    refused(hoist("deploy", "shop", "prdo"), "unknown environment")
    refused(hoist("retry", "99"), "unknown task #99")
    ok(hoist("env", "set", "shop", "prod", "--approvals", "1", "--reviewers", "U1"))
    refused(hoist("deploy", "shop", "prod"), "requires 1 approvals", "--skip-approval")
    script = tmp_path / "x.sh"
    script.write_text("true\n")
    refused(
        hoist("deploy", "shop", "prod", "--skip-approval", "--hook", f"pre_deploy={script}"),
        "runs only saved hook templates",
    )
    assert json.loads(ok(hoist("tasks", "list", "--json"))) == []
    out = ok(hoist("--as", "root-admin", "deploy", "shop", "prod", "--skip-approval"))
    assert "succeeded" in out


def test_canary_then_promote_from_the_cli(shop):
    hoist, _, _ = shop
    out = ok(hoist("deploy", "shop", "prod", "--canary", "web2"))
    assert "task #1 canary" in out and "web1 upload" not in out
    out = ok(hoist("promote", "1"))
    assert "web1 upload running" in out and "task #1 succeeded" in out
    refused(hoist("promote", "1"), "not a canary waiting")


def test_ctrl_c_cancels_the_task_and_frees_the_environment(shop, hoist_env, tmp_path: Path):
    import os
    import signal
    import subprocess
    import sys

    hoist, _, data = shop
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    hook = tmp_path / "wait.sh"
    hook.write_text(f"cat {gate}\n")
    env = os.environ | hoist_env | {"PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "bot",
        "deploy",
        "shop",
        "prod",
        "--hook",
        f"pre_download={hook}",
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "pre_download running" in line:
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "task #1 cancelled" in err and "Traceback" not in err
    [task] = json.loads(ok(hoist("tasks", "list", "--json")))
    assert task["status"] == "cancelled"
    assert "succeeded" in ok(hoist("deploy", "shop", "prod"))


def test_scheduled_deploy_from_the_cli_waits_for_the_bot(shop):
    hoist, _, data = shop
    out = ok(hoist("deploy", "shop", "prod", "--at", "+2h"))
    assert "task #1" in out and "is scheduled for" in out and "hoist serve" in out
    [task] = json.loads(ok(hoist("tasks", "list", "--json")))
    assert task["status"] == "scheduled"
    assert not (data / "prod" / "current").exists()
    shown = ok(hoist("tasks", "show", "1"))
    assert "scheduled for" in shown
    moved = ok(hoist("reschedule", "1", "+3h"))
    assert "task #1" in moved and "is scheduled for" in moved
    refused(hoist("reschedule", "1", "yesterday"), "cannot read the time")
    refused(hoist("deploy", "shop", "prod", "--at", "2001-01-01 10:00"), "in the past")
    ok(hoist("cancel", "1"))
    refused(hoist("reschedule", "1", "+3h"), "only a scheduled release that has not started")
    assert len(json.loads(ok(hoist("tasks", "list", "--json")))) == 1
