"""The inventory through the `hoist` CLI, on every database backend."""

from __future__ import annotations

import json
from pathlib import Path

import asyncssh
import pytest

from core.store.models import AuditEvent, SSHKey
from tests.conftest import CliCall, ok, refused


def write_key(path: Path, passphrase: str | None = None) -> Path:
    key = asyncssh.generate_private_key("ssh-ed25519")
    path.write_bytes(key.export_private_key("openssh", passphrase))
    return path


@pytest.fixture
def keyfile(tmp_path: Path) -> Path:
    return write_key(tmp_path / "id_deploy")


@pytest.fixture
def inventory(hoist: CliCall, keyfile: Path) -> CliCall:
    """A key, two servers, a project with test and prod."""
    ok(hoist("key", "add", "deploy", "--user", "deploy", "--file", str(keyfile)))
    ok(hoist("server", "add", "10.0.0.1", "--name", "web1", "--key", "deploy"))
    ok(hoist("server", "add", "10.0.0.2", "--port", "2222", "--key", "deploy"))
    ok(hoist("project", "add", "shop", "--repo", "git@example.test:acme/shop.git"))
    ok(hoist("env", "add", "shop", "test", "--path", "/data/test/", "--servers", "web1"))
    ok(
        hoist(
            "env",
            "add",
            "shop",
            "prod",
            "--path",
            "/data/prod/",
            "--servers",
            "web1,10.0.0.2:2222",
            "--approvals",
            "2",
            "--reviewers",
            "U1,U2",
        )
    )
    return hoist


def listing(hoist: CliCall, *args: str) -> list[dict]:
    return json.loads(ok(hoist(*args, "--json")))


def test_key_is_listed_by_fingerprint_and_never_shown(hoist: CliCall, keyfile: Path):
    ok(hoist("key", "add", "deploy", "--user", "deploy", "--file", str(keyfile)))
    [row] = listing(hoist, "key", "list")
    expected = asyncssh.read_private_key(str(keyfile))
    assert row["name"] == "deploy" and row["status"] == "enabled"
    assert row["fingerprint"] == expected.get_fingerprint("sha256")
    assert "PRIVATE" not in json.dumps(row)


def test_private_key_is_encrypted_at_rest(inventory: CliCall, query):
    stored = query(lambda: SSHKey.get(name="deploy"))
    assert "PRIVATE KEY" not in stored.private_key_encrypted
    assert stored.private_key_encrypted.startswith("gAAAA")  # a Fernet token


def test_generated_key_prints_its_public_half(hoist: CliCall):
    out = ok(hoist("key", "add", "gen", "--user", "deploy", "--generate"))
    assert "ssh-ed25519 AAAA" in out and "PRIVATE" not in out


def test_key_file_that_is_not_a_key_is_refused(hoist: CliCall, tmp_path: Path):
    bogus = tmp_path / "notakey"
    bogus.write_text("hello\n")
    refused(hoist("key", "add", "x", "--user", "u", "--file", str(bogus)), "is not a private key")
    assert listing(hoist, "key", "list") == []


def test_encrypted_key_needs_its_passphrase(hoist: CliCall, tmp_path: Path):
    path = write_key(tmp_path / "locked", passphrase="s3cret")
    refused(hoist("key", "add", "k", "--user", "u", "--file", str(path)), "--passphrase-env")
    args = ("key", "add", "k", "--user", "u", "--file", str(path), "--passphrase-env", "PP")
    ok(hoist(*args, env={"PP": "s3cret"}))
    assert [r["name"] for r in listing(hoist, "key", "list")] == ["k"]


def test_key_needs_exactly_one_source(hoist: CliCall, keyfile: Path):
    refused(hoist("key", "add", "k", "--user", "u"), "exactly one of --file PATH or --generate")
    args = ("key", "add", "k", "--user", "u", "--generate", "--file", str(keyfile))
    refused(hoist(*args), "exactly one")


def test_duplicate_names_are_refused(inventory: CliCall, keyfile: Path):
    refused(
        inventory("key", "add", "deploy", "--user", "u", "--file", str(keyfile)),
        "key `deploy` already exists",
    )
    refused(
        inventory("server", "add", "10.0.0.1", "--name", "web1", "--key", "deploy"),
        "server `web1` already exists",
    )
    refused(inventory("project", "add", "shop", "--repo", "x"), "project `shop` already exists")
    refused(
        inventory("env", "add", "shop", "prod", "--path", "/data/p/"),
        "environment `shop/prod` already exists",
    )


def test_server_name_defaults_to_address_and_port(inventory: CliCall):
    rows = listing(inventory, "server", "list")
    assert [(r["name"], r["address"], r["port"]) for r in rows] == [
        ("10.0.0.2:2222", "10.0.0.2", 2222),
        ("web1", "10.0.0.1", 22),
    ]


def test_unknown_names_suggest_the_closest(inventory: CliCall):
    refused(
        inventory("server", "add", "10.0.0.9", "--key", "deplyo"),
        "unknown key `deplyo`",
        "did you mean `deploy`",
    )
    refused(
        inventory("env", "set", "shpo", "prod", "--batch", "1"), "unknown project `shpo`", "`shop`"
    )
    refused(inventory("env", "set", "shop", "prdo", "--batch", "1"), "environment", "`prod`")


def test_server_input_is_checked(inventory: CliCall):
    refused(
        inventory("server", "add", "h", "--port", "70000", "--key", "deploy"),
        "not between 1 and 65535",
    )
    refused(
        inventory("server", "add", "h", "--key", "deploy", "--host-key", "garbage"),
        "host key is not a known_hosts line",
    )
    refused(
        inventory("server", "add", "h", "--key", "deploy", "--name", "bad name"),
        "server name `bad name` is not valid",
    )
    assert len(listing(inventory, "server", "list")) == 2


