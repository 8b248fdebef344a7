"""`hoist server add --scan` against a real SSH server on loopback."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import asyncssh
import pytest

from tests.conftest import CliCall, ok, refused


class ThreadedSSHServer:
    """An asyncssh server in its own thread and loop, since the CLI runs its own loop."""

    def __init__(self) -> None:
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncssh.listen("127.0.0.1", 0, server_host_keys=[self.host_key])
        )
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self) -> ThreadedSSHServer:
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def ssh_server() -> Iterator[ThreadedSSHServer]:
    with ThreadedSSHServer() as server:
        yield server


@pytest.fixture
def with_key(hoist: CliCall) -> CliCall:
    ok(hoist("key", "add", "deploy", "--user", "deploy", "--generate"))
    return hoist


def test_scan_pins_the_offered_host_key(with_key: CliCall, ssh_server: ThreadedSSHServer):
    port = str(ssh_server.port)
    out = ok(
        with_key("server", "add", "127.0.0.1", "--port", port, "--key", "deploy", "--scan", "--yes")
    )
    fingerprint = ssh_server.host_key.get_fingerprint("sha256")
    assert f"offers host key {fingerprint}" in out and "host key pinned" in out
    [row] = json.loads(ok(with_key("server", "list", "--json")))
    public = ssh_server.host_key.export_public_key("openssh").decode().split()[1]
    assert row["name"] == f"127.0.0.1:{port}"
    assert row["host_key"].startswith(f"[127.0.0.1]:{port} ssh-ed25519 {public}")


def test_scan_without_confirmation_pins_nothing(with_key: CliCall, ssh_server: ThreadedSSHServer):
    args = ("server", "add", "127.0.0.1", "--port", str(ssh_server.port), "--key", "deploy")
    refused(with_key(*args, "--scan"), "without confirmation: pass --yes")
    assert json.loads(ok(with_key("server", "list", "--json"))) == []


def test_scan_of_a_closed_port_says_so(with_key: CliCall, ssh_server: ThreadedSSHServer):
    result = with_key("server", "add", "127.0.0.1", "--port", "1", "--key", "deploy", "--scan")
    assert (
        result.exit_code == 1 and "cannot reach 127.0.0.1:1 to read its host key" in result.output
    )


def test_scan_checks_the_key_before_connecting(hoist: CliCall, ssh_server: ThreadedSSHServer):
    args = ("server", "add", "127.0.0.1", "--port", str(ssh_server.port), "--key", "nope")
    refused(hoist(*args, "--scan", "--yes"), "unknown key `nope`")
