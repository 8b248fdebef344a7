"""GitSource against real repositories made with the git CLI, served as paths, file:// URLs,
a real OpenSSH server (key through ssh-agent) and git's smart HTTP backend (token)."""

from __future__ import annotations

import asyncio
import base64
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from core.errors import HoistError, NotFoundError, UsageError
from core.keys import generate_key
from core.source.git import GitAuth, GitSource

AUTHOR = "Ada Lovelace"
TMP = Path(tempfile.gettempdir())


def day(n: int) -> datetime:
    return datetime(2024, 1, n, 12, 0, tzinfo=UTC)


def git(cwd: Path, *args: str, on: int = 1) -> str:
    """Run git in `cwd` as Ada, with commit and tag dates on January `on`, 2024."""
    when = day(on).isoformat()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": AUTHOR,
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": AUTHOR,
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)
    return done.stdout.decode().strip()


def commit(repo: Path, subject: str, on: int) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", subject, on=on)
    return git(repo, "rev-parse", "HEAD")


@dataclass
class Upstream:
    path: Path
    sha: dict[str, str] = field(default_factory=dict)


def make_upstream(path: Path) -> Upstream:
    """main: c1 (tag v1.0, branch old-branch) → c2 (annotated v1.1) → c4; feature/x: c2 → c3."""
    up = Upstream(path)
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("hello\n")
    (path / "run.sh").write_text("#!/bin/sh\necho run\n")
    (path / "run.sh").chmod(0o755)
    (path / "lib").mkdir()
    (path / "lib" / "data.txt").write_text("data\n")
    (path / "readme-link").symlink_to("README.md")
    up.sha["c1"] = commit(path, "initial import", on=1)
    git(path, "branch", "old-branch")
    git(path, "tag", "v1.0")
    (path / "README.md").write_text("hello, feature\n")
    up.sha["c2"] = commit(path, "add feature", on=2)
    git(path, "tag", "-a", "v1.1", "-m", "release 1.1", on=3)
    git(path, "checkout", "-q", "-b", "feature/x")
    (path / "lib" / "x.txt").write_text("x\n")
    up.sha["c3"] = commit(path, "feature work", on=4)
    git(path, "checkout", "-q", "main")
    (path / "lib" / "data.txt").write_text("fixed data\n")
    up.sha["c4"] = commit(path, "fix bug", on=5)
    return up


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    return make_upstream(tmp_path / "upstream")


@pytest.fixture
async def source(tmp_path: Path, upstream: Upstream) -> GitSource:
    src = GitSource(tmp_path / "mirrors")
    await src.ensure_mirror("shop", str(upstream.path))
    return src


# Mirroring


async def test_mirror_is_bare_and_fetch_picks_up_a_new_commit(
    tmp_path: Path, upstream: Upstream
) -> None:
    src = GitSource(tmp_path / "mirrors")
    url = upstream.path.as_uri()
    path = await src.ensure_mirror("shop", url)
    assert path == tmp_path / "mirrors" / "shop.git"
    assert (path / "HEAD").is_file() and not (path / ".git").exists()
    (upstream.path / "new.txt").write_text("new\n")
    c5 = commit(upstream.path, "newer", on=6)
    await src.ensure_mirror("shop", url, fetch=False)
    assert (await src.resolve("shop", "main")).sha == upstream.sha["c4"]
    await src.ensure_mirror("shop", url)
    assert (await src.resolve("shop", "main")).sha == c5


async def test_fetch_prunes_a_deleted_branch(source: GitSource, upstream: Upstream) -> None:
    git(upstream.path, "branch", "-D", "old-branch")
    await source.ensure_mirror("shop", str(upstream.path))
    assert [b.name for b in await source.branches("shop")] == ["main", "feature/x"]


