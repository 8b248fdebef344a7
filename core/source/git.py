"""The git adapter: a bare mirror per project, listings for pickers, refs resolved, checkouts.

Every git command runs through GitPython's `Git.execute` with an argument list (never a shell),
in a worker thread, so callers see an async API and only `HoistError`s. A ref is data: it is
checked with `git check-ref-format` and handed to git after `--end-of-options`. A listing is one
`for-each-ref` or one `log` call, parsed here: GitPython's Ref and Commit objects are not walked.

`Git.execute` starts git from a copy of Hoist's whole environment (plus LC_ALL=C), so git, and
the ssh and helpers it runs, see Hoist's variables. What would change git's behaviour is pinned
instead: the repository by `--git-dir` (`--work-tree` and a private GIT_INDEX_FILE to check out,
`config --file` to write config), an inherited GIT_OBJECT_DIRECTORY, GIT_COMMON_DIR or
GIT_WORK_TREE by the mirror's own (`_pinned`), and alternates, namespaces, injected config,
askpass programs, Hoist's own ssh-agent and tracing by values that switch them off (`_GIT_ENV`).
ssh-agent and ssh-add are not git: they run as plain subprocesses with a minimal environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import logging
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from git import Git
from git.exc import GitCommandError, GitCommandNotFound

from core.errors import HoistError, NotFoundError, UsageError
from core.source.package import Archive, write_tar

_log = logging.getLogger(__name__)

_SEP = "\x1f"
_COMMIT_FORMAT = "--format=%H%x1f%s%x1f%an%x1f%cI"
_REF_FORMAT = (
    "--format=%(refname:lstrip=2)%1f%(objectname)%1f%(*objectname)%1f%(creatordate:iso-strict)"
)
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_HEX = re.compile(r"[0-9a-fA-F]{4,64}")
_URL_PASSWORD = re.compile(r"(://[^/@\s:]*):[^/@\s]*@")
_UNKNOWN_REV = ("bad revision", "unknown revision", "ambiguous", "bad object")
_READ_TIMEOUT = 60.0
_NETWORK_CONFIG = ("-c", "credential.helper=", "-c", "gc.autoDetach=false")
_TRACES = (
    "GIT_TRACE",
    "GIT_TRACE2",
    "GIT_TRACE2_EVENT",
    "GIT_TRACE2_PERF",
    "GIT_TRACE_CURL",
    "GIT_TRACE_FSMONITOR",
    "GIT_TRACE_PACKET",
    "GIT_TRACE_PACKFILE",
    "GIT_TRACE_PACK_ACCESS",
    "GIT_TRACE_PERFORMANCE",
    "GIT_TRACE_REFS",
    "GIT_TRACE_SETUP",
    "GIT_TRACE_SHALLOW",
)
# Layered over the inherited environment of every git command: each value means "off". No
# prompt and no askpass program (GIT_ASKPASS set but empty also skips core.askPass and
# SSH_ASKPASS); no ssh-agent but a project key's own; no extra object stores or namespace (a
# namespace would make `fetch --prune` drop every ref); no config injected by a parent git's
# `-c`; no tracing, which would put trace lines where git's error should be and could copy
# URLs and protocol to a file.
_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",
    "SSH_AUTH_SOCK": "",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES": "",
    "GIT_NAMESPACE": "",
    "GIT_CONFIG_PARAMETERS": "",
    "GIT_CONFIG_COUNT": "0",
    "GIT_TRACE_REDACT": "1",
    **dict.fromkeys(_TRACES, "0"),
}
_GIT = Git()  # no working directory of its own: git runs in Hoist's, as a relative URL expects
_ASKPASS = """#!/bin/sh
# Hoist's GIT_ASKPASS helper: it answers from its environment and holds no secret itself.
case "$1" in
  Username*) printf '%s\\n' "$HOIST_GIT_USERNAME" ;;
  *) printf '%s\\n' "$HOIST_GIT_TOKEN" ;;
