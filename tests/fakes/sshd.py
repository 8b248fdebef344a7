"""Real SSH servers for tests: the product's local SSH host and a launched OpenSSH `sshd`.

Both listen on 127.0.0.1 on a free port, accept one client key and run commands through a real
`bash`, so the transport is tested against the same protocol it meets in production. The
in-process server is `core.sandbox.ssh_host.LocalSSHHost`, the one `hoist demo` runs.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import asyncssh

from core.sandbox.processes import kill_tree
from core.sandbox.ssh_host import LocalSSHHost, free_port
from core.transport.ssh import Target

__all__ = ["LocalSSHHost", "LocalSSHServer", "OpenSSHServer", "free_port", "kill_tree"]

LocalSSHServer = LocalSSHHost  # the name this module gave it before it moved into the product

SSHD = "/usr/sbin/sshd"
READY_TIMEOUT = 10.0
_PIPE = asyncio.subprocess.PIPE


@functools.cache
def skip_reason(*, private_mounts: bool = False) -> str | None:
    """Why OpenSSHServer cannot run on this machine, or None when it can."""
    if not os.access(SSHD, os.X_OK):
        return f"OpenSSH's {SSHD} is not installed (apt-get install openssh-server)"
    if os.geteuid() != 0:
        return "launching sshd needs root"
    if shutil.which("setsid") is None or shutil.which("bash") is None:
        return "bash and setsid (util-linux) are needed on the server side"
    if private_mounts:
        probe = ["unshare", "--mount", "--propagation", "private", "true"]
        done = subprocess.run(probe, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"unshare --mount is not permitted here: {done.stderr.strip()}"
    return None


class OpenSSHServer:
    """A real `sshd -D -e` on 127.0.0.1, optionally with private bind mounts (its own `/data`)."""

    def __init__(
        self,
        client_public_key: str,
        *,
        private_mounts: Mapping[str, Path] | None = None,
        user: str = "root",
        address: str = "127.0.0.1",
    ) -> None:
        self.client_public_key = client_public_key
        self.address = address
        self.private_mounts = dict(private_mounts or {})
        self.user = user
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.port = 0
        self.log: list[str] = []
        self._dir: Path | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None

    @property
    def host_key_line(self) -> str:
        """The server's host key as a known_hosts line for `[127.0.0.1]:port`."""
        public = self.host_key.export_public_key("openssh").decode().strip()
        return f"[{self.address}]:{self.port} {public}"

    def target(self, name: str, private_key: str, *, jump: Target | None = None) -> Target:
        """A transport target for this server with its host key pinned."""
        host_key = self.host_key_line
        return Target(name, self.address, self.port, self.user, private_key, host_key, jump)

    @property
    def pid(self) -> int:
        """The process that holds this server's mount namespace (and runs sshd)."""
        assert self._process is not None, "not started"
        return self._process.pid

    async def __aenter__(self) -> OpenSSHServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Write the config and keys to a temp folder, launch sshd, wait until it listens."""
        self._dir = Path(tempfile.mkdtemp(prefix="hoist-sshd-"))
        self.port = free_port()
        config = self._write_files(self._dir)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        for mount_point in self.private_mounts:
            Path(mount_point).mkdir(parents=True, exist_ok=True)
        self._process = await asyncio.create_subprocess_exec(
            *self._argv(config),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=_PIPE,
            start_new_session=True,
        )
        try:
            await asyncio.wait_for(self._wait_listening(), READY_TIMEOUT)
        except BaseException:
            await self.stop()
            raise
        self._drain = asyncio.create_task(self._read_log())

    async def stop(self) -> None:
        """Kill the sshd this object started and everything below it; remove its folder."""
        if self._process is not None:
            kill_tree(self._process.pid)
            await self._process.wait()
            self._process = None
        if self._drain is not None:
            await self._drain
            self._drain = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _write_files(self, folder: Path) -> Path:
        host_key = folder / "ssh_host_ed25519_key"
        host_key.write_bytes(self.host_key.export_private_key("openssh"))
        host_key.chmod(0o600)
        authorized = folder / "authorized_keys"
        authorized.write_text(self.client_public_key.strip() + "\n")
        config = folder / "sshd_config"
        config.write_text(
            _sshd_config(self.address, self.port, host_key, authorized, folder / "sshd.pid")
        )
        return config

    def _argv(self, config: Path) -> list[str]:
        sshd = [SSHD, "-D", "-e", "-f", str(config)]
        if not self.private_mounts:
            return sshd
        mounts = [
            f"mount --bind {shlex.quote(str(source))} {shlex.quote(target)}"
            for target, source in self.private_mounts.items()
        ]
        script = " && ".join([*mounts, f"exec {shlex.join(sshd)}"])
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]

    async def _wait_listening(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        while line := await self._process.stderr.readline():
            self.log.append(line.decode(errors="replace").rstrip())
            if b"Server listening on" in line:
                return
        raise RuntimeError("sshd exited before listening:\n" + "\n".join(self.log))

    async def _read_log(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        while line := await self._process.stderr.readline():
            self.log.append(line.decode(errors="replace").rstrip())


def _sshd_config(address: str, port: int, host_key: Path, authorized: Path, pid_file: Path) -> str:
    return "\n".join(
        [
            f"Port {port}",
            f"ListenAddress {address}",
            f"HostKey {host_key}",
            f"AuthorizedKeysFile {authorized}",
            f"PidFile {pid_file}",
            "StrictModes no",
            "UsePAM no",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "AllowTcpForwarding yes",
            "UseDNS no",
            "PrintMotd no",
            "LogLevel INFO",
            "MaxStartups 100",
            "MaxSessions 50",
            "Subsystem sftp internal-sftp",
            "",
        ]
    )