async def test_concurrent_fetches_of_one_mirror_both_succeed(
    tmp_path: Path, upstream: Upstream
) -> None:
    src = GitSource(tmp_path / "mirrors")
    paths = await asyncio.gather(*(src.ensure_mirror("shop", str(upstream.path)) for _ in "ab"))
    assert paths[0] == paths[1]
    assert [p.name for p in (tmp_path / "mirrors").iterdir()] == ["shop.git"]
    assert (await src.resolve("shop", "main")).sha == upstream.sha["c4"]


async def test_unreachable_repository_is_a_clear_error(tmp_path: Path) -> None:
    src = GitSource(tmp_path / "mirrors")
    missing = tmp_path / "no-such-repo"
    with pytest.raises(HoistError) as caught:
        await src.ensure_mirror("ghost", str(missing))
    message = str(caught.value)
    assert message.startswith(f"cannot fetch `{missing}`: ")
    assert "does not exist" in message and "\n" not in message
    assert list((tmp_path / "mirrors").iterdir()) == []  # no half-made mirror left behind


async def test_a_password_in_the_url_is_scrubbed_from_errors(tmp_path: Path) -> None:
    src = GitSource(tmp_path / "mirrors")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HoistError, match="cannot fetch") as caught:
        await src.ensure_mirror("shop", f"http://bob:s3cr3tpw@127.0.0.1:{port}/repo.git")
    assert "s3cr3tpw" not in str(caught.value)
    assert f"http://bob:***@127.0.0.1:{port}/repo.git" in str(caught.value)


