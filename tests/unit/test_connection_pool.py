"""The warm connection pool and a task's connections, against real in-process SSH servers.

Time is the pool's injected clock; nothing here sleeps. A connection "lost" by the server is
one the server closed (`LocalSSHHost.open_connections`), as a crashed server or a dropped
TCP connection would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest
from click.testing import CliRunner

from core.cli import cli
from core.engine.connections import TaskConnections
from core.engine.pool import ConnectionPool, Login, changes
from core.inventory import service
from core.inventory.specs import KeySpec, ServerSpec
from core.keys import KeyMaterial, generate_key
from core.sandbox.ssh_host import LocalSSHHost
from core.secrets import SecretBox, generate_secret
from core.store.models import Server
from core.transport.ssh import (
    ConnectError,
    Connection,
    ConnectOptions,
    HostKeyError,
    RunResult,
    SessionNotStarted,
    Target,
)
from tests.fleet import ALICE

pytestmark = pytest.mark.timeout(60)

OPTIONS = ConnectOptions(connect_timeout=5.0)


class Clock:
    """Seconds the test sets by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def key() -> KeyMaterial:
    return generate_key("hoist-pool-test")


@pytest.fixture
async def host(key: KeyMaterial) -> AsyncIterator[LocalSSHHost]:
    async with LocalSSHHost(key.public, name="web1") as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def pool(clock: Clock) -> AsyncIterator[ConnectionPool]:
    pool = ConnectionPool(OPTIONS, max_size=2, idle_seconds=300.0, clock=clock)
    yield pool
    await pool.close()


def target(host: LocalSSHHost, key: KeyMaterial, name: str = "web1") -> Target:
    return host.target(name, key.private)


def impostor_line(host: LocalSSHHost) -> str:
    """A known_hosts line for the host's address with a key it does not have."""
    other = generate_key("impostor").public.split()
    return f"[127.0.0.1]:{host.port} {other[0]} {other[1]}"


def drop_server_side(host: LocalSSHHost) -> None:
    """The server drops every connection (the client finds out when it next uses one)."""
    for conn in list(host.open_connections):
        conn.close()


async def test_a_released_connection_is_reused_by_the_next_acquire(pool, host, key):
    first = await pool.acquire(target(host, key))
    assert (await first.run("echo one")).output == "one\n"
    await pool.release(first)

    again = await pool.acquire(target(host, key))

    assert again is first and not again.closed
    assert (await again.run("echo two")).output == "two\n"
    assert (pool.dials, pool.reused, host.connections) == (1, 1, 1)
    await pool.release(again)
    assert pool.pooled("web1") is first  # given back, still open for the next task
    assert not first.closed


async def test_a_changed_login_dials_a_new_connection_and_closes_the_old(pool, host, key):
    old = await pool.acquire(target(host, key))
    await pool.release(old)

    new = await pool.acquire(replace(target(host, key), user="other"))

    assert new is not old and old.closed and not new.closed
    assert new.target.user == "other"
    assert (pool.dials, pool.replaced, host.connections) == (2, 1, 2)
    await pool.release(new)


async def test_a_changed_host_key_is_refused_by_a_new_handshake(pool, host, key):
    old = await pool.acquire(target(host, key))
    await pool.release(old)
    sessions = host.sessions
    pinned_elsewhere = replace(target(host, key), host_key=impostor_line(host))

    with pytest.raises(HostKeyError, match="does not match the pinned key"):
        await pool.acquire(pinned_elsewhere)

    assert old.closed and pool.pooled("web1") is None
    assert host.sessions == sessions  # nothing ran on the old connection either
    # the failure is not remembered: the right key connects again
    fresh = await pool.acquire(target(host, key))
    assert fresh is not old and pool.dials == 3
    await pool.release(fresh)


async def test_a_connection_closed_meanwhile_is_replaced(pool, host, key):
    old = await pool.acquire(target(host, key))
    await pool.release(old)
    await old.close()  # e.g. its keepalive gave up on the server

    new = await pool.acquire(target(host, key))

    assert new is not old and (await new.run("echo ok")).ok
    assert (pool.dials, pool.reused, pool.replaced) == (2, 0, 1)
    await pool.release(new)


