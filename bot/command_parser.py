"""`/deploy …` text into a command: a pure parser whose errors say what would be right."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import timedelta

from core.errors import UsageError
from core.scheduling.times import parse_duration

USAGE = "/deploy PROJECT ENV [REF] [--canary s1,s2] [--plan NAME] [--at TIME] [--note TEXT]"
SUBCOMMANDS = (
    "help",
    "status",
    "history",
    "retry",
    "rollback",
    "cancel",
    "promote",
    "continue",
    "abort",
    "lock",
    "unlock",
    "schedule",
    "reschedule",
)


@dataclass(frozen=True)
class OpenModal:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Deploy:
    project: str
    env: str
    ref: str | None = None
    canary: tuple[str, ...] = ()
    at: str | None = None
    note: str = ""
    plan: str | None = None
    """A rollout plan of the environment, by name (None: its default, if any)."""


@dataclass(frozen=True)
class Status:
    project: str | None = None
    env: str | None = None
    task_id: int | None = None


@dataclass(frozen=True)
class History:
    project: str | None = None
    env: str | None = None


@dataclass(frozen=True)
class TaskAction:
    """retry, cancel, promote, continue or abort a task by id."""

    verb: str
    task_id: int


@dataclass(frozen=True)
class Rollback:
    project: str
    env: str
    version: str | None = None


@dataclass(frozen=True)
class Lock:
    project: str
    env: str
    reason: str = ""
    duration: timedelta | None = None


@dataclass(frozen=True)
class Unlock:
    project: str
    env: str


@dataclass(frozen=True)
class Schedule:
    project: str | None = None


@dataclass(frozen=True)
class Reschedule:
    """Move a scheduled release that has not started."""

    task_id: int
    at: str


Command = (
    OpenModal
    | Help
    | Deploy
    | Status
    | History
    | TaskAction
    | Rollback
    | Lock
    | Unlock
    | Schedule
    | Reschedule
)


def parse(text: str) -> Command:
    """Parse the text typed after `/deploy`."""
    try:
        words = shlex.split(text.strip())
    except ValueError as exc:
        raise UsageError(f"cannot read that: {exc} (check your quotes)") from exc
    if not words:
        return OpenModal()
    head, rest = words[0].lower(), words[1:]
    if head in SUBCOMMANDS:
        return _subcommand(head, rest)
    return _deploy(words)


def _subcommand(verb: str, rest: list[str]) -> Command:
    match verb:
        case "help":
            return Help()
        case "status":
            if len(rest) == 1 and rest[0].lstrip("#").isdigit():
                return Status(task_id=int(rest[0].lstrip("#")))
            given = _at_most(rest, 2, "/deploy status [PROJECT [ENV] | ID]")
            return Status(project=_nth(given, 0), env=_nth(given, 1))
        case "history":
            return History(*_at_most(rest, 2, "/deploy history [PROJECT [ENV]]"))
        case "schedule":
            return Schedule(*_at_most(rest, 1, "/deploy schedule [PROJECT]"))
        case "reschedule":
            if len(rest) < 2:
                raise UsageError(
                    "usage: /deploy reschedule ID TIME (e.g. `/deploy reschedule 42 17:30`)"
                )
            return Reschedule(_task_id("reschedule", rest[:1]), " ".join(rest[1:]))
        case "retry" | "cancel" | "promote" | "continue" | "abort":
            return TaskAction(verb, _task_id(verb, rest))
        case "rollback":
            words = _at_most(rest, 3, "/deploy rollback PROJECT ENV [VERSION]", minimum=2)
            return Rollback(*words)
        case "unlock":
            return Unlock(*_at_most(rest, 2, "/deploy unlock PROJECT ENV", minimum=2))
    return _lock(rest)


def _deploy(words: list[str]) -> Deploy:
    options, positional = _options(words, {"--canary", "--plan", "--at", "--note"})
    if len(positional) not in (2, 3):
        raise UsageError(f"usage: {USAGE} (or `/deploy help`)")
    canary = tuple(s for s in options.get("--canary", "").split(",") if s.strip())
    return Deploy(
        project=positional[0],
        env=positional[1],
        ref=positional[2] if len(positional) == 3 else None,
        canary=tuple(s.strip() for s in canary),
        at=options.get("--at"),
        note=options.get("--note", ""),
        plan=options.get("--plan"),
    )


def _lock(rest: list[str]) -> Lock:
    options, positional = _options(rest, {"--for"})
    if len(positional) < 2:
        raise UsageError("usage: /deploy lock PROJECT ENV [REASON] [--for 2h]")
    duration = parse_duration(options["--for"]) if "--for" in options else None
    return Lock(positional[0], positional[1], " ".join(positional[2:]), duration)


def _options(words: list[str], known: set[str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    positional: list[str] = []
    items = iter(words)
    for word in items:
        if not word.startswith("--"):
            positional.append(word)
            continue
        name, _, value = word.partition("=")
        if name not in known:
            raise UsageError(f"unknown option `{name}` (known: {', '.join(sorted(known))})")
        if not value:
            value = next(items, "")
        if not value:
            raise UsageError(f"`{name}` needs a value")
        options[name] = value
    return options, positional


def _at_most(rest: list[str], count: int, usage: str, *, minimum: int = 0) -> list[str]:
    if not minimum <= len(rest) <= count:
        raise UsageError(f"usage: {usage}")
    return rest


def _nth(words: list[str], index: int) -> str | None:
    return words[index] if len(words) > index else None


def _task_id(verb: str, rest: list[str]) -> int:
    if len(rest) != 1 or not rest[0].lstrip("#").isdigit():
        raise UsageError(f"usage: /deploy {verb} ID (the task number, e.g. `/deploy {verb} 42`)")
    return int(rest[0].lstrip("#"))