async def test_inherited_git_variables_do_not_move_git_off_the_mirror(
    tmp_path: Path, source: GitSource, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitPython hands git Hoist's whole environment: whatever there would point git at another
    repository, object store, namespace or config, or make it trace, is pinned or switched off."""
    elsewhere = tmp_path / "elsewhere"  # every path below lies under it; git must create none
    for name in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_COMMON_DIR",
        "GIT_CONFIG",  # where `git config` would write the mirror's URL
    ):
        monkeypatch.setenv(name, str(elsewhere / name))
    traces = [tmp_path / name for name in ("GIT_TRACE", "GIT_TRACE_PACKET", "GIT_TRACE2_EVENT")]
    for trace in traces:  # in a directory that exists: git would write them
        monkeypatch.setenv(trace.name, str(trace))
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    (other / "alien.txt").write_text("not in shop\n")
    alien = commit(other, "alien", on=9)
    monkeypatch.setenv("GIT_ALTERNATE_OBJECT_DIRECTORIES", str(other / ".git" / "objects"))
    monkeypatch.setenv("GIT_NAMESPACE", "other")  # would make `fetch --prune` drop every ref
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'protocol.file.allow=never'")  # a parent's -c
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "protocol.allow")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "never")
    (upstream.path / "new.txt").write_text("new\n")
    c5 = commit(upstream.path, "newer", on=6)
    await source.ensure_mirror("shop", str(upstream.path))  # config, then fetch --prune
    assert [b.name for b in await source.branches("shop")] == ["main", "feature/x", "old-branch"]
    assert [t.sha for t in await source.tags("shop")] == [upstream.sha["c2"], upstream.sha["c1"]]
    assert (await source.resolve("shop", "main")).sha == c5
    assert [c.subject for c in await source.commits("shop", "v1.1")] == [
        "add feature",
        "initial import",
    ]
    assert (await source.log_between("shop", "v1.1", "main"))[1] == 2
    await source.checkout("shop", "main", tmp_path / "ws")
    assert sorted(p.name for p in (tmp_path / "ws").iterdir()) == [
        "README.md",
        "lib",
        "new.txt",
        "readme-link",
        "run.sh",
    ]
    copy = await source.ensure_mirror("copy", upstream.path.as_uri())  # a clone, too
    assert (copy / "objects" / "pack").is_dir()
    assert (await source.resolve("copy", "main")).sha == c5
    with pytest.raises(NotFoundError, match="unknown ref"):
        await source.resolve("shop", alien)  # only in the alternate store
    assert not elsewhere.exists()
    assert not any(trace.exists() for trace in traces)


async def test_hoists_own_askpass_is_not_used(
    tmp_path: Path, http_git: HttpGit, monkeypatch: pytest.MonkeyPatch
) -> None:
    askpass = tmp_path / "operator" / "askpass.sh"
    askpass.parent.mkdir()
    answers = f"Username*) echo x-access-token ;; *) echo {http_git.token} ;;"
    askpass.write_text(f'#!/bin/sh\ncase "$1" in {answers} esac\n')
    askpass.chmod(0o700)
    plain = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_ASKPASS": str(askpass)}
    ls_remote = ["git", "ls-remote", http_git.url]
    assert subprocess.run(ls_remote, env=plain, capture_output=True).returncode == 0  # it works
    for name in ("GIT_ASKPASS", "SSH_ASKPASS"):
        monkeypatch.setenv(name, str(askpass))
    monkeypatch.setenv("SSH_ASKPASS_REQUIRE", "force")
    with pytest.raises(HoistError, match="cannot fetch"):
        await GitSource(tmp_path / "mirrors").ensure_mirror("private", http_git.url)


async def test_a_fetch_that_hangs_is_killed_at_the_timeout(tmp_path: Path) -> None:
    src = GitSource(tmp_path / "mirrors", fetch_timeout=1.0)
    with socket.socket() as sock:  # connections complete, but nothing ever answers
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/repo.git"
        with pytest.raises(HoistError) as caught:
            await src.ensure_mirror("shop", url)
    assert str(caught.value) == f"cannot fetch `{url}`: timed out after 1 s"
    assert list((tmp_path / "mirrors").iterdir()) == []


async def test_git_missing_is_a_clear_error(
    source: GitSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(HoistError, match="^git for-each-ref in `shop`: cannot run git: No such"):
        await source.branches("shop")


async def test_a_malformed_slug_is_a_usage_error(tmp_path: Path, upstream: Upstream) -> None:
    src = GitSource(tmp_path / "mirrors")
    for slug in ("../etc", "-x", "a/b", ""):
        with pytest.raises(UsageError, match="not a valid project slug"):
            await src.ensure_mirror(slug, str(upstream.path))
    assert not (tmp_path / "mirrors").exists()


async def test_reading_before_any_fetch_says_so(tmp_path: Path) -> None:
    with pytest.raises(HoistError, match="project `shop` has no git mirror yet"):
        await GitSource(tmp_path / "mirrors").branches("shop")


# Listing for pickers


async def test_branches_newest_first(source: GitSource, upstream: Upstream) -> None:
    branches = await source.branches("shop")
    assert [(b.name, b.kind, b.sha, b.date) for b in branches] == [
        ("main", "branch", upstream.sha["c4"], day(5)),
        ("feature/x", "branch", upstream.sha["c3"], day(4)),
        ("old-branch", "branch", upstream.sha["c1"], day(1)),
    ]


async def test_tags_newest_first_with_annotated_tags_peeled(
    source: GitSource, upstream: Upstream
) -> None:
    tags = await source.tags("shop")
    assert [(t.name, t.kind, t.sha, t.date) for t in tags] == [
        ("v1.1", "tag", upstream.sha["c2"], day(3)),  # tagger date, commit under the tag
        ("v1.0", "tag", upstream.sha["c1"], day(1)),
    ]


async def test_commits_newest_first_with_subject_and_author(
    source: GitSource, upstream: Upstream
) -> None:
    commits = await source.commits("shop", "main")
    assert [c.subject for c in commits] == ["fix bug", "add feature", "initial import"]
    assert commits[0].sha == upstream.sha["c4"] and commits[0].date == day(5)
    assert {c.author for c in commits} == {AUTHOR}
    assert [c.subject for c in await source.commits("shop", "feature/x", limit=2)] == [
        "feature work",
        "add feature",
    ]


# Resolving refs


async def test_resolve_branch_tag_and_shas(source: GitSource, upstream: Upstream) -> None:
    sha = upstream.sha
    assert (await source.resolve("shop", "main")).sha == sha["c4"]
    assert (await source.resolve("shop", "feature/x")).subject == "feature work"
    assert (await source.resolve("shop", "v1.1")).sha == sha["c2"]  # annotated: peeled
    assert (await source.resolve("shop", "v1.0")).sha == sha["c1"]
    assert (await source.resolve("shop", sha["c3"][:7])).sha == sha["c3"]
    assert (await source.resolve("shop", sha["c1"])).subject == "initial import"


async def test_a_resolved_sha_stays_put_when_the_branch_moves(
    tmp_path: Path, source: GitSource, upstream: Upstream
) -> None:
    resolved = await source.resolve("shop", "main")
    (upstream.path / "README.md").write_text("moved on\n")
    commit(upstream.path, "move main", on=7)
    await source.ensure_mirror("shop", str(upstream.path))
    assert (await source.resolve("shop", "main")).sha != resolved.sha
    assert resolved.sha == upstream.sha["c4"]
    await source.checkout("shop", resolved.sha, tmp_path / "ws")
    assert (tmp_path / "ws" / "README.md").read_text() == "hello, feature\n"


async def test_an_unknown_ref_names_the_project_and_the_closest_refs(source: GitSource) -> None:
    with pytest.raises(NotFoundError) as caught:
        await source.resolve("shop", "mian")
    assert str(caught.value) == "unknown ref `mian` in project `shop`; did you mean `main`?"
    with pytest.raises(NotFoundError, match="unknown ref `0123abcd` in project `shop`"):
        await source.commits("shop", "0123abcd")


async def test_a_shell_expression_is_just_an_unknown_ref(tmp_path: Path, source: GitSource) -> None:
    pwned = TMP / f"pwned_{secrets.token_hex(8)}"
    for ref in (f"$(touch {pwned})", f"`touch {pwned}`", f"main;touch {pwned}"):
        calls = [
            source.resolve("shop", ref),
            source.commits("shop", ref),
            source.log_between("shop", "main", ref),
            source.checkout("shop", ref, tmp_path / "ws"),
        ]
        for call in calls:
            with pytest.raises(NotFoundError, match="unknown ref"):
                await call
    assert not pwned.exists()


async def test_revision_expressions_are_not_refs(source: GitSource) -> None:
    for ref in ("main~1", "main^", "main@{0}", "v1.1^{}", "main:README.md", "main..v1.0"):
        with pytest.raises(NotFoundError, match="unknown ref"):
            await source.resolve("shop", ref)


async def test_option_like_refs_are_unknown(tmp_path: Path, source: GitSource) -> None:
    out = tmp_path / "written-by-git"
    for ref in (f"--output={out}", "-h", f"--upload-pack=touch {out}", "--all"):
        with pytest.raises(NotFoundError, match="unknown ref"):
            await source.commits("shop", ref)
        with pytest.raises(NotFoundError, match="unknown ref"):
            await source.resolve("shop", ref)
    assert not out.exists()


# Log between releases, checkout


async def test_log_between_counts_all_and_lists_some(source: GitSource, upstream: Upstream) -> None:
    sha = upstream.sha
    commits, total = await source.log_between("shop", sha["c1"], sha["c4"], limit=1)
    assert ([c.subject for c in commits], total) == (["fix bug"], 2)
    commits, total = await source.log_between("shop", "v1.0", "feature/x")
    assert ([c.subject for c in commits], total) == (["feature work", "add feature"], 2)
    assert await source.log_between("shop", sha["c4"], sha["c1"]) == ([], 0)


async def test_checkout_writes_the_tree_with_modes_and_symlinks_and_no_git(
    tmp_path: Path, source: GitSource, upstream: Upstream
) -> None:
    ws = tmp_path / "ws"
    await source.checkout("shop", upstream.sha["c4"], ws)
    found = sorted(str(p.relative_to(ws)) for p in ws.rglob("*"))
    assert found == ["README.md", "lib", "lib/data.txt", "readme-link", "run.sh"]
    assert os.access(ws / "run.sh", os.X_OK) and not os.access(ws / "README.md", os.X_OK)
    assert (ws / "readme-link").is_symlink()
    assert os.readlink(ws / "readme-link") == "README.md"
    assert (ws / "lib" / "data.txt").read_text() == "fixed data\n"


async def test_checkout_refuses_a_workspace_that_is_not_empty(
    tmp_path: Path, source: GitSource
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "stale").write_text("old\n")
    with pytest.raises(HoistError, match="is not empty"):
        await source.checkout("shop", "main", ws)
    assert [p.name for p in ws.iterdir()] == ["stale"]


def test_git_auth_repr_never_shows_secrets() -> None:
    auth = GitAuth(ssh_private_key="-----BEGIN KEY-----\nSECRETKEY\n", https_token="tok3n")
    for text in (repr(auth), str(auth), f"{auth}"):
        assert "SECRETKEY" not in text and "tok3n" not in text
    assert repr(auth) == "GitAuth(ssh_private_key=<set>, https_token=<set>)"


# Private repositories: helpers


def key_lines(private: str) -> list[str]:
    """The lines of an OpenSSH key's body that are unique to it (not the common magic)."""
    return [line for line in private.strip().splitlines()[2:-1] if len(line) > 16]


def files_containing(roots: list[Path], needles: list[str]) -> list[Path]:
    """Files under `roots` holding any of `needles` (files vanishing meanwhile are skipped)."""
    found = []
    for root in roots:
        for path in [root] if root.is_file() else root.rglob("*"):
            try:
                data = b"" if path.is_symlink() or not path.is_file() else path.read_bytes()
            except OSError:
                continue
            if any(needle.encode() in data for needle in needles):
                found.append(path)
    return found


def my_ssh_agents() -> list[str]:
    """Command lines of ssh-agent processes this test process started and left running."""
    agents = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and cmdline.startswith("ssh-agent"):
            agents.append(cmdline)
    return agents


_WRITES: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _WRITES is not None and event == "open":
        path, mode, flags = args
        if isinstance(path, int) or path == os.devnull:  # pipes, /dev/null: not files
            return
        if (mode and set(str(mode)) & set("wax+")) or (flags or 0) & (os.O_WRONLY | os.O_RDWR):
            _WRITES.append(str(path))


sys.addaudithook(_audit)


# Private repositories over SSH: a real sshd on a loopback port


@dataclass
class SshServer:
    url: str
    port: int
    private_key: str
    host_key: str  # the server's public key, as `ssh-ed25519 AAAA…`
    seen: Path  # what the probe listed in the temp dir while git was connected
    capture: Path  # every file of Hoist's temp dirs, concatenated, at that moment


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sshd_config(tmp: Path, port: int) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / "host")], check=True
    )
    config = tmp / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {tmp / 'host'}\n"
        f"AuthorizedKeysFile {tmp / 'authorized_keys'}\nPidFile none\nStrictModes no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "PermitRootLogin prohibit-password\n"
    )
    return config