async def test_beyond_max_size_the_least_recently_used_idle_connection_is_closed(pool, host, key):
    held = await pool.acquire(target(host, key, "a"))  # in use: never evicted
    b = await pool.acquire(target(host, key, "b"))
    await pool.release(b)
    c = await pool.acquire(target(host, key, "c"))
    await pool.release(c)  # three kept, max two: b is the oldest one not in use

    assert b.closed and not held.closed and not c.closed
    assert (pool.size, pool.evicted) == (2, 1)
    assert pool.pooled("b") is None and pool.pooled("a") is held and pool.pooled("c") is c

    await pool.release(held)  # used until now: c is the least recently used
    d = await pool.acquire(target(host, key, "d"))
    assert c.closed and not held.closed and pool.evicted == 2
    await pool.release(d)


async def test_reap_idle_closes_only_connections_unused_for_the_idle_time(
    pool, host, key, clock: Clock
):
    idle = await pool.acquire(target(host, key, "idle"))
    busy = await pool.acquire(target(host, key, "busy"))
    await pool.release(idle)

    assert await pool.reap_idle(clock.now + 299) == []
    assert await pool.reap_idle(clock.now + 300) == ["idle"]
    assert idle.closed and not busy.closed  # held by a task: never reaped
    assert (await busy.run("echo still here")).ok

    clock.now += 1000
    await pool.release(busy)  # unused from now on
    assert await pool.reap_idle(clock.now + 100) == []
    assert await pool.reap_idle(clock.now + 300) == ["busy"]
    assert busy.closed and pool.size == 0 and pool.expired == 2


async def test_concurrent_acquires_share_one_dial(pool, host, key):
    got = await asyncio.gather(*(pool.acquire(target(host, key)) for _ in range(5)))

    assert len({id(c) for c in got}) == 1
    assert (pool.dials, host.connections, host.auth_attempts) == (1, 1, 1)
    for conn in got:
        await pool.release(conn)
    assert pool.pooled("web1") is got[0] and not got[0].closed


async def test_concurrent_acquires_share_one_failed_dial_and_it_is_not_remembered(pool, key):
    down = LocalSSHHost(key.public, name="down", down=True)
    await down.start()  # only reserves a port: connecting is refused
    attempts = await asyncio.gather(
        *(pool.acquire(target(down, key)) for _ in range(4)), return_exceptions=True
    )

    assert all(isinstance(a, ConnectError) for a in attempts), attempts
    assert "connection refused" in str(attempts[0])
    assert pool.dials == 1

    with pytest.raises(ConnectError):
        await pool.acquire(target(down, key))
    assert pool.dials == 2 and pool.size == 0


async def test_a_closed_pool_closes_everything_and_refuses_to_connect(pool, host, key):
    held = await pool.acquire(target(host, key, "held"))
    idle = await pool.acquire(target(host, key, "idle"))
    await pool.release(idle)

    await pool.close()

    assert held.closed and idle.closed and pool.size == 0
    await asyncio.wait_for(host.wait_idle(), 10)  # the server saw both go
    with pytest.raises(ConnectError, match="Hoist is stopping"):
        await pool.acquire(target(host, key))
    await pool.release(held)  # a task giving it back late is harmless
    await pool.close()


def test_a_login_keeps_a_digest_of_the_key_and_names_what_changed(key):
    first = Target("web1", "10.0.0.1", 22, "deploy", key.private, "[10.0.0.1]:22 ssh-ed25519 A")
    bastion = replace(first, name="bastion", address="10.0.0.9")
    login = Login.of(first)

    assert key.private not in repr(login) and login == Login.of(replace(first))
    assert changes(login, Login.of(replace(first, host_key="x", port=2222))) == [
        "port",
        "pinned host key",
    ]
    other_key = generate_key("other").private
    assert changes(login, Login.of(replace(first, private_key=other_key))) == ["key"]
    assert changes(login, Login.of(replace(first, jump=bastion))) == ["jump host"]


# --- a task's connections: `get`, `call` and `close`, with and without a pool ---


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(generate_secret())


async def inventory(db, box: SecretBox, key: KeyMaterial, host: LocalSSHHost) -> Server:
    """Server `web1` (the host) with key `deploy`, as the engine reads it."""
    await service.add_key(ALICE, KeySpec("deploy", "deploy", key), box)
    await service.add_server(
        ALICE, ServerSpec("web1", "127.0.0.1", "deploy", host.port, host.host_key_line)
    )
    return await Server.get(name="web1")


