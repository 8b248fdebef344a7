"""Rollouts from the terminal, on every database: `hoist deploy --plan`, `hoist continue`,
`hoist abort [--rollback]`, and the plan, the pause and health nodes in `hoist tasks show`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.sandbox.ssh_host import isolation_available
from core.store.models import Environment
from tests.cli_inventory import add_shop, deploy_key
from tests.conftest import CliCall, ok, refused
from tests.gitrepo import GitRepo
from tests.threaded import threaded_hosts

pytestmark = pytest.mark.skipif(
    isolation_available() is not None,
    reason=f"these cases need hosts with separate disks: {isolation_available()}",
)
SERVERS = ["web1", "web2", "web3"]
PLANS = {"careful": "1 wait, 100%", "all": "100%"}
Query = Callable[[Callable[[], Any]], Any]


class Shop:
    def __init__(self, hoist: CliCall, repo: GitRepo, data: Path, tmp: Path) -> None:
        self.hoist = hoist
        self.repo = repo
        self.data = data
        self.tmp = tmp

    def on_disk(self, server: str, *parts: str) -> Path:
        roots = self.tmp / "roots"
        return (roots / server if roots.exists() else self.data).joinpath(*parts)

    def live(self) -> dict[str, str | None]:
        rows = json.loads(ok(self.hoist("releases", "shop", "prod", "--json")))
        return {r["server"]: r["live"] for r in rows}

    def show(self, task_id: int) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(ok(self.hoist("tasks", "show", str(task_id), "--json")))
        return result


@pytest.fixture
def shop(hoist: CliCall, query: Query, tmp_path: Path) -> Iterator[Shop]:
    """Three hosts with their own disks; project shop, environment prod with two plans."""
    key_file, public = deploy_key(tmp_path)
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"index.html": "v1\n"}, "first")
    with threaded_hosts(SERVERS, public, tmp_path) as (hosts, data):
        add_shop(hoist, key_file, hosts, repo.url, data)
        query(lambda: Environment.filter(name="prod").update(rollout_plans=PLANS))
        yield Shop(hoist, repo, data, tmp_path)


def test_a_plan_pauses_and_continue_runs_the_rest(shop: Shop):
    out = ok(shop.hoist("deploy", "shop", "prod", "--plan", "careful"))
    assert "task #1 paused" in out
    assert "step 1 of 2 done: waiting for someone to continue" in out
    assert "`hoist continue 1` runs step 2 of 2" in out
    version = shop.show(1)["version"]
    assert shop.live() == {"web1": version, "web2": None, "web3": None}

    text = ok(shop.hoist("tasks", "show", "1"))
    assert "plan careful: step 1 of 2 done" in text
    assert "✓ 1. 1 server (web1), then wait for someone to continue  [done]" in text
    assert "→ 2. 2 servers (web2, web3)  [next]" in text
    assert "; it waits for someone to continue" in text
    assert "next: hoist continue 1 | hoist abort 1 --rollback" in text
    detail = shop.show(1)
    assert detail["plan"] == "careful" and detail["step"] == 1 and detail["status"] == "paused"
    assert detail["paused_at"] and detail["resume_at"] is None
    assert [(s["servers"], s["pause"], s["state"]) for s in detail["steps"]] == [
        (["web1"], "wait", "done"),
        (["web2", "web3"], None, "next"),
    ]

    out = ok(shop.hoist("continue", "1"))
    assert "web2 deploy succeeded" in out and "task #1 succeeded" in out
    assert "web1 deploy" not in out  # step 1 is not run again
    assert set(shop.live().values()) == {version}
    assert [s["state"] for s in shop.show(1)["steps"]] == ["done", "done"]
    refused(shop.hoist("continue", "1"), "task #1 is succeeded, not paused")
    refused(shop.hoist("continue", "7"), "unknown task #7")


def test_abort_with_rollback_puts_the_switched_servers_back(shop: Shop):
    ok(shop.hoist("deploy", "shop", "prod", "--plan", "all"))
    first = shop.show(1)["version"]
    shop.repo.commit({"index.html": "v2\n"}, "second")
    ok(shop.hoist("deploy", "shop", "prod", "--plan", "careful"))
    second = shop.show(2)["version"]
    assert shop.live() == {"web1": second, "web2": first, "web3": first}

    refused(shop.hoist("abort", "1", "--rollback"), "task #1 is succeeded, not paused")
    out = ok(shop.hoist("abort", "2", "--rollback"))
    assert "task #2 aborted; servers it had switched: web1" in out
    assert f"rollback task #3 to {first}: succeeded" in out
    assert set(shop.live().values()) == {first}
    detail = shop.show(2)
    assert detail["status"] == "cancelled"
    assert [s["state"] for s in detail["steps"]] == ["done", "skipped"]
    refused(shop.hoist("abort", "2"), "task #2 is cancelled, not paused", "hoist cancel 2")


def test_abort_without_rollback_leaves_the_servers_as_they_are(shop: Shop):
    ok(shop.hoist("deploy", "shop", "prod", "--plan", "careful"))
    version = shop.show(1)["version"]
    out = ok(shop.hoist("abort", "1"))
    assert "task #1 aborted; servers it had switched: web1" in out and "rollback" not in out
    assert shop.live() == {"web1": version, "web2": None, "web3": None}


def test_a_failed_health_check_pauses_exits_1_and_retry_goes_on(shop: Shop, query: Query):
    check = {"command": f"test ! -e {shop.data}/prod/sick", "interval": 0.2, "wait": 0.6}
    query(lambda: Environment.filter(name="prod").update(health_check=check))
    sick = shop.on_disk("web1", "prod", "sick")
    sick.parent.mkdir(parents=True, exist_ok=True)
    sick.touch()
    result = shop.hoist("deploy", "shop", "prod", "--plan", "careful")
    assert result.exit_code == 1, result.output
    assert "web1 health failed" in result.output
    assert "step 1 of 2 failed on 1 server (web1); 0 allowed" in result.output
    assert "`hoist retry 1` runs the failed servers again" in result.output

    text = ok(shop.hoist("tasks", "show", "1", "--tail", "0"))
    assert "next: hoist continue 1 | hoist retry 1 | hoist abort 1 --rollback" in text
    assert not any(line.startswith(" " * 6) for line in text.splitlines())  # --tail 0
    assert "✗ 1. 1 server (web1), then wait for someone to continue  [failed]" in text
    assert "why: step 1 of 2 failed on 1 server (web1)" in text
    health = [n for n in shop.show(1)["nodes"] if n["stage"] == "health"]
    assert [(n["server"], n["status"]) for n in health] == [
        ("web1", "failed"),
        ("web2", "pending"),
        ("web3", "pending"),
    ]
    assert any(line.split()[:3] == ["web1", "health", "failed"] for line in text.splitlines())

    sick.unlink()
    out = ok(shop.hoist("retry", "1"))
    assert "task #1 paused" in out and "waiting for someone to continue" in out
    out = ok(shop.hoist("continue", "1"))
    assert "web3 health succeeded" in out and "task #1 succeeded" in out
    assert {n["status"] for n in shop.show(1)["nodes"] if n["stage"] == "health"} == {"succeeded"}