def probe_script(tmp: Path, seen: Path, capture: Path) -> Path:
    """A forced command: record Hoist's temp files while git is connected, then serve git."""
    probe = tmp / "probe.sh"
    hoist_dirs = f"{TMP}/hoist-git-*"
    probe.write_text(
        "#!/bin/sh\n"
        f"find {hoist_dirs} > {seen} 2>/dev/null\n"
        f"find {hoist_dirs} -type f -exec cat {{}} + > {capture} 2>/dev/null\n"
        'exec sh -c "$SSH_ORIGINAL_COMMAND"\n'
    )
    probe.chmod(0o755)
    return probe


def start_sshd(config: Path) -> subprocess.Popen[bytes]:
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    assert proc.stderr is not None
    lines = []
    for raw in proc.stderr:  # sshd says so once it listens
        lines.append(raw.decode(errors="replace").strip())
        if "Server listening" in lines[-1]:
            return proc
    proc.wait()
    proc.stderr.close()
    pytest.skip(f"sshd did not start: {' / '.join(lines)}")


@pytest.fixture
def sshd(tmp_path: Path, upstream: Upstream) -> Iterator[SshServer]:
    if not (shutil.which("sshd") or Path("/usr/sbin/sshd").exists()):
        pytest.skip("OpenSSH server not installed (apt-get install openssh-server)")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation dir
    tmp = tmp_path / "sshd"
    tmp.mkdir()
    key = generate_key("hoist-test")  # in memory: the test never writes it to a file
    probe = probe_script(tmp, tmp / "seen", tmp / "capture")
    (tmp / "authorized_keys").write_text(f'command="{probe}",no-pty {key.public}\n')
    port = free_port()
    proc = start_sshd(sshd_config(tmp, port))
    url = f"ssh://{pwd.getpwuid(os.geteuid()).pw_name}@127.0.0.1:{port}{upstream.path}"
    with proc:
        host_key = " ".join((tmp / "host.pub").read_text().split()[:2])
        yield SshServer(url, port, key.private, host_key, tmp / "seen", tmp / "capture")
        proc.terminate()