def dropping_first(host: LocalSSHHost, times: int) -> tuple[Callable, list[Connection]]:
    """An op that echoes, after the server dropped its connections on the first `times`
    attempts; and the connections it was given."""
    given: list[Connection] = []

    async def op(conn: Connection) -> RunResult:
        given.append(conn)
        if len(given) <= times:
            drop_server_side(host)
        return await conn.run("echo ran")

    return op, given


@pytest.mark.parametrize("pooled", [True, False], ids=["pool", "no-pool"])
async def test_call_runs_once_more_on_a_new_connection_when_the_session_never_started(
    db, box, key, host, pool, pooled: bool
):
    server = await inventory(db, box, key, host)
    connections = TaskConnections(box, OPTIONS, pool if pooled else None)
    op, given = dropping_first(host, times=1)

    result = await connections.call(server, op)

    assert result.output == "ran\n"
    assert len(given) == 2 and given[0] is not given[1]
    assert given[0].closed and not given[1].closed
    assert host.connections == 2
    assert await connections.get(server) is given[1]
    if pooled:
        assert (pool.dials, pool.replaced) == (2, 1)
        assert pool.pooled("web1") is given[1]
    await connections.close()
    assert given[1].closed is (not pooled)  # a pool keeps it open for the next task


async def test_call_does_not_retry_a_second_time(db, box, key, host, pool):
    server = await inventory(db, box, key, host)
    connections = TaskConnections(box, OPTIONS, pool)
    op, given = dropping_first(host, times=2)

    with pytest.raises(SessionNotStarted, match="before the command started"):
        await connections.call(server, op)

    assert len(given) == 2 and host.connections == 2 and pool.dials == 2
    await connections.close()


async def test_get_replaces_a_connection_known_closed(db, box, key, host, pool):
    server = await inventory(db, box, key, host)
    connections = TaskConnections(box, OPTIONS, pool)
    first = await connections.get(server)
    await first.close()

    second = await connections.get(server)

    assert second is not first and (await second.run("true")).ok
    assert pool.dials == 2
    await connections.close()


async def test_a_task_gives_connections_back_and_the_next_task_reuses_them(
    db, box, key, host, pool
):
    server = await inventory(db, box, key, host)
    echo: Callable[[Connection], Awaitable[RunResult]] = lambda c: c.run("echo hi")  # noqa: E731
    first_task = TaskConnections(box, OPTIONS, pool)
    first_task.warm([server])
    assert (await first_task.call(server, echo)).ok
    conn = await first_task.get(server)
    await first_task.close()
    assert not conn.closed

    second_task = TaskConnections(box, OPTIONS, pool)
    assert (await second_task.call(server, echo)).ok
    assert await second_task.get(server) is conn
    assert (pool.dials, pool.reused, host.connections) == (1, 1, 1)
    await second_task.close()


async def test_a_failed_connect_is_a_hoist_error_from_get(db, box, key, host, pool):
    server = await inventory(db, box, key, host)
    await Server.filter(name="web1").update(host_key=impostor_line(host))
    server = await Server.get(name="web1")
    connections = TaskConnections(box, OPTIONS, pool)
    connections.warm([server])

    with pytest.raises(HostKeyError, match="nothing was sent"):
        await connections.get(server)

    assert host.sessions == 0 and pool.size == 0
    await connections.close()


async def test_the_reaper_closes_an_idle_connection_by_itself(host, key):
    pool = ConnectionPool(OPTIONS, idle_seconds=0.0)  # the real clock: idle at once
    try:
        conn = await pool.acquire(target(host, key))
        await pool.release(conn)

        await asyncio.wait_for(host.wait_idle(), 10)  # the server saw the reaper close it

        assert conn.closed and pool.size == 0 and pool.expired == 1
    finally:
        await pool.close()


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--pool-idle", "soon"], "`soon` is not a duration"),
        (["--pool-idle", "-5"], "`-5` is not a duration"),
        (["--pool-size", "-1"], "--pool-size"),
    ],
)
def test_hoist_serve_refuses_a_bad_pool_setting(tmp_path, args: list[str], error: str):
    import bot.cli  # noqa: F401 (adds `serve` to the command group)

    result = CliRunner().invoke(cli, ["serve", *args], env={"HOIST_HOME": str(tmp_path)})

    assert result.exit_code == 2, result.output
    assert error in result.output
