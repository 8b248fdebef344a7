"""What is sent to the server: the fixed wrapper command, the script payload, the kill command.

The command line the login shell sees never varies: it starts `bash` in a process group of its
own, which prints it and then reads the script from standard input up to a NUL byte.
Everything that varies (the script, its environment) travels as that payload.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Mapping

from core.errors import UsageError

PGID_MARK = b"__hoist_pgid__ "
_WRAPPER = (
    'exec 2>&1; printf "__hoist_pgid__ %s\\n" "$$"; '
    'IFS= read -r -d "" __hoist_script || exit 97; eval "$__hoist_script"'
)
_LEADER = (
    'g=; { read -r _ _ _ _ g _ < "/proc/$$/stat"; } 2>/dev/null; '
    'if [ "$g" != "$$" ] && [ -z "${__hoist_setsid:-}" ]; then '
    "export __hoist_setsid=1; "
    'exec setsid -w bash --norc --noprofile -c "$BASH_EXECUTION_STRING"; fi; '
)
"""The script runs in a process group of its own, which a timeout kills whole. OpenSSH starts
every session in a new one already; elsewhere (or without /proc) bash starts again, once,
under `setsid`, which then forks."""
WRAPPER_COMMAND = f"exec bash --norc --noprofile -c {shlex.quote(_LEADER + _WRAPPER)}"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def payload(script: str, env: Mapping[str, str] | None) -> bytes:
    """The script as the wrapper reads it: exports, the script, then a NUL byte."""
    lines = []
    for name, value in (env or {}).items():
        if not _ENV_NAME.fullmatch(name):
            raise UsageError(f"`{name}` is not a valid environment variable name")
        lines.append(f"export {name}={shlex.quote(value)}")
    text = "\n".join([*lines, script])
    if "\0" in text:
        raise UsageError("a script and its environment cannot contain a NUL byte")
    return text.encode("utf-8", "surrogateescape") + b"\0"  # paths: the bytes they are


def upload_script(remote_path: str, sha256: str | None = None) -> str:
    """Write standard input aside (making its folder), check it, rename it over `remote_path`.

    With `sha256`, a damaged upload is removed and the script exits 3 with a message.
    """
    part, final = shlex.quote(f"{remote_path}.hoist-part"), shlex.quote(remote_path)
    folder = shlex.quote(posixpath.dirname(remote_path) or "/")
    check = ""
    if sha256:
        line = shlex.quote(f"{sha256}  {remote_path}.hoist-part")
        check = (
            f" && {{ echo {line} | sha256sum -c --quiet - >/dev/null 2>&1"
            f" || {{ rm -f -- {part}; echo 'checksum mismatch: the upload was damaged' >&2;"
            " exit 3; }; }"
        )
    return f"mkdir -p -- {folder} && cat > {part}{check} && mv -f -- {part} {final}"


# TERM the group, wait for its last live (non-zombie) member to go, KILL it after the grace.
_KILL_SCRIPT = """
g=$1 polls=$2
alive() {
  [ -r /proc/self/stat ] || { kill -0 -- "-$g" 2>/dev/null; return; }
  local f s
  for f in /proc/[0-9]*/stat; do
    IFS= read -r s < "$f" 2>/dev/null || continue
    set -- ${s##*) }
    [ "$3" = "$g" ] && [ "$1" != Z ] && return 0
  done
  return 1
}
kill -TERM -- "-$g" 2>/dev/null || exit 0
for ((i = 0; i < polls; i++)); do alive || exit 0; sleep 0.05; done
kill -KILL -- "-$g" 2>/dev/null
exit 0
"""


def kill_command(pgid: int, grace: float) -> str:
    """The command line that kills process group `pgid`, giving it `grace` seconds after TERM."""
    polls = max(1, round(grace / 0.05))
    return f"exec bash --norc --noprofile -c {shlex.quote(_KILL_SCRIPT)} hoist-kill {pgid} {polls}"