esac
"""


@dataclass(frozen=True)
class Commit:
    """A commit as pickers and task messages show it; `date` is the committer date."""

    sha: str
    subject: str
    author: str
    date: datetime


@dataclass(frozen=True)
class RefInfo:
    """A branch or tag; `sha` is the commit it points at (annotated tags peeled)."""

    name: str
    kind: Literal["branch", "tag"]
    sha: str
    date: datetime


@dataclass(frozen=True, repr=False)
class GitAuth:
    """Credentials for a private repository: an OpenSSH private key or an HTTPS token."""

    ssh_private_key: str | None = None
    https_token: str | None = None

    def __repr__(self) -> str:
        key = "<set>" if self.ssh_private_key else None
        token = "<set>" if self.https_token else None
        return f"GitAuth(ssh_private_key={key}, https_token={token})"


def _show(text: str, limit: int = 100) -> str:
    """`text` fit for a one-line message: printable and at most `limit` characters."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text[:limit])
    return clean + ("…" if len(text) > limit else "")


def _scrub(text: str, auth: GitAuth | None = None) -> str:
    """`text` without a URL's password, the auth token or any line of the auth key."""
    text = _URL_PASSWORD.sub(r"\1:***@", text)
    secrets = [auth.https_token or ""] if auth else []
    if auth and auth.ssh_private_key:
        secrets += [line for line in auth.ssh_private_key.splitlines() if len(line) > 16]
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _first_line(stderr: str, returncode: int) -> str:
    """The first line of a program's stderr worth showing, without `fatal: ` and the like."""
    for raw in stderr.splitlines():
        line = raw.strip()
        if line and not line.lower().startswith(("hint:", "warning:", "cloning into")):
            return _show(re.sub(r"^(fatal|error): ", "", line), limit=400)
    return f"exited with status {returncode}"


def _base_env() -> dict[str, str]:
    """ssh-agent's and ssh-add's environment: PATH, HOME and LANG from Hoist's, no prompts."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def _pinned(git_dir: Path) -> dict[str, str]:
    """GIT_OBJECT_DIRECTORY, GIT_COMMON_DIR and GIT_WORK_TREE, if inherited, set to `git_dir`'s.

    `--git-dir` beats GIT_DIR, but these would still send git elsewhere (GIT_WORK_TREE under a
    missing directory stops every command). Only when inherited: the first two, set at all, make
    `git clone` of a local path fail. A work tree is only ever used to check out, where
    `--work-tree` names it.
    """
    own = {
        "GIT_OBJECT_DIRECTORY": str(git_dir / "objects"),
        "GIT_COMMON_DIR": str(git_dir),
        "GIT_WORK_TREE": str(git_dir),
    }
    return {name: value for name, value in own.items() if name in os.environ}


def _execute(
    args: Sequence[str], env: Mapping[str, str], timeout: float, *, what: str
) -> tuple[int, bytes, str]:
    """Run `git *args` through GitPython: (status, stdout, stderr).

    HoistError if git can't start or runs past `timeout` (GitPython kills it and its children).
    """
    argv = [str(Git.GIT_PYTHON_GIT_EXECUTABLE or "git"), *args]
    started = time.monotonic()
    try:
        status, out, err = _GIT.execute(
            argv,
            env={**_GIT_ENV, **env},
            with_extended_output=True,
            with_exceptions=False,
            stdout_as_string=False,
            kill_after_timeout=timeout,
            start_new_session=True,
        )
    except GitCommandNotFound as exc:
        cause = exc.status
        reason = cause.strerror if isinstance(cause, OSError) else str(cause)
        raise HoistError(f"{what}: cannot run git: {reason}") from exc
    except GitCommandError as exc:  # not raised with with_exceptions=False, bar on Windows
        raise HoistError(f"{what}: git failed with status {exc.status}") from exc
    except OSError as exc:  # git found but not startable: GitPython lets this through
        raise HoistError(f"{what}: cannot run git: {exc.strerror}") from exc
    if status < 0 and time.monotonic() - started >= timeout:
        raise HoistError(f"{what}: timed out after {timeout:g} s")
    return status, out, err


def _run(
    argv: Sequence[str], env: Mapping[str, str], timeout: float, *, what: str, data: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    """Run a program that is not git (no shell, `data` on stdin); HoistError on failing to
    start or timing out."""
    try:
        return subprocess.run(
            list(argv),
            input=data,
            capture_output=True,
            env=dict(env),
            timeout=timeout,
            check=False,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired as exc:
        raise HoistError(f"{what}: timed out after {timeout:g} s") from exc
    except OSError as exc:
        raise HoistError(f"{what}: cannot run {argv[0]}: {exc.strerror}") from exc


def _ssh_command(known_hosts: Path) -> str:
    """GIT_SSH_COMMAND: never prompt; trust a host on first use, pinned in Hoist's own file."""
    options = [
        "BatchMode=yes",
        "IdentitiesOnly=no",
        "StrictHostKeyChecking=accept-new",
        f"UserKnownHostsFile={known_hosts}",
        "LogLevel=ERROR",
        "ConnectTimeout=20",
    ]
    return shlex.join(["ssh", *(part for option in options for part in ("-o", option))])