async def test_ssh_key_reaches_git_through_a_short_lived_agent_only(
    tmp_path: Path, sshd: SshServer, upstream: Upstream
) -> None:
    global _WRITES
    src = GitSource(tmp_path / "mirrors", known_hosts=tmp_path / "known_hosts")
    with pytest.raises(HoistError, match="Permission denied"):
        await src.ensure_mirror("private", sshd.url)  # without the key: refused
    _WRITES = []
    try:
        await src.ensure_mirror("private", sshd.url, GitAuth(ssh_private_key=sshd.private_key))
        written, _WRITES = _WRITES, None
    finally:
        _WRITES = None
    assert (await src.resolve("private", "main")).sha == upstream.sha["c4"]
    assert written == []  # Hoist opened no file for writing during the fetch
    assert "agent.sock" in sshd.seen.read_text()  # the probe ran while the agent lived
    secret = key_lines(sshd.private_key)
    assert secret and not files_containing([sshd.capture], secret)
    assert not files_containing([tmp_path, *TMP.glob("hoist-git-*")], secret)
    assert my_ssh_agents() == []
    pinned = subprocess.run(
        ["ssh-keygen", "-F", f"[127.0.0.1]:{sshd.port}", "-f", str(tmp_path / "known_hosts")],
        capture_output=True,
        text=True,
    )
    assert sshd.host_key in pinned.stdout  # first use pinned in Hoist's known_hosts


