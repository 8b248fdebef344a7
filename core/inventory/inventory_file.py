"""Reading an inventory file (TOML) into specs, with errors that name the file and line.

[keys.deploy]
user = "deploy"
file = "keys/deploy"          # or: env = "HOIST_DEPLOY_KEY"

[servers.web1]
address = "10.0.0.11"
key = "deploy"
host_key = "10.0.0.11 ssh-ed25519 AAAA…"

[projects.shop]
repo = "git@github.com:acme/shop.git"
digest = "0 17 * * 1-5"       # release digest on weekdays at 17:00 (crontab)
digest_timezone = "Europe/Berlin"

[projects.shop.environments.prod]
path = "/data/prod/"
servers = ["web1"]
approvals = 2
reviewers = ["U012ABCDEF", "U034GHIJKL"]
rollout = { careful = "1 wait, 10%, 50% 10m, 100%", quick = "100%" }
rollout_default = "careful"
max_failed = 0                # failed servers a step may have before the task pauses
auto_rollback = true          # then put this task's switched servers back
pause_reminder = "30m"        # remind the channel of a pause waiting for a person; "0": never

[projects.shop.environments.prod.health]   # or: health = { url = "…", … }
url = "http://{server}:8080/health"        # {server}: the address, {name}: the server's name
status = 200
body = "ok"
command = "systemctl is-active shop"       # run on the server; exit 0 is healthy
timeout = 5                   # seconds (or "90s", "2m") per attempt
passes = 2                    # passes in a row that make the server healthy
interval = 2
wait = "1m"                   # at most, in all

[templates."restart app"]
stage = "post_deploy"
file = "hooks/restart.sh"     # or: script = "…"
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import UsageError
from core.health import spec as health_spec
from core.health.spec import HealthCheck, HealthCheckError
from core.inventory import env_settings
from core.inventory.specs import EnvSpec, KeySpec, ProjectSpec, ServerSpec, TemplateSpec
from core.keys import parse_private_key
from core.scheduling.cron import check_timezone, digest_trigger
from core.status import HookStage

TOP_LEVEL = {"keys", "servers", "projects", "templates"}
KEY_FIELDS = {"user", "file", "env", "passphrase_env"}
SERVER_FIELDS = {"address", "port", "key", "host_key", "labels", "owner", "team", "jump"}
PROJECT_FIELDS = {
    "repo",
    "branch",
    "keep",
    "channel",
    "git_key",
    "digest",
    "digest_timezone",
    "environments",
}
ENV_FIELDS = {
    "path",
    "codes_root",
    "servers",
    "deployers",
    "reviewers",
    "approvals",
    "batch",
    "templates_only",
    "health",
    "rollout",
    "rollout_default",
    "max_failed",
    "auto_rollback",
    "pause_reminder",
}
HEALTH_FIELDS = set(health_spec.KEYS)
TEMPLATE_FIELDS = {"stage", "script", "file"}


@dataclass(frozen=True)
class Inventory:
    keys: list[KeySpec]
    servers: list[ServerSpec]
    projects: list[ProjectSpec]
    envs: list[EnvSpec]
    templates: list[TemplateSpec]

    def servers_in_order(self) -> list[ServerSpec]:
        """Servers with jump hosts after the hosts they jump through."""
        done: set[str] = set()
        ordered: list[ServerSpec] = []
        pending = list(self.servers)
        while pending:
            ready = [
                s
                for s in pending
                if not s.jump or s.jump in done or s.jump not in {p.name for p in pending}
            ]
            if not ready:
                raise UsageError("jump hosts form a loop: " + ", ".join(s.name for s in pending))
            for spec in ready:
                ordered.append(spec)
                done.add(spec.name)
                pending.remove(spec)
        return ordered


class _Reader:
    """Turns the parsed document into specs; knows the file's text to point at lines."""

    def __init__(self, path: Path, text: str, environ: Mapping[str, str]) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.environ = environ

    def fail(self, table: list[str], message: str, key: str | None = None) -> UsageError:
        line = self.line_of(table, key)
        if line is None and table:  # an inline table: the line of the key that holds it
            line = self.line_of(table[:-1], table[-1])
        where = f"{self.path.name} line {line}" if line else self.path.name
        return UsageError(f"{where}: {message}")

    def line_of(self, table: list[str], key: str | None) -> int | None:
        header = ".".join(table)
        start = None
        for number, raw in enumerate(self.lines, 1):
            text = raw.strip()
            if text.startswith("[") and _norm(text.strip("[]")) == header:
                start = number
            elif start and key and re.match(rf'"?{re.escape(key)}"?\s*=', text):
                return number
            elif start and key and text.startswith("["):
                break
        return start

    def table(self, where: list[str], value: Any, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where[:-1], f"`{where[-1]}` must be a table", where[-1])
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.fail(
                where,
                f"unknown setting `{unknown[0]}` in [{'.'.join(where)}] "
                f"(known: {', '.join(sorted(allowed))})",
                unknown[0],
            )
        return value

    def get(
        self,
        where: list[str],
        data: dict[str, Any],
        key: str,
        kind: type,
        default: Any = None,
        *,
        required: bool = False,
    ) -> Any:
        if key not in data:
            if required:
                raise self.fail(where, f"[{'.'.join(where)}] needs `{key}`")
            return default
        value = data[key]
        if kind is list and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            raise self.fail(where, f"`{key}` must be a list of strings", key)
        if kind is not list and (
            not isinstance(value, kind) or (kind is int and isinstance(value, bool))
        ):
            raise self.fail(where, f"`{key}` must be {_KIND_NAMES[kind]}", key)
        return value


