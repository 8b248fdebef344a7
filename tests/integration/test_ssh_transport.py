"""The SSH transport against real servers: in-process asyncssh ones and OpenSSH's sshd."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import asyncssh
import pytest

from core.errors import UsageError
from core.keys import KeyMaterial, generate_key
from core.sandbox.ssh_host import LocalSSHHost
from core.transport.ssh import (
    AuthError,
    CommandTimeout,
    ConnectError,
    Connection,
    ConnectOptions,
    HostKeyError,
    SessionNotStarted,
    Target,
    UploadError,
    connect,
)
from tests.fakes.sshd import OpenSSHServer, skip_reason

# Every test is bounded: a hang is a failure, not a stuck CI run.
pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def key() -> KeyMaterial:
    return generate_key("hoist-test")


@pytest.fixture
async def server(key: KeyMaterial, tmp_path: Path) -> AsyncIterator[LocalSSHHost]:
    root = tmp_path / "web1"
    root.mkdir()
    async with LocalSSHHost(key.public, root=root) as srv:
        yield srv


@pytest.fixture
def sshd_skip() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)


async def _pgrep(pattern: str) -> str:
    """The processes on this machine whose command line matches `pattern`."""
    proc = await asyncio.create_subprocess_exec(
        "pgrep", "-af", pattern, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    return out.decode()


def _marker() -> str:
    """A `sleep` argument no other process on the machine uses."""
    return f"300.{secrets.randbelow(10**9):09d}"


def _three_sleeps(marker: str) -> str:
    """A script that starts three `sleep`s in its group (one orphaned), says so, and waits."""
    return (
        f"sleep {marker} & sleep {marker} & (sleep {marker} &); "
        f"until [ \"$(pgrep -cf 'sleep {marker}')\" -ge 3 ]; do sleep 0.01; done; "
        "echo started; wait"
    )


async def _start_then_cancel(conn: Connection, marker: str) -> None:
    """Run `_three_sleeps`, cancel the awaiting task once all three run, check it was cancelled."""
    started = asyncio.Event()

    def on_line(line: str) -> None:
        if line == "started":
            started.set()

    task = asyncio.create_task(conn.run(_three_sleeps(marker), on_line=on_line))
    waiter = asyncio.create_task(started.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        assert started.is_set(), f"the script ended before it started: {task.result()}"
        assert (await _pgrep(f"sleep {marker}")).count("\n") == 3
    finally:
        waiter.cancel()
        task.cancel()
        await asyncio.gather(task, waiter, return_exceptions=True)
    assert task.cancelled()


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


# --- running scripts ---------------------------------------------------------------------


async def test_run_returns_merged_output_and_exit_status(server: LocalSSHHost, key):
    async with connect(server.target("web1", key.private)) as conn:
        result = await conn.run('echo out; echo err >&2; pwd; echo "$HOIST_TEST_ROOT"')
    assert result.exit_status == 0 and result.ok
    root = str(server.root)
    assert result.output == f"out\nerr\n{root}\n{root}\n"


async def test_non_zero_exit_is_a_result_not_an_error(server: LocalSSHHost, key):
    async with connect(server.target("web1", key.private)) as conn:
        result = await conn.run("echo failing; exit 7")
    assert (result.exit_status, result.output, result.ok) == (7, "failing\n", False)


async def test_env_values_arrive_literally(server: LocalSSHHost, key):
    env = {
        "QUOTES": 'it\'s a "quoted" value',
        "SPACES": "  two  spaces\tand a\nnewline ",
        "SUBST": "$(touch pwned) `touch pwned2` ${HOME} ; rm -rf nothing",
    }
    script = 'printf "%s\\0" "$QUOTES" "$SPACES" "$SUBST" | base64 -w0'
    async with connect(server.target("web1", key.private)) as conn:
        result = await conn.run(script, env=env)
    values = base64.b64decode(result.output).split(b"\0")[:-1]
    assert [v.decode() for v in values] == list(env.values())
    assert server.root is not None and sorted(server.root.iterdir()) == []


async def test_invalid_env_name_is_refused_before_running(server: LocalSSHHost, key):
    async with connect(server.target("web1", key.private)) as conn:
        with pytest.raises(UsageError, match="not a valid environment variable name"):
            await conn.run("true", env={"BAD NAME": "x"})
    assert server.sessions == 0


async def test_on_line_gets_lines_in_order_while_the_script_runs(
    server: LocalSSHHost, key, tmp_path: Path
):
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    seen: list[str] = []

    async def on_line(line: str) -> None:
        seen.append(line)
        if line == "waiting":  # the script is blocked until we answer: lines are live
            await asyncio.to_thread(fifo.write_text, "go\n")

    script = f'echo one; echo two >&2; echo waiting; read -r x < {fifo}; echo "got $x"; printf tail'
    async with connect(server.target("web1", key.private)) as conn:
        result = await conn.run(script, on_line=on_line)
    assert seen == ["one", "two", "waiting", "got go", "tail"]
    assert result.output == "one\ntwo\nwaiting\ngot go\ntail"


async def test_stdin_reaches_the_script_and_never_the_script_itself(server: LocalSSHHost, key):
    async with connect(server.target("web1", key.private)) as conn:
        fed = await conn.run("tr a-z A-Z", stdin=b"hello\nworld\n")
        unfed = await conn.run("cat\necho after-cat")
    assert fed.output == "HELLO\nWORLD\n"
    assert unfed.output == "after-cat\n"  # `cat` got EOF, not the rest of the script


async def test_output_is_bounded_to_its_head_and_tail(server: LocalSSHHost, key):
    lines: list[str] = []
    async with connect(server.target("web1", key.private)) as conn:
        result = await conn.run("seq 1 200000", on_line=lines.append)
    full = "".join(f"{n}\n" for n in range(1, 200001))
    omitted = len(full) - 2 * 64 * 1024
    assert len(full) > 1_000_000
    assert lines == [str(n) for n in range(1, 200001)]
    assert result.output.startswith("1\n2\n3\n") and result.output.endswith("199999\n200000\n")
    assert f"\n… {omitted} bytes omitted …\n" in result.output
    head, tail = result.output.split(f"\n… {omitted} bytes omitted …\n")
    assert full.startswith(head) and full.endswith(tail)


async def test_cancel_kills_the_whole_process_group(server: LocalSSHHost, key):
    marker = _marker()
    async with connect(server.target("web1", key.private)) as conn:
        await _start_then_cancel(conn, marker)
        assert await _pgrep(f"sleep {marker}") == ""
        assert (await conn.run("echo still usable")).output == "still usable\n"


async def test_timeout_kills_the_group_and_raises(server: LocalSSHHost, key):
    marker = _marker()
    async with connect(server.target("web1", key.private)) as conn:
        with pytest.raises(CommandTimeout, match=r"`web1` ran past its timeout of 0.5s"):
            await conn.run(f"sleep {marker} & sleep {marker}", timeout=0.5)
    assert await _pgrep(f"sleep {marker}") == ""


# --- uploads -------------------------------------------------------------------------------


async def test_upload_stream_arrives_byte_identical(server: LocalSSHHost, key, tmp_path):
    data = os.urandom(6 * 1024 * 1024 + 123)
    progress: list[int] = []
    dest = tmp_path / "release.tar.gz"
    async with connect(server.target("web1", key.private)) as conn:
        sent = await conn.upload(_chunks(data, 100_003), str(dest), on_progress=progress.append)
    assert sent == len(data) and progress[-1] == len(data) and progress == sorted(progress)
    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert list(tmp_path.glob("*.hoist-part")) == []


async def test_upload_from_a_local_file(server: LocalSSHHost, key, tmp_path: Path):
    source = tmp_path / "local.bin"
    source.write_bytes(os.urandom(700_000))
    async with connect(server.target("web1", key.private)) as conn:
        sent = await conn.upload(source, str(tmp_path / "remote.bin"))
    assert sent == 700_000 and (tmp_path / "remote.bin").read_bytes() == source.read_bytes()


async def test_upload_to_an_unwritable_path_says_so(server: LocalSSHHost, key, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = f"{blocker}/dir/x"
    async with connect(server.target("web1", key.private)) as conn:
        with pytest.raises(UploadError, match=f"cannot write `{target}` on `web1`"):
            await conn.upload(_chunks(b"data", 2), target)


# --- refusing to connect -----------------------------------------------------------------


async def test_missing_host_key_is_refused_without_dialing(server: LocalSSHHost, key):
    target = replace(server.target("web1", key.private), host_key=None)
    with pytest.raises(HostKeyError, match=r"server `web1` has no pinned host key: pin it with"):
        await connect(target)
    assert server.connections == 0


async def test_host_key_mismatch_is_refused_before_anything_is_sent(server, key):
    impostor = generate_key("impostor")
    target = replace(server.target("web1", key.private), host_key=f"web1 {impostor.public}")
    with pytest.raises(HostKeyError) as caught:
        await connect(target)
    offered = server.host_key.get_fingerprint()
    assert str(caught.value) == (
        f"host key of `web1` (127.0.0.1:{server.port}) does not match the pinned key: "
        f"expected {impostor.fingerprint}, got {offered} — nothing was sent"
    )
    assert (server.auth_attempts, server.sessions) == (0, 0)


async def test_a_host_key_of_another_type_is_refused(server: LocalSSHHost, key):
    rsa = asyncssh.generate_private_key("ssh-rsa", key_size=2048).export_public_key()
    target = replace(server.target("web1", key.private), host_key=f"web1 {rsa.decode()}")
    with pytest.raises(HostKeyError, match="offers no host key of the pinned type ssh-rsa"):
        await connect(target)
    assert (server.auth_attempts, server.sessions) == (0, 0)


async def test_a_server_that_never_answers_times_out(key):
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accept TCP, never speak SSH, until the client hangs up
        writer.close()

    async with await asyncio.start_server(silent, "127.0.0.1", 0) as listener:
        port = listener.sockets[0].getsockname()[1]
        target = Target("web1", "127.0.0.1", port, "deploy", key.private, f"web1 {key.public}")
        with pytest.raises(ConnectError, match=r"\): no answer within 0.3s$"):
            await connect(target, ConnectOptions(connect_timeout=0.3))


async def test_server_down_fails_fast_with_a_clear_message(key):
    async with LocalSSHHost(key.public, down=True) as down:
        started = time.monotonic()
        with pytest.raises(ConnectError) as caught:
            await connect(down.target("web1", key.private))
    assert time.monotonic() - started < 2
    assert str(caught.value) == (
        f"cannot connect to `web1` (127.0.0.1:{down.port}): connection refused"
    )


async def test_a_server_that_goes_away_mid_connection_is_a_channel_error(server, key):
    async with connect(server.target("web1", key.private)) as conn:
        await server.stop()
        with pytest.raises(SessionNotStarted, match="before the command started"):
            await conn.run("true")  # nothing ran: a pooled connection is replaced, then it runs
        assert conn.closed
    with pytest.raises(ConnectError, match="connection refused"):
        await connect(server.target("web1", key.private))


async def test_wrong_key_is_an_auth_error(server: LocalSSHHost, key):
    stranger = generate_key("stranger")
    with pytest.raises(AuthError) as caught:
        await connect(server.target("web1", stranger.private))
    assert str(caught.value) == (
        f"`web1` (127.0.0.1:{server.port}) rejected the key `{stranger.fingerprint}` "
        "for user `deploy`"
    )


async def test_connection_closes_when_the_block_raises(server: LocalSSHHost, key):
    with pytest.raises(RuntimeError, match="boom"):
        async with connect(server.target("web1", key.private)) as conn:
            await conn.run("true")
            raise RuntimeError("boom")
    await asyncio.wait_for(server.wait_idle(), 5)
    assert server.connections == 1


def test_target_repr_never_shows_the_private_key(key):
    target = LocalSSHHost(key.public).target("web1", key.private)
    assert key.private not in repr(target) and "private_key" not in repr(target)


# --- jump hosts ----------------------------------------------------------------------------


async def test_jump_host_carries_the_connection(key, tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with (
        LocalSSHHost(key.public, root=tmp_path / "a") as bastion,
        LocalSSHHost(key.public, root=tmp_path / "b") as web,
    ):
        jump = bastion.target("bastion", key.private)
        async with connect(web.target("web1", key.private, jump=jump)) as conn:
            result = await conn.run('echo "$HOIST_TEST_ROOT"')
        await asyncio.wait_for(asyncio.gather(bastion.wait_idle(), web.wait_idle()), 5)
    assert result.output == f"{tmp_path / 'b'}\n"
    assert bastion.tunnels == [("127.0.0.1", web.port)]
    assert (bastion.sessions, web.sessions) == (0, 1)


async def test_jump_to_a_down_server_names_the_bastion(key, server: LocalSSHHost):
    async with LocalSSHHost(key.public, down=True) as down:
        jump = server.target("bastion", key.private)
        with pytest.raises(ConnectError, match=r"\) through `bastion`: connection refused"):
            await connect(down.target("web1", key.private, jump=jump))
    await asyncio.wait_for(server.wait_idle(), 5)


async def test_bastion_host_key_is_enforced_too(key, server: LocalSSHHost):
    async with LocalSSHHost(key.public) as web:
        jump = replace(server.target("bastion", key.private), host_key=web.host_key_line)
        with pytest.raises(HostKeyError, match="host key of `bastion`"):
            await connect(web.target("web1", key.private, jump=jump))
    assert web.connections == 0


# --- OpenSSH's sshd ------------------------------------------------------------------------


@pytest.fixture
async def openssh(sshd_skip, key: KeyMaterial) -> AsyncIterator[OpenSSHServer]:
    async with OpenSSHServer(key.public) as srv:
        yield srv


async def test_openssh_run_and_upload(openssh: OpenSSHServer, key, tmp_path: Path):
    data = os.urandom(3 * 1024 * 1024)
    dest = tmp_path / "upload.bin"
    async with connect(openssh.target("real", key.private)) as conn:
        result = await conn.run('echo "$GREETING from $(id -un)"; exit 3', env={"GREETING": "hi"})
        sent = await conn.upload(_chunks(data, 65536), str(dest))
    assert (result.exit_status, result.output) == (3, "hi from root\n")
    assert sent == len(data) and dest.read_bytes() == data


async def test_openssh_cancel_kills_the_whole_process_group(openssh: OpenSSHServer, key):
    marker = _marker()
    async with connect(openssh.target("real", key.private)) as conn:
        await _start_then_cancel(conn, marker)
        assert await _pgrep(f"sleep {marker}") == ""


async def test_openssh_as_a_bastion(openssh: OpenSSHServer, key, server: LocalSSHHost):
    jump = openssh.target("bastion", key.private)
    async with connect(server.target("web1", key.private, jump=jump)) as conn:
        assert (await conn.run("echo through")).output == "through\n"
    assert server.connections == 1


async def test_two_sshds_each_see_their_own_data(key, tmp_path: Path):
    reason = skip_reason(private_mounts=True)
    if reason:
        pytest.skip(reason)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with (
        OpenSSHServer(key.public, private_mounts={"/data": tmp_path / "a"}) as one,
        OpenSSHServer(key.public, private_mounts={"/data": tmp_path / "b"}) as two,
        connect(one.target("one", key.private)) as first,
        connect(two.target("two", key.private)) as second,
    ):
        wrote = await first.run("echo from-one > /data/x && cat /data/x")
        looked = await second.run("test -e /data/x; echo $?")
    assert wrote.output == "from-one\n" and looked.output == "1\n"
    assert (tmp_path / "a" / "x").read_text() == "from-one\n"
    assert not (tmp_path / "b" / "x").exists()
