"""The inventory a new user makes through the CLI: a key, servers, project shop, env prod."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import asyncssh

from core.sandbox.ssh_host import LocalSSHHost
from tests.conftest import CliCall, ok


def deploy_key(tmp_path: Path) -> tuple[Path, str]:
    """A fresh private key file and its public half."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = tmp_path / "id_deploy"
    key_file.write_bytes(key.export_private_key("openssh"))
    return key_file, key.export_public_key("openssh").decode()


def add_shop(
    hoist: CliCall,
    key_file: Path,
    hosts: Mapping[str, LocalSSHHost],
    repo_url: str,
    data: Path,
    *project_options: str,
) -> None:
    """`hoist key add`, `server add` for each host, `project add shop`, `env add shop prod`."""
    ok(hoist("key", "add", "deploy", "--user", "deploy", "--file", str(key_file)))
    for name, host in hosts.items():
        ok(
            hoist(
                "server",
                "add",
                "127.0.0.1",
                "--name",
                name,
                "--port",
                str(host.port),
                "--key",
                "deploy",
                "--host-key",
                host.host_key_line,
            )
        )
    ok(hoist("project", "add", "shop", "--repo", repo_url, *project_options))
    where = ("--path", f"{data}/prod/", "--codes-root", f"{data}/codes")
    ok(hoist("env", "add", "shop", "prod", *where, "--servers", ",".join(hosts)))