_KIND_NAMES = {int: "a whole number", str: "a string", bool: "true or false"}


def _norm(header: str) -> str:
    return ".".join(part.strip().strip('"').strip("'") for part in header.split("."))


def read_inventory(path: Path, environ: Mapping[str, str] | None = None) -> Inventory:
    """Parse and check an inventory file; key files are read relative to it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path.name}: {_toml_message(exc)}") from exc
    reader = _Reader(path, text, os.environ if environ is None else environ)
    reader.table([], doc, TOP_LEVEL)
    return Inventory(
        keys=[_key(reader, n, v) for n, v in doc.get("keys", {}).items()],
        servers=[_server(reader, n, v) for n, v in doc.get("servers", {}).items()],
        projects=[_project(reader, n, v) for n, v in doc.get("projects", {}).items()],
        envs=[
            _env(reader, slug, name, v)
            for slug, project in doc.get("projects", {}).items()
            for name, v in project.get("environments", {}).items()
        ],
        templates=[_template(reader, n, v) for n, v in doc.get("templates", {}).items()],
    )


def _toml_message(exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if not found:
        return message
    return f"line {found.group(1)}: {message[: found.start()].strip()} (column {found.group(2)})"


def _key(r: _Reader, name: str, value: Any) -> KeySpec:
    where = ["keys", name]
    data = r.table(where, value, KEY_FIELDS)
    user = r.get(where, data, "user", str, required=True)
    passphrase = None
    if var := r.get(where, data, "passphrase_env", str):
        passphrase = r.environ.get(var)
    if "file" in data:
        file = r.path.parent / Path(r.get(where, data, "file", str)).expanduser()
        try:
            text = file.read_text()
        except OSError as exc:
            raise r.fail(where, f"cannot read key file {file}: {exc.strerror}", "file") from exc
        source = str(file)
    elif "env" in data:
        var = r.get(where, data, "env", str)
        if var not in r.environ:
            raise r.fail(where, f"environment variable {var} is not set", "env")
        text, source = r.environ[var], f"from ${var}"
    else:
        raise r.fail(where, f"[keys.{name}] needs `file` or `env`")
    try:
        material = parse_private_key(text, source=source, passphrase=passphrase)
    except UsageError as exc:
        raise r.fail(where, str(exc)) from exc
    return KeySpec(name=name, user=user, material=material)


def _server(r: _Reader, name: str, value: Any) -> ServerSpec:
    where = ["servers", name]
    d = r.table(where, value, SERVER_FIELDS)
    return ServerSpec(
        name=name,
        address=r.get(where, d, "address", str, name),
        key=r.get(where, d, "key", str, required=True),
        port=r.get(where, d, "port", int, 22),
        host_key=r.get(where, d, "host_key", str),
        labels=tuple(r.get(where, d, "labels", list, [])),
        owner=r.get(where, d, "owner", str),
        team=r.get(where, d, "team", str),
        jump=r.get(where, d, "jump", str),
    )


def _project(r: _Reader, slug: str, value: Any) -> ProjectSpec:
    where = ["projects", slug]
    d = r.table(where, value, PROJECT_FIELDS)
    spec = ProjectSpec(
        slug=slug,
        repo_url=r.get(where, d, "repo", str, required=True),
        default_branch=r.get(where, d, "branch", str, "main"),
        keep_releases=r.get(where, d, "keep", int, 5),
        channel=r.get(where, d, "channel", str),
        git_key=r.get(where, d, "git_key", str),
        digest_cron=r.get(where, d, "digest", str),
        digest_timezone=r.get(where, d, "digest_timezone", str, "UTC"),
    )
    _check_digest(r, where, spec)
    return spec


def _check_digest(r: _Reader, where: list[str], spec: ProjectSpec) -> None:
    """The same checks as the CLI's, pointing at the line that holds the wrong value."""
    try:
        check_timezone(spec.digest_timezone)
    except UsageError as exc:
        raise r.fail(where, str(exc), "digest_timezone") from exc
    cron = spec.desired()["digest_cron"]
    if cron is None:
        return
    try:
        digest_trigger(cron, spec.digest_timezone)
    except UsageError as exc:
        raise r.fail(where, str(exc), "digest") from exc