@contextlib.contextmanager
def _ssh_agent(tmp: Path, key: str) -> Iterator[dict[str, str]]:
    """A private ssh-agent holding `key`, fed on stdin; killed when the block ends."""
    sock = str(tmp / "agent.sock")
    argv = ["ssh-agent", "-D", "-a", sock]
    try:
        agent = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_base_env(),
            start_new_session=True,
        )
    except OSError as exc:
        raise HoistError(f"cannot start ssh-agent: {exc.strerror}") from exc
    with agent:
        try:
            assert agent.stdout is not None
            if not agent.stdout.readline().startswith(b"SSH_AUTH_SOCK="):  # printed once bound
                raise HoistError("cannot start ssh-agent: it exited at once")
            _add_key({**_base_env(), "SSH_AUTH_SOCK": sock}, key)
            yield {"SSH_AUTH_SOCK": sock}
        finally:
            agent.kill()


def _add_key(env: dict[str, str], key: str) -> None:
    """Load `key` into the agent at env's SSH_AUTH_SOCK through `ssh-add -` (stdin)."""
    what = "cannot load the project's SSH key into ssh-agent"
    env = {**env, "SSH_ASKPASS_REQUIRE": "never"}
    argv = ["ssh-add", "-q", "-t", "900", "-"]
    done = _run(argv, env, 30.0, what=what, data=(key.strip() + "\n").encode())
    if done.returncode != 0:
        reason = _first_line(done.stderr.decode("utf-8", "replace"), done.returncode)
        raise HoistError(f"{what}: {_scrub(reason, GitAuth(ssh_private_key=key))}")


def _askpass_env(root: Path, token: str) -> dict[str, str]:
    """Env for git to read `token` through Hoist's GIT_ASKPASS script (which holds no secret)."""
    script = root / ".askpass.sh"
    try:
        if not script.is_file() or script.read_text() != _ASKPASS:
            partial = root / f".askpass.sh.{os.urandom(4).hex()}"
            partial.write_text(_ASKPASS)
            partial.chmod(0o700)
            partial.replace(script)
    except OSError as exc:
        raise HoistError(f"cannot write the askpass helper {script}: {exc.strerror}") from exc
    return {
        "GIT_ASKPASS": str(script),
        "HOIST_GIT_USERNAME": "x-access-token",
        "HOIST_GIT_TOKEN": token,
    }