async def test_hoists_own_ssh_agent_is_not_offered(
    tmp_path: Path, sshd: SshServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sock = tmp_path / "agent.sock"
    argv = ["ssh-agent", "-D", "-a", str(sock)]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as agent:
        try:
            assert agent.stdout is not None and agent.stdout.readline().startswith(b"SSH_AUTH")
            env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SSH_AUTH_SOCK": str(sock)}
            add = ["ssh-add", "-q", "-"]
            subprocess.run(add, input=sshd.private_key.encode(), env=env, check=True)
            ssh = "ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
            ls_remote = ["git", "ls-remote", sshd.url]
            done = subprocess.run(
                ls_remote, env={**env, "GIT_SSH_COMMAND": ssh}, capture_output=True
            )
            assert done.returncode == 0  # the agent does get git in
            monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
            src = GitSource(tmp_path / "mirrors", known_hosts=tmp_path / "known_hosts")
            with pytest.raises(HoistError, match="Permission denied"):
                await src.ensure_mirror("private", sshd.url)  # Hoist's agent is not offered
        finally:
            agent.kill()


async def test_a_wrong_ssh_key_fails_cleanly_without_leaking_it(
    tmp_path: Path, sshd: SshServer
) -> None:
    wrong = generate_key("wrong").private
    src = GitSource(tmp_path / "mirrors", known_hosts=tmp_path / "known_hosts")
    with pytest.raises(HoistError) as caught:
        await src.ensure_mirror("private", sshd.url, GitAuth(ssh_private_key=wrong))
    assert str(caught.value).startswith(f"cannot fetch `{sshd.url}`: ")
    assert "Permission denied" in str(caught.value)
    assert not any(line in str(caught.value) for line in key_lines(wrong))
    assert my_ssh_agents() == []
    assert not (tmp_path / "mirrors" / "private.git").exists()


async def test_a_malformed_ssh_key_is_a_clear_error(tmp_path: Path, sshd: SshServer) -> None:
    src = GitSource(tmp_path / "mirrors", known_hosts=tmp_path / "known_hosts")
    bogus = "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbCwgc29ycnk=\n"
    with pytest.raises(HoistError, match="cannot load the project's SSH key") as caught:
        await src.ensure_mirror("private", sshd.url, GitAuth(ssh_private_key=bogus))
    assert "bm90IGEga2V5" not in str(caught.value)
    assert my_ssh_agents() == []


# Private repositories over HTTPS-style token auth: git's smart HTTP backend behind Basic auth


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class HttpGit:
    url: str
    token: str
    probes: list[tuple[bool, list[Path]]]  # per authorised request: askpass exists, leaks


def git_http_app(root: Path, token: str, mirrors: Path, probes: list[Any]) -> Any:
    expected = "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("HTTP_AUTHORIZATION") != expected:
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="git"')])
            return [b""]
        askpass = mirrors / ".askpass.sh"
        leaks = files_containing([mirrors, *TMP.glob("hoist-git-*")], [token])
        probes.append((askpass.is_file(), leaks))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        cgi = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": environ["REQUEST_METHOD"],
            "PATH_INFO": environ["PATH_INFO"],
            "QUERY_STRING": environ.get("QUERY_STRING", ""),
            "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""),
            "GIT_PROTOCOL": environ.get("HTTP_GIT_PROTOCOL", ""),
            "HTTP_CONTENT_ENCODING": environ.get("HTTP_CONTENT_ENCODING", ""),
        }
        out = subprocess.run(["git", "http-backend"], input=body, env=cgi, capture_output=True)
        head, _, payload = out.stdout.partition(b"\r\n\r\n")
        status, headers = "200 OK", []
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(": ")
            if name == "Status":
                status = value
            elif name:
                headers.append((name, value))
        start_response(status, headers)
        return [payload]

    return app


