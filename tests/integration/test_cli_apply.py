"""`hoist apply`, secrets, migrations and the database's own rules, on every backend."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import asyncssh
import pytest
from tortoise.exceptions import IntegrityError

from core.status import Decision, Stage, TaskStatus
from core.store.models import Approval, DeployTask, Environment, Server, StageRun
from tests.conftest import CliCall, ok, refused

INVENTORY = """\
[keys.deploy]
user = "deploy"
file = "id_deploy"

[servers.bastion]
address = "10.0.0.1"
key = "deploy"

[servers.web1]
address = "10.0.1.1"
key = "deploy"
jump = "bastion"
labels = ["web"]
owner = "alice"

[servers.web2]
address = "10.0.1.2"
port = 2222
key = "deploy"

[projects.shop]
repo = "git@example.test:acme/shop.git"
channel = "#shop"

[projects.shop.environments.test]
path = "/data/test/"
servers = ["web1"]

[projects.shop.environments.prod]
path = "/data/prod/"
servers = ["web1", "web2"]
approvals = 2
reviewers = ["U1", "U2", "U3"]
batch = 1

[templates."restart app"]
stage = "post_deploy"
script = "systemctl restart shop"
"""


@pytest.fixture
def inventory_file(tmp_path: Path) -> Path:
    key = asyncssh.generate_private_key("ssh-ed25519")
    (tmp_path / "id_deploy").write_bytes(key.export_private_key("openssh"))
    path = tmp_path / "inventory.toml"
    path.write_text(INVENTORY)
    return path


def test_apply_creates_everything_then_reports_no_changes(hoist: CliCall, inventory_file: Path):
    out = ok(hoist("apply", str(inventory_file)))
    assert "+ server web1" in out and "+ env shop/prod" in out and "changed 8 objects" in out
    assert ok(hoist("apply", str(inventory_file))).strip() == "no changes"
    servers = json.loads(ok(hoist("server", "list", "--json")))
    web1 = next(s for s in servers if s["name"] == "web1")
    assert web1["jump"] == "bastion" and web1["labels"] == ["web"] and web1["owner"] == "alice"


def test_apply_updates_only_what_changed(hoist: CliCall, inventory_file: Path):
    ok(hoist("apply", str(inventory_file)))
    inventory_file.write_text(INVENTORY.replace("batch = 1", "batch = 2"))
    out = ok(hoist("apply", str(inventory_file)))
    assert out.splitlines() == ["~ env shop/prod (batch_size)", "changed 1 object"]


def test_dry_run_changes_nothing(hoist: CliCall, inventory_file: Path):
    out = ok(hoist("apply", "--dry-run", str(inventory_file)))
    assert "would change 8 objects" in out
    assert json.loads(ok(hoist("server", "list", "--json"))) == []


def test_apply_is_all_or_nothing(hoist: CliCall, inventory_file: Path):
    inventory_file.write_text(INVENTORY.replace('servers = ["web1", "web2"]', 'servers = ["web9"]'))
    refused(hoist("apply", str(inventory_file)), "unknown server `web9`")
    assert json.loads(ok(hoist("key", "list", "--json"))) == []
    assert json.loads(ok(hoist("server", "list", "--json"))) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("port = 2222", "port = 2222\nnmae = 'x'"),
            "inventory.toml line 19: unknown setting `nmae`",
        ),
        (("port = 2222", 'port = "22"'), "inventory.toml line 18: `port` must be a whole number"),
        (("[servers.web2]", "[servers.web2"), "inventory.toml: line 16: "),
        (('stage = "post_deploy"', 'stage = "later"'), "unknown stage `later`"),
        (('file = "id_deploy"', 'file = "missing"'), "cannot read key file"),
        (('user = "deploy"\n', ""), "inventory.toml line 1: [keys.deploy] needs `user`"),
        (('jump = "bastion"', 'jump = "web1"'), "jump hosts form a loop: web1"),
    ],
)
def test_apply_errors_name_the_line(hoist: CliCall, inventory_file: Path, change, expected):
    inventory_file.write_text(INVENTORY.replace(*change))
    refused(hoist("apply", str(inventory_file)), expected)
    assert json.loads(ok(hoist("key", "list", "--json"))) == []


def test_apply_reads_keys_from_the_environment(hoist: CliCall, tmp_path: Path):
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = tmp_path / "inv.toml"
    path.write_text('[keys.ci]\nuser = "ci"\nenv = "CI_KEY"\n')
    refused(hoist("apply", str(path)), "environment variable CI_KEY is not set")
    pem = key.export_private_key("openssh").decode()
    ok(hoist("apply", str(path), env={"CI_KEY": pem}))
    [row] = json.loads(ok(hoist("key", "list", "--json")))
    assert row["fingerprint"] == key.get_fingerprint("sha256")


def test_a_wrong_secret_is_refused_clearly(hoist: CliCall, hoist_env, inventory_file: Path):
    ok(hoist("apply", str(inventory_file)))
    other = {"HOIST_SECRET_KEY": "not-a-fernet-key"}
    refused(hoist("apply", str(inventory_file), env=other), "HOIST_SECRET_KEY is not a valid")
    from core.secrets import generate_secret

    wrong = {"HOIST_SECRET_KEY": generate_secret()}
    refused(
        hoist("apply", str(inventory_file), env=wrong),
        "HOIST_SECRET_KEY is not the secret it was stored with",
    )


def test_secret_file_is_private_and_reused(tmp_path: Path):
    from click.testing import CliRunner

    from core.cli import cli

    env = {"HOIST_HOME": str(tmp_path / "h"), "HOIST_DATABASE_URL": "", "HOIST_SECRET_KEY": ""}
    runner = CliRunner()
    for name in ("a", "b"):
        ok(runner.invoke(cli, ["key", "add", name, "--user", "u", "--generate"], env=env))
    secret = tmp_path / "h" / "secret.key"
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    assert len(json.loads(ok(runner.invoke(cli, ["key", "list", "--json"], env=env)))) == 2


def test_shared_database_needs_a_secret(hoist: CliCall, hoist_env):
    if hoist_env["HOIST_DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite keeps its own secret")
    refused(
        hoist("key", "add", "k", "--user", "u", "--generate", env={"HOIST_SECRET_KEY": ""}),
        "HOIST_SECRET_KEY is not set",
    )


def test_db_upgrade_applies_then_reports_up_to_date(hoist: CliCall):
    first = ok(hoist("db", "upgrade"))
    assert "applied 0_" in first and "up to date" in first
    assert ok(hoist("db", "upgrade")).strip() == "database is up to date"


def test_unreachable_database_names_the_url_without_password(tmp_path: Path):
    from click.testing import CliRunner

    from core.cli import cli

    url = "postgres://hoist:hunter2@127.0.0.1:1/hoist"
    env = {"HOIST_HOME": str(tmp_path), "HOIST_DATABASE_URL": url}
    result = CliRunner().invoke(cli, ["server", "list"], env=env)
    assert result.exit_code == 1
    assert "cannot open the database postgres://hoist:***@127.0.0.1:1/hoist" in result.output
    assert "hunter2" not in result.output


def test_history_is_kept_when_inventory_is_removed(hoist: CliCall, inventory_file: Path, query):
    ok(hoist("apply", str(inventory_file)))

    async def run_a_task() -> None:
        env = await Environment.get(name="test", project__slug="shop")
        task = await DeployTask.create(
            environment=env,
            number=1,
            version="shop-v1-20260101000000",
            ref="main",
            commit_sha="a" * 40,
            requester="alice",
            status=TaskStatus.SUCCEEDED,
        )
        server = await Server.get(name="web1")
        await StageRun.create(task=task, stage=Stage.DEPLOY, server=server, server_name="web1")

    query(run_a_task)
    ok(hoist("env", "set", "shop", "test", "--servers", ""))
    ok(hoist("env", "set", "shop", "prod", "--servers", "web2"))
    assert "disabled" in ok(hoist("server", "remove", "web1"))
    assert "disabled" in ok(hoist("env", "remove", "shop", "test"))
    servers = {s["name"]: s["status"] for s in json.loads(ok(hoist("server", "list", "--json")))}
    assert servers["web1"] == "disabled"
    assert query(lambda: StageRun.filter(server_name="web1").count()) == 1


def test_one_approval_per_reviewer_per_task(hoist: CliCall, inventory_file: Path, query):
    ok(hoist("apply", str(inventory_file)))

    async def approve_twice() -> None:
        env = await Environment.get(name="prod")
        task = await DeployTask.create(
            environment=env,
            number=1,
            version="v",
            ref="main",
            commit_sha="b" * 40,
            requester="alice",
            status=TaskStatus.PENDING_APPROVAL,
        )
        await Approval.create(task=task, reviewer="U1", decision=Decision.APPROVE)
        with pytest.raises(IntegrityError):
            await Approval.create(task=task, reviewer="U1", decision=Decision.REJECT)

    query(approve_twice)
    assert query(lambda: Approval.all().count()) == 1