@contextlib.contextmanager
def _auth_env(auth: GitAuth | None, root: Path, known_hosts: Path) -> Iterator[dict[str, str]]:
    """What a network git command adds to its environment: ssh, and the agent or askpass its
    auth needs."""
    env = {"GIT_SSH_COMMAND": _ssh_command(known_hosts), "GIT_SSH_VARIANT": "ssh"}
    with contextlib.ExitStack() as stack:
        if auth is not None and auth.ssh_private_key:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="hoist-git-"))
            env.update(stack.enter_context(_ssh_agent(Path(tmp), auth.ssh_private_key)))
        if auth is not None and auth.https_token:
            env.update(_askpass_env(root, auth.https_token))
        yield env


def _parse_date(text: str) -> datetime:
    """A tz-aware datetime from git's strict ISO 8601 (the epoch if git gave none)."""
    return datetime.fromisoformat(text) if text else datetime.fromtimestamp(0, UTC)


def _parse_refs(out: str, kind: Literal["branch", "tag"]) -> list[RefInfo]:
    """RefInfos from `for-each-ref` lines in `_REF_FORMAT`."""
    refs = []
    for line in out.splitlines():
        name, sha, peeled, date = line.split(_SEP)
        refs.append(RefInfo(name, kind, peeled or sha, _parse_date(date)))
    return refs


def _parse_commits(out: str) -> list[Commit]:
    """Commits from `git log` lines in `_COMMIT_FORMAT`."""
    commits = []
    for line in out.splitlines():
        sha, rest = line.split(_SEP, 1)
        subject, author, date = rest.rsplit(_SEP, 2)
        commits.append(Commit(sha, subject, author, _parse_date(date)))
    return commits


