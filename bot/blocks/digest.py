"""A project's release digest as a Slack message: per environment, what ended and what is live.

Its words live here rather than in `bot/texts.py`; the mrkdwn helpers that make user text safe
come from there.
"""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.blocks.actions import MAX_BLOCKS, MAX_FALLBACK, MAX_TEXT, Block, context, header, section
from core.scheduling.digest import Digest, DigestTask, EnvDigest
from core.status import TaskKind, TaskStatus

# --- Words ------------------------------------------------------------------------------------

NO_RELEASES = "_No releases._"
NO_ENVIRONMENTS = "_This project has no environments._"
NOTHING_LIVE = "_nothing yet_"
ROLLBACK_MARK = "↩️"


def digest_title(project: str) -> str:
    """Plain text: `Release digest · shop`."""
    return f"Release digest · {project}"


def period_line(since: str, until: str) -> str:
    return f"🗓️ {since} – {until}"


def env_heading(env: str, live: str) -> str:
    return f"*{env}* · live {live}"


def counts_line(releases: int, rollbacks: int, succeeded: int, failed: int) -> str:
    """`_3 releases · 1 rollback · ✅ 3 · ❌ 1_`, leaving out what did not happen."""
    parts = [_plural(releases, "release")] if releases else []
    parts += [_plural(rollbacks, "rollback")] if rollbacks else []
    parts += [f"✅ {succeeded}"] if succeeded else []
    parts += [f"❌ {failed}"] if failed else []
    return f"_{' · '.join(parts)}_"


def task_line(mark: str, what: str, who: str, details: list[str]) -> str:
    """`✅ `shop-v3-…` by @alice · 3m 10s · `main` `abc1234``."""
    return " · ".join([f"{mark} {what} by {who}", *details])


def rollback_to(version: str) -> str:
    return f"{ROLLBACK_MARK} rollback to {version}"


def earlier(count: int) -> str:
    return f"_and {count} earlier_"


def more_envs(count: int) -> str:
    return f"_and {_plural(count, 'more environment')}_"


def digest_fallback(project: str, releases: int, rollbacks: int, envs: int) -> str:
    if not releases and not rollbacks:
        return f"Release digest for {project}: no releases"
    done = _plural(releases, "release")
    if rollbacks:
        done += f" and {_plural(rollbacks, 'rollback')}"
    return f"Release digest for {project}: {done} in {_plural(envs, 'environment')}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- Blocks -----------------------------------------------------------------------------------

_VERSION = 120
_REF = 60


def digest_message(digest: Digest) -> dict[str, Any]:
    """The digest (`text` and `blocks`): a header, the period, a section per environment."""
    period = period_line(texts.slack_date(digest.since), texts.slack_date(digest.until))
    blocks: list[Block] = [header(digest_title(digest.project)), context(period)]
    room = MAX_BLOCKS - len(blocks)
    envs = list(digest.envs)
    if len(envs) > room:
        room -= 1  # keep one block to say how many are left out
    blocks += [section(_env_text(env)) for env in envs[:room]]
    if len(envs) > room:
        blocks.append(context(more_envs(len(envs) - room)))
    if not envs:
        blocks.append(section(NO_ENVIRONMENTS))
    return {"text": _fallback(digest), "blocks": blocks}


def _fallback(digest: Digest) -> str:
    project = texts.safe(digest.project, 200)
    line = digest_fallback(project, digest.releases, digest.rollbacks, len(digest.envs))
    return texts.clip(line, MAX_FALLBACK)


def _env_text(env: EnvDigest) -> str:
    live = texts.code(env.live_version, _VERSION) if env.live_version else NOTHING_LIVE
    heading = env_heading(texts.safe(env.name, 100), live)
    if not env.ended:
        return f"{heading}\n{NO_RELEASES}"
    heading += "\n" + counts_line(env.releases, env.rollbacks, env.succeeded, env.failed)
    lines = [_task_line(task) for task in env.tasks]
    body = texts.join_within(lines, MAX_TEXT - len(heading) - 1, earlier, extra=env.more)
    return f"{heading}\n{body}"


def _task_line(task: DigestTask) -> str:
    version = texts.code(task.version, _VERSION)
    what = rollback_to(version) if task.kind == TaskKind.ROLLBACK else version
    details: list[str] = []
    if task.status != TaskStatus.SUCCEEDED:
        details.append(texts.STATUS.get(task.status, task.status).lower())
    if task.seconds is not None:
        details.append(texts.duration(task.seconds))
    details.append(f"{texts.code(task.ref, _REF)} {texts.code(task.commit, 12)}")
    mark = texts.STATUS_EMOJI.get(task.status, "•")
    return task_line(mark, what, texts.mention(task.requester), details)