def _env(r: _Reader, slug: str, name: str, value: Any) -> EnvSpec:
    where = ["projects", slug, "environments", name]
    d = r.table(where, value, ENV_FIELDS)
    plans = _plans(r, where, d)
    default = r.get(where, d, "rollout_default", str)
    try:
        env_settings.check_default(default, plans, f"{slug}/{name}")
    except UsageError as exc:
        raise r.fail(where, str(exc), "rollout_default") from exc
    max_failed = r.get(where, d, "max_failed", int, 0)
    if max_failed < 0:
        raise r.fail(where, f"`max_failed` must be 0 or more, not {max_failed}", "max_failed")
    return EnvSpec(
        project=slug,
        name=name,
        deploy_path=r.get(where, d, "path", str, required=True),
        codes_root=r.get(where, d, "codes_root", str, "/data/codes"),
        servers=tuple(r.get(where, d, "servers", list, [])),
        deployers=tuple(r.get(where, d, "deployers", list, [])),
        reviewers=tuple(r.get(where, d, "reviewers", list, [])),
        approvals_required=r.get(where, d, "approvals", int, 0),
        batch_size=r.get(where, d, "batch", int, 0),
        templates_only=r.get(where, d, "templates_only", bool),
        health_check=_health(r, where + ["health"], d["health"]) if "health" in d else None,
        rollout_plans=plans,
        rollout_default=default,
        max_failed=max_failed,
        auto_rollback=r.get(where, d, "auto_rollback", bool, False),
        pause_reminder=_reminder(r, where, d),
    )


def _health(r: _Reader, where: list[str], value: Any) -> HealthCheck:
    """`[….health]` or `health = { … }`: the same keys as stored, seconds or durations."""
    d = r.table(where, value, HEALTH_FIELDS)
    values: dict[str, Any] = {}
    for key, kind in (("url", str), ("status", int), ("body", str), ("command", str)):
        values[key] = r.get(where, d, key, kind)
    values["passes"] = r.get(where, d, "passes", int)
    for key in ("timeout", "interval", "wait"):
        values[key] = _seconds(r, where, d, key)
    values = {k: v for k, v in values.items() if v is not None}  # absent: the default
    try:
        check = HealthCheck.from_stored(values)
    except HealthCheckError as exc:
        raise r.fail(where, str(exc), exc.key if exc.key in d else None) from exc
    assert check is not None
    return check


def _seconds(r: _Reader, where: list[str], d: dict[str, Any], key: str) -> float | None:
    value = d.get(key)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return env_settings.parse_seconds(value, f"`{key}`")
        except UsageError as exc:
            raise r.fail(where, str(exc), key) from exc
    raise r.fail(where, f'`{key}` must be a number of seconds or a duration like "90s"', key)


def _plans(r: _Reader, where: list[str], d: dict[str, Any]) -> dict[str, str]:
    """`rollout = { name = "plan", … }` (or a `[….rollout]` table), each plan checked."""
    value = d.get("rollout", {})
    if not isinstance(value, dict):
        raise r.fail(
            where,
            '`rollout` must be a table of named plans, e.g. rollout = { careful = "1, 10%, 100%" }',
            "rollout",
        )
    for name, text in value.items():
        if not isinstance(text, str):
            raise r.fail(where + ["rollout"], f"rollout plan `{name}` must be a string", name)
        try:
            env_settings.check_plan(name, text)
        except UsageError as exc:
            raise r.fail(where + ["rollout"], str(exc), name) from exc
    return dict(value)


def _reminder(r: _Reader, where: list[str], d: dict[str, Any]) -> int:
    value = d.get("pause_reminder", EnvSpec.pause_reminder)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            return env_settings.parse_reminder(value)
        except UsageError as exc:
            raise r.fail(where, str(exc), "pause_reminder") from exc
    raise r.fail(
        where,
        '`pause_reminder` must be a duration like "30m" (or "0" for never), or whole seconds',
        "pause_reminder",
    )


def _template(r: _Reader, title: str, value: Any) -> TemplateSpec:
    where = ["templates", title]
    d = r.table(where, value, TEMPLATE_FIELDS)
    stage = r.get(where, d, "stage", str, required=True)
    if stage not in HookStage.__members__.values():
        known = ", ".join(s.value for s in HookStage)
        raise r.fail(where, f"unknown stage `{stage}` (one of {known})", "stage")
    if "file" in d:
        file = r.path.parent / r.get(where, d, "file", str)
        try:
            script = file.read_text()
        except OSError as exc:
            raise r.fail(where, f"cannot read {file}: {exc.strerror}", "file") from exc
    else:
        script = r.get(where, d, "script", str, required=True)
    return TemplateSpec(title=title, stage=HookStage(stage), script=script)
