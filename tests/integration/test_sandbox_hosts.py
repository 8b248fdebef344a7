"""The demo's local SSH hosts: a private root per host, and nothing left running after stop()."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from core.keys import KeyMaterial, generate_key
from core.sandbox import ssh_host
from core.sandbox.ssh_host import LocalSSHHost, SandboxError, isolation_available
from core.transport.ssh import CommandTimeout, connect

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def key() -> KeyMaterial:
    return generate_key("hoist-test")


@pytest.fixture
def isolation() -> None:
    reason = isolation_available()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """The absolute path every host is configured with, empty on the real disk."""
    path = tmp_path / "shared" / "data"
    path.mkdir(parents=True)
    return path


@pytest.fixture
async def hosts(isolation, key, tmp_path, shared) -> AsyncIterator[dict[str, LocalSSHHost]]:
    """Three isolated hosts, web1..web3, each with its own root shown at `shared`."""
    async with AsyncExitStack() as stack:
        found = {}
        for name in ("web1", "web2", "web3"):
            host = LocalSSHHost(key.public, name=name, root=tmp_path / name, mount_at=shared)
            found[name] = await stack.enter_async_context(host)
        yield found


async def _run(host: LocalSSHHost, key: KeyMaterial, script: str) -> str:
    async with connect(host.target(host.name, key.private)) as conn:
        result = await conn.run(script)
    assert result.ok, result
    return result.output


async def _pgrep(pattern: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        "pgrep", "-af", pattern, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    return out.decode()


def _marker() -> str:
    return f"300.{secrets.randbelow(10**9):09d}"


# --- a private root per host ---------------------------------------------------------------


async def test_hosts_sharing_a_path_each_see_their_own_files(hosts, key, tmp_path, shared):
    web1, web2, web3 = hosts.values()
    wrote = await _run(web1, key, f"echo from-web1 > {shared}/x && cat {shared}/x")
    look = f"test -e {shared}/x && echo present || echo absent"
    seen = [await _run(host, key, look) for host in (web1, web2, web3)]
    assert wrote == "from-web1\n"
    assert seen == ["present\n", "absent\n", "absent\n"]
    assert (tmp_path / "web1" / "x").read_text() == "from-web1\n"
    assert not (tmp_path / "web2" / "x").exists() and not (tmp_path / "web3" / "x").exists()
    assert list(shared.iterdir()) == []  # the real folder behind the mount is untouched


async def test_an_isolated_host_starts_commands_in_its_shared_path(hosts, key, shared):
    assert await _run(hosts["web2"], key, "pwd") == f"{shared}\n"


async def test_uploads_land_in_the_hosts_own_root(hosts, key, tmp_path, shared):
    async with connect(hosts["web3"].target("web3", key.private)) as conn:
        await conn.upload(_bytes(b"release"), f"{shared}/release.tar")
    assert (tmp_path / "web3" / "release.tar").read_bytes() == b"release"
    assert not (shared / "release.tar").exists()


async def test_a_timeout_kills_the_group_inside_the_namespace(hosts, key):
    marker = _marker()
    async with connect(hosts["web1"].target("web1", key.private)) as conn:
        with pytest.raises(CommandTimeout):
            await conn.run(f"sleep {marker} & sleep {marker}", timeout=0.5)
    assert await _pgrep(f"sleep {marker}") == ""


async def test_the_mount_point_and_root_are_created(isolation, key, tmp_path):
    root, mount_at = tmp_path / "roots" / "web1", tmp_path / "not" / "yet"
    async with LocalSSHHost(key.public, name="web1", root=root, mount_at=mount_at) as host:
        assert await _run(host, key, f"touch {mount_at}/y && ls {mount_at}") == "y\n"
    assert (root / "y").exists() and not (mount_at / "y").exists()


async def test_without_isolation_a_host_says_why_it_cannot_start(key, tmp_path, monkeypatch):
    monkeypatch.setattr(ssh_host, "isolation_available", lambda: "no namespaces here")
    host = LocalSSHHost(key.public, name="web1", root=tmp_path / "r", mount_at=tmp_path / "m")
    with pytest.raises(SandboxError, match=r"host `web1` cannot show .* no namespaces here$"):
        await host.start()
    assert host.port == 0


def test_mount_at_needs_a_root_and_an_absolute_path(key):
    with pytest.raises(ValueError, match="host `web1`: mount_at needs a root"):
        LocalSSHHost(key.public, name="web1", mount_at=Path("/tmp/x"))
    with pytest.raises(ValueError, match="absolute path"):
        LocalSSHHost(key.public, name="web1", root=Path("/tmp"), mount_at=Path("rel"))


# --- hosts without isolation behave as before ---------------------------------------------


async def test_a_host_with_only_a_root_runs_there_on_the_real_disk(key, tmp_path):
    root = tmp_path / "web1"
    root.mkdir()
    outside = tmp_path / "outside"
    async with LocalSSHHost(key.public, name="web1", root=root) as host:
        output = await _run(host, key, f'pwd; echo "$HOIST_TEST_ROOT"; echo hi > {outside}')
    assert output == f"{root}\n{root}\n"
    assert outside.read_text() == "hi\n"


async def test_a_host_without_a_root_shares_the_machines_files(key, tmp_path):
    async with (
        LocalSSHHost(key.public, name="a") as a,
        LocalSSHHost(key.public, name="b") as b,
    ):
        await _run(a, key, f"echo from-a > {tmp_path}/x")
        assert await _run(b, key, f"cat {tmp_path}/x") == "from-a\n"


# --- nothing left behind -------------------------------------------------------------------


@pytest.mark.parametrize("isolated", [False, True], ids=["plain", "isolated"])
async def test_stop_kills_what_sessions_started_and_nothing_else(key, tmp_path, isolated):
    if isolated and (reason := isolation_available()):
        pytest.skip(reason)
    marker = _marker()
    bystander = await asyncio.create_subprocess_exec("sleep", marker)
    mount_at = tmp_path / "data" if isolated else None
    host = LocalSSHHost(key.public, name="web1", root=tmp_path / "web1", mount_at=mount_at)
    (tmp_path / "web1").mkdir()
    try:
        async with host:
            await _run(host, key, _escapees(marker))
            assert (await _pgrep(f"sleep {marker}")).count("\n") == 4  # 3 escapees + bystander
        assert (await _pgrep(f"sleep {marker}")).split() == [str(bystander.pid), "sleep", marker]
        assert bystander.returncode is None
    finally:
        bystander.kill()
        await bystander.wait()


def _escapees(marker: str) -> str:
    """Start three `sleep`s that outlive the session: new session, orphan, left-running job."""
    quiet = ">/dev/null 2>&1 </dev/null"
    return (
        f"setsid sleep {marker} {quiet} & (sleep {marker} {quiet} &); "
        f"nohup sleep {marker} {quiet} & "
        f"until [ \"$(pgrep -cf 'sleep {marker}')\" -ge 4 ]; do sleep 0.01; done"
    )


async def _bytes(data: bytes) -> AsyncIterator[bytes]:
    yield data