def test_environment_input_is_checked(inventory: CliCall):
    refused(inventory("env", "add", "shop", "x", "--path", "data/x"), "must be an absolute path")
    refused(
        inventory("env", "add", "shop", "x", "--path", "/d/", "--servers", "nope"),
        "unknown server `nope`",
    )
    refused(
        inventory(
            "env", "add", "shop", "x", "--path", "/d/", "--approvals", "3", "--reviewers", "U1"
        ),
        "requires 3 approvals but names only 1 reviewers",
    )
    assert [r["name"] for r in listing(inventory, "env", "list", "shop")] == ["prod", "test"]


def test_environment_rows_and_set(inventory: CliCall):
    prod = next(r for r in listing(inventory, "env", "list") if r["name"] == "prod")
    assert prod["servers"] == ["10.0.0.2:2222", "web1"]
    assert prod["reviewers"] == ["U1", "U2"] and prod["approvals_required"] == 2
    assert prod["templates_only"] is True  # the default where approvals are required
    out = ok(inventory("env", "set", "shop", "prod", "--batch", "1", "--servers", "web1"))
    assert "batch_size 0 → 1" in out
    assert "no changes" in ok(inventory("env", "set", "shop", "prod", "--batch", "1"))
    prod = next(r for r in listing(inventory, "env", "list") if r["name"] == "prod")
    assert prod["servers"] == ["web1"] and prod["batch_size"] == 1


def test_disabled_server_cannot_join_an_environment(inventory: CliCall):
    ok(inventory("server", "disable", "web1"))
    refused(
        inventory("env", "add", "shop", "x", "--path", "/d/", "--servers", "web1"),
        "server `web1` is disabled",
    )


def test_project_checks_and_set(inventory: CliCall):
    refused(inventory("project", "add", "Bad Slug", "--repo", "x"), "project slug `Bad Slug`")
    refused(
        inventory("project", "add", "p2", "--repo", "x", "--keep", "1"),
        "releases to keep (--keep) must be at least 2",
    )
    out = ok(inventory("project", "set", "shop", "--keep", "7", "--channel", "#shop"))
    assert "keep_releases 5 → 7" in out
    [row] = listing(inventory, "project", "list")
    assert row["keep_releases"] == 7 and row["channel"] == "#shop"


def test_in_use_objects_are_not_removed(inventory: CliCall):
    refused(inventory("key", "remove", "deploy"), "key `deploy` is used by", "`web1`")
    refused(inventory("server", "remove", "web1"), "server `web1` is in", "`shop/prod`")
    refused(inventory("project", "remove", "shop"), "still has environments")
    assert len(listing(inventory, "server", "list")) == 2


def test_removal_of_unused_objects(inventory: CliCall):
    ok(inventory("env", "remove", "shop", "test"))
    ok(inventory("env", "remove", "shop", "prod"))
    assert "removed" in ok(inventory("server", "remove", "web1"))
    assert "removed" in ok(inventory("project", "remove", "shop"))
    assert [r["name"] for r in listing(inventory, "server", "list")] == ["10.0.0.2:2222"]


def test_key_disable_and_enable(inventory: CliCall):
    ok(inventory("key", "disable", "deploy"))
    assert listing(inventory, "key", "list")[0]["status"] == "disabled"
    ok(inventory("key", "enable", "deploy"))
    assert listing(inventory, "key", "list")[0]["status"] == "enabled"


def test_templates(hoist: CliCall, tmp_path: Path):
    script = tmp_path / "restart.sh"
    script.write_text("systemctl restart shop\n")
    ok(hoist("template", "add", "restart", "--stage", "post_deploy", "--file", str(script)))
    [row] = listing(hoist, "template", "list")
    assert row["stage"] == "post_deploy" and row["script"] == "systemctl restart shop\n"
    result = hoist("template", "add", "t", "--stage", "deploy", "--file", str(script))
    assert result.exit_code == 2 and "deploy" in result.output
    refused(
        hoist("template", "add", "t", "--stage", "pre_deploy", "--file", str(tmp_path / "no")),
        "cannot read",
    )
    ok(hoist("template", "remove", "restart"))
    refused(hoist("template", "remove", "restart"), "unknown template `restart`")


def test_changes_are_audited_with_the_actor(inventory: CliCall, query):
    ok(inventory("--as", "alice", "server", "disable", "web1"))
    events = query(lambda: AuditEvent.all().order_by("id"))
    actions = [e.action for e in events]
    assert actions[:3] == ["key.add", "server.add", "server.add"]
    last = events[-1]
    assert (last.actor, last.via, last.action, last.target) == (
        "alice",
        "cli",
        "server.disable",
        "server:web1",
    )


def test_a_user_group_can_cover_several_approvals(inventory: CliCall):
    ok(
        inventory(
            "env",
            "add",
            "shop",
            "staging",
            "--path",
            "/data/staging/",
            "--approvals",
            "2",
            "--reviewers",
            "S0REVIEWS",
        )
    )
    refused(
        inventory(
            "env",
            "add",
            "shop",
            "qa",
            "--path",
            "/data/qa/",
            "--approvals",
            "2",
            "--reviewers",
            "U1",
        ),
        "names only 1 reviewers",
    )


def test_a_token_in_a_repository_url_is_never_listed(hoist: CliCall):
    ok(hoist("project", "add", "p", "--repo", "https://bot:s3cr3t@git.example.test/acme/p.git"))
    out = ok(hoist("project", "list", "--json"))
    assert "s3cr3t" not in out and "https://bot:***@git.example.test/acme/p.git" in out
