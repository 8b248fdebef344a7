"""Health checks and rollout settings in `hoist apply` files, on every backend."""

from __future__ import annotations

import json
from pathlib import Path

import asyncssh
import pytest

from core.store.models import AuditEvent
from tests.conftest import CliCall, ok, refused

INVENTORY = """\
[keys.deploy]
user = "deploy"
file = "id_deploy"

[servers.web1]
address = "10.0.1.1"
key = "deploy"

[projects.shop]
repo = "git@example.test:acme/shop.git"

[projects.shop.environments.test]
path = "/data/test/"
servers = ["web1"]
health = { command = "systemctl is-active shop", passes = 2 }

[projects.shop.environments.prod]
path = "/data/prod/"
servers = ["web1"]
rollout = { careful = "1 wait, 10%, 50% 10m, 100%", quick = "100%" }
rollout_default = "careful"
max_failed = 1
auto_rollback = true
pause_reminder = "1h"

[projects.shop.environments.prod.health]
url = "http://{server}:8080/health"
status = 204
body = "ok"
timeout = 3
interval = "5s"
wait = "2m"
"""

PROD_CHECK = {
    "url": "http://{server}:8080/health",
    "status": 204,
    "body": "ok",
    "command": None,
    "timeout": 3.0,
    "passes": 1,
    "interval": 5.0,
    "wait": 120.0,
}


@pytest.fixture
def inventory_file(tmp_path: Path) -> Path:
    key = asyncssh.generate_private_key("ssh-ed25519")
    (tmp_path / "id_deploy").write_bytes(key.export_private_key("openssh"))
    path = tmp_path / "inventory.toml"
    path.write_text(INVENTORY)
    return path


def envs(hoist: CliCall) -> dict[str, dict]:
    return {row["name"]: row for row in json.loads(ok(hoist("env", "list", "--json")))}


def test_apply_sets_checks_and_plans_then_reports_no_changes(hoist: CliCall, inventory_file):
    ok(hoist("apply", str(inventory_file)))
    rows = envs(hoist)
    prod, test = rows["prod"], rows["test"]
    assert prod["health_check"] == PROD_CHECK
    assert prod["rollout_plans"] == {"careful": "1 wait, 10%, 50% 10m, 100%", "quick": "100%"}
    assert prod["rollout_default"] == "careful" and prod["max_failed"] == 1
    assert prod["auto_rollback"] is True and prod["pause_reminder"] == 3600
    assert test["health_check"]["command"] == "systemctl is-active shop"
    assert test["health_check"]["passes"] == 2 and test["health_check"]["url"] is None
    assert test["rollout_plans"] == {} and test["pause_reminder"] == 1800
    assert ok(hoist("apply", str(inventory_file))).strip() == "no changes"


def test_dry_run_shows_the_change_and_changes_nothing(hoist: CliCall, inventory_file, query):
    ok(hoist("apply", str(inventory_file)))
    inventory_file.write_text(
        INVENTORY.replace("status = 204", "status = 200").replace("max_failed = 1", "")
    )
    out = ok(hoist("apply", "--dry-run", str(inventory_file)))
    assert out.splitlines() == [
        "~ env shop/prod (health_check, max_failed)",
        "would change 1 object",
    ]
    assert envs(hoist)["prod"]["health_check"]["status"] == 204
    out = ok(hoist("apply", str(inventory_file)))
    assert out.splitlines() == ["~ env shop/prod (health_check, max_failed)", "changed 1 object"]
    prod = envs(hoist)["prod"]
    assert prod["health_check"]["status"] == 200 and prod["max_failed"] == 0
    event = query(lambda: AuditEvent.all().order_by("-id").first())
    assert event.action == "env.update" and event.details["fields"] == [
        "health_check",
        "max_failed",
    ]


def test_settings_left_out_of_the_file_go_back_to_their_defaults(hoist: CliCall, inventory_file):
    ok(hoist("apply", str(inventory_file)))
    start = INVENTORY.index("rollout = {")
    inventory_file.write_text(INVENTORY[:start].rstrip() + "\n")
    ok(hoist("apply", str(inventory_file)))
    prod = envs(hoist)["prod"]
    assert prod["health_check"] is None and prod["rollout_plans"] == {}
    assert prod["rollout_default"] is None and prod["auto_rollback"] is False
    assert prod["pause_reminder"] == 1800


def test_a_rollout_table_and_a_reminder_of_never(hoist: CliCall, inventory_file):
    text = INVENTORY.replace(
        'rollout = { careful = "1 wait, 10%, 50% 10m, 100%", quick = "100%" }\n', ""
    ).replace('pause_reminder = "1h"', 'pause_reminder = "0"')
    text += '\n[projects.shop.environments.prod.rollout]\ncareful = "1, 100%"\n'
    inventory_file.write_text(text)
    ok(hoist("apply", str(inventory_file)))
    prod = envs(hoist)["prod"]
    assert prod["rollout_plans"] == {"careful": "1, 100%"} and prod["pause_reminder"] == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("timeout = 3", "timeout = 3\ntimout = 4"),
            "inventory.toml line 31: unknown setting `timout` in "
            "[projects.shop.environments.prod.health]",
        ),
        (("status = 204", "status = 99"), "inventory.toml line 28: health check status 99"),
        (("status = 204", 'status = "204"'), "line 28: `status` must be a whole number"),
        (('wait = "2m"', 'wait = "soon"'), "line 32: `wait` `soon` is not a number of seconds"),
        (('wait = "2m"', "wait = true"), "line 32: `wait` must be a number of seconds"),
        (('wait = "2m"', "wait = 1"), "line 32: health check wait (1s) must be at least"),
        (('url = "http://{server}:8080/health"\n', ""), "line 26: a health check needs a URL"),
        (
            ("passes = 2 }", "passes = 0 }"),
            "inventory.toml line 15: health check passes must be at least 1",
        ),
        (("passes = 2 }", "pases = 2 }"), "line 15: unknown setting `pases`"),
        (("health = {", "health = 3 #"), "line 15: `health` must be a table"),
        (('"100%" }', '"0%" }'), "line 20: rollout plan `quick`: step 1 (`0%`)"),
        (('"100%" }', "100 }"), "line 20: rollout plan `quick` must be a string"),
        (("quick =", '"no way" ='), "line 20: rollout plan name `no way` is not valid"),
        (
            ('rollout_default = "careful"', 'rollout_default = "carefull"'),
            "line 21: rollout default `carefull` is not one of the rollout plans of shop/prod",
        ),
        (("max_failed = 1", "max_failed = -1"), "line 22: `max_failed` must be 0 or more"),
        (("auto_rollback = true", 'auto_rollback = "yes"'), "line 23: `auto_rollback` must be"),
        (('pause_reminder = "1h"', 'pause_reminder = "soon"'), "line 24: pause reminder `soon`"),
        (('pause_reminder = "1h"', "pause_reminder = -1"), "line 24: `pause_reminder` must be"),
        (
            (
                'rollout = { careful = "1 wait, 10%, 50% 10m, 100%", quick = "100%" }',
                'rollout = "1"',
            ),
            "line 20: `rollout` must be a table of named plans",
        ),
    ],
)
def test_apply_errors_name_the_line(hoist: CliCall, inventory_file: Path, change, expected):
    inventory_file.write_text(INVENTORY.replace(*change))
    refused(hoist("apply", str(inventory_file)), expected)
    assert json.loads(ok(hoist("env", "list", "--json"))) == []