def _empty_dir(path: Path) -> None:
    """Make sure `path` is an empty directory."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        if any(path.iterdir()):
            raise HoistError(f"workspace {path} is not empty")
    except OSError as exc:
        raise HoistError(f"cannot use {path} as a workspace: {exc.strerror}") from exc


class GitSource:
    """Bare mirrors of the projects' repositories under `mirrors_root`, one per slug."""

    def __init__(
        self, mirrors_root: Path, *, known_hosts: Path | None = None, fetch_timeout: float = 600.0
    ) -> None:
        self._root = mirrors_root
        self._known_hosts = known_hosts or mirrors_root / "known_hosts"
        self._fetch_timeout = fetch_timeout
        self._locks: dict[str, asyncio.Lock] = {}

    def mirror_path(self, slug: str) -> Path:
        """Where the bare mirror of project `slug` lives (UsageError for a malformed slug)."""
        if not _SLUG.fullmatch(slug) or ".." in slug:
            raise UsageError(f"`{_show(slug)}` is not a valid project slug")
        return self._root / f"{slug}.git"

    async def ensure_mirror(
        self, slug: str, url: str, auth: GitAuth | None = None, *, fetch: bool = True
    ) -> Path:
        """Clone the project's mirror if it is missing, else fetch (pruning) if `fetch`."""
        path = self.mirror_path(slug)
        async with self._locks.setdefault(slug, asyncio.Lock()):
            await asyncio.to_thread(self._sync_mirror, path, url, auth, fetch)
        return path

    async def branches(self, slug: str) -> list[RefInfo]:
        """The project's branches, most recently committed first."""
        return await asyncio.to_thread(self._refs, slug, "refs/heads/", "branch")

    async def tags(self, slug: str) -> list[RefInfo]:
        """The project's tags, newest first (tagger date, or commit date for light tags)."""
        return await asyncio.to_thread(self._refs, slug, "refs/tags/", "tag")

    async def commits(self, slug: str, ref: str, limit: int = 50) -> list[Commit]:
        """Up to `limit` commits reachable from `ref`, newest first."""
        return await asyncio.to_thread(self._log, slug, ref, limit)

    async def resolve(self, slug: str, ref: str) -> Commit:
        """The commit a branch, tag, or full or short SHA names (NotFoundError if none)."""
        return await asyncio.to_thread(self._resolve, slug, ref)

    async def log_between(
        self, slug: str, old_sha: str, new_sha: str, limit: int = 20
    ) -> tuple[list[Commit], int]:
        """Up to `limit` commits of `old..new`, newest first, and how many there are in all."""
        return await asyncio.to_thread(self._between, slug, old_sha, new_sha, limit)

    async def archive(self, slug: str, sha: str, dest: Path) -> Archive:
        """Package commit `sha`'s tree straight from the mirror (no checkout) into `dest`."""
        return await asyncio.to_thread(self._archive, slug, sha, dest)

    async def checkout(self, slug: str, sha: str, workspace: Path) -> None:
        """Write the tree of commit `sha` into the empty directory `workspace` (no `.git`)."""
        await asyncio.to_thread(self._checkout, slug, sha, workspace)

    # Mirroring (runs in a worker thread).

    def _sync_mirror(self, path: Path, url: str, auth: GitAuth | None, fetch: bool) -> None:
        if (path / "HEAD").is_file():
            if fetch:
                self._fetch(path, url, auth)
            return
        if path.exists():
            _log.warning("replacing %s: it is not a git mirror", path)
            shutil.rmtree(path)
        self._clone(path, url, auth)

    def _clone(self, path: Path, url: str, auth: GitAuth | None) -> None:
        self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=self._root))
        try:
            args = ["clone", "--mirror", "--quiet", "--", url, str(tmp)]
            self._network(args, url, auth, _pinned(tmp))
            try:
                tmp.replace(path)
            except OSError as exc:  # another Hoist process cloned it first: use theirs
                if not (path / "HEAD").is_file():
                    raise HoistError(f"cannot create the mirror {path}: {exc.strerror}") from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _fetch(self, path: Path, url: str, auth: GitAuth | None) -> None:
        git_dir, config = ["--git-dir", str(path)], ["--file", str(path / "config")]
        args = [*git_dir, "config", *config, "--", "remote.origin.url", url]
        what = f"cannot update the mirror {path}"
        status, _, err = _execute(args, _pinned(path), _READ_TIMEOUT, what=what)
        if status != 0:
            raise HoistError(f"{what}: {_first_line(err, status)}")
        args = [*git_dir, "fetch", "--prune", "--quiet", "origin"]
        self._network(args, url, auth, _pinned(path))

    def _network(
        self, args: list[str], url: str, auth: GitAuth | None, pinned: dict[str, str]
    ) -> None:
        what = f"cannot fetch `{_scrub(url, auth)}`"
        with _auth_env(auth, self._root, self._known_hosts) as env:
            argv = [*_NETWORK_CONFIG, *args]
            status, _, err = _execute(argv, {**env, **pinned}, self._fetch_timeout, what=what)
        if status != 0:
            raise HoistError(f"{what}: {_scrub(_first_line(err, status), auth)}")
        _log.info("fetched %s", _scrub(url, auth))

    # Reading the mirror (runs in a worker thread).

    def _git(self, slug: str, *args: str) -> tuple[int, bytes, str]:
        path = self.mirror_path(slug)
        if not (path / "HEAD").is_file():
            raise HoistError(f"project `{slug}` has no git mirror yet: fetch it first")
        argv = ["--git-dir", str(path), *args]
        return _execute(argv, _pinned(path), _READ_TIMEOUT, what=f"git {args[0]} in `{slug}`")

    def _out(self, slug: str, *args: str) -> str:
        status, out, err = self._git(slug, *args)
        if status != 0:
            reason = _first_line(err, status)
            raise HoistError(f"git {args[0]} failed in the mirror of `{slug}`: {reason}")
        return out.decode("utf-8", "replace")

    def _refs(self, slug: str, prefix: str, kind: Literal["branch", "tag"]) -> list[RefInfo]:
        out = self._out(slug, "for-each-ref", "--sort=-creatordate", _REF_FORMAT, prefix)
        return _parse_refs(out, kind)

    def _log(self, slug: str, ref: str, limit: int) -> list[Commit]:
        self._check_ref(slug, ref)
        rev = f"{ref}^{{commit}}"
        status, out, err = self._git(
            slug, "log", f"-n{max(limit, 0)}", _COMMIT_FORMAT, "--end-of-options", rev, "--"
        )
        if status != 0:
            if any(marker in err for marker in _UNKNOWN_REV):
                raise self._unknown(slug, ref)
            reason = _first_line(err, status)
            raise HoistError(f"git log failed in the mirror of `{slug}`: {reason}")
        return _parse_commits(out.decode("utf-8", "replace"))

    def _resolve(self, slug: str, ref: str) -> Commit:
        commits = self._log(slug, ref, 1)
        if not commits:
            raise self._unknown(slug, ref)
        return commits[0]

    def _between(self, slug: str, old: str, new: str, limit: int) -> tuple[list[Commit], int]:
        span = f"{self._resolve(slug, old).sha}..{self._resolve(slug, new).sha}"
        total = int(self._out(slug, "rev-list", "--count", "--end-of-options", span, "--"))
        out = self._out(
            slug, "log", f"-n{max(limit, 0)}", _COMMIT_FORMAT, "--end-of-options", span, "--"
        )
        return _parse_commits(out), total

    def _archive(self, slug: str, sha: str, dest: Path) -> Archive:
        commit = self._resolve(slug, sha)
        status, out, err = self._git(
            slug, "-c", "tar.umask=0022", "archive", "--format=tar", commit.sha
        )
        if status != 0:
            raise HoistError(
                f"cannot package {commit.sha[:12]} of `{slug}`: {_first_line(err, status)}"
            )
        listing = self._out(slug, "ls-tree", "-r", "-z", "--name-only", commit.sha)
        return write_tar(out, dest, listing.count("\0"))

    def _checkout(self, slug: str, sha: str, workspace: Path) -> None:
        commit = self._resolve(slug, sha)
        _empty_dir(workspace)
        path = self.mirror_path(slug)
        argv = ["--git-dir", str(path), "--work-tree", str(workspace)]
        argv += ["read-tree", "-u", "--reset", commit.sha]
        what = f"cannot check out {commit.sha[:12]} of `{slug}`"
        with tempfile.TemporaryDirectory(prefix="hoist-index-") as tmp:
            env = {**_pinned(path), "GIT_INDEX_FILE": str(Path(tmp) / "index")}
            status, _, err = _execute(argv, env, self._fetch_timeout, what=what)
        if status != 0:
            raise HoistError(f"{what}: {_first_line(err, status)}")

    # Refs as data.

    def _check_ref(self, slug: str, ref: str) -> None:
        """NotFoundError unless `ref` is a hex SHA or a well-formed ref name."""
        self.mirror_path(slug)  # a malformed slug is a UsageError before anything else
        if _HEX.fullmatch(ref):
            return
        if not 0 < len(ref) <= 1024 or ref.startswith("-") or "\0" in ref:
            raise self._unknown(slug, ref)
        argv = ["check-ref-format", "--allow-onelevel", ref]
        if _execute(argv, {}, _READ_TIMEOUT, what="git check-ref-format")[0]:
            raise self._unknown(slug, ref)

    def _unknown(self, slug: str, ref: str) -> NotFoundError:
        """The error for an unknown ref, naming the closest branches and tags."""
        message = f"unknown ref `{_show(ref)}` in project `{slug}`"
        close = difflib.get_close_matches(ref, self._ref_names(slug), n=3)
        if close:
            message += "; did you mean " + " or ".join(f"`{name}`" for name in close) + "?"
        return NotFoundError(message)

    def _ref_names(self, slug: str) -> list[str]:
        try:
            names = "--format=%(refname:lstrip=2)"
            out = self._out(slug, "for-each-ref", names, "refs/heads/", "refs/tags/")
        except HoistError:
            return []
        return out.splitlines()