@pytest.fixture
def http_git(tmp_path: Path, upstream: Upstream) -> Iterator[HttpGit]:
    served = tmp_path / "served"
    served.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(upstream.path), str(served / "repo.git"))
    token = secrets.token_urlsafe(24)
    probes: list[Any] = []
    app = git_http_app(served, token, tmp_path / "mirrors", probes)
    server = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield HttpGit(f"http://127.0.0.1:{server.server_port}/repo.git", token, probes)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


async def test_https_token_reaches_git_through_askpass_env_only(
    tmp_path: Path, http_git: HttpGit, upstream: Upstream
) -> None:
    src = GitSource(tmp_path / "mirrors")
    with pytest.raises(HoistError, match="cannot fetch"):
        await src.ensure_mirror("private", http_git.url)  # no token: refused
    await src.ensure_mirror("private", http_git.url, GitAuth(https_token=http_git.token))
    assert (await src.resolve("private", "v1.1")).sha == upstream.sha["c2"]
    assert http_git.probes and all(askpass for askpass, _ in http_git.probes)
    assert all(leaks == [] for _, leaks in http_git.probes)  # no file held it mid-fetch
    assert not files_containing([tmp_path], [http_git.token])
    await src.ensure_mirror("private", http_git.url, GitAuth(https_token=http_git.token))


async def test_a_wrong_token_fails_without_showing_it(tmp_path: Path, http_git: HttpGit) -> None:
    src = GitSource(tmp_path / "mirrors")
    wrong = secrets.token_urlsafe(24)
    with pytest.raises(HoistError) as caught:
        await src.ensure_mirror("private", http_git.url, GitAuth(https_token=wrong))
    assert str(caught.value).startswith(f"cannot fetch `{http_git.url}`: ")
    assert wrong not in str(caught.value) and http_git.token not in str(caught.value)
