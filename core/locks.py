"""Environment locks: who holds one, why, until when; they expire by themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from core.audit import Actor, record
from core.errors import ConflictError
from core.store.models import Environment, EnvironmentLock


@dataclass(frozen=True)
class LockInfo:
    holder: str
    reason: str
    until: datetime | None


async def current_lock(env: Environment | int, now: datetime) -> LockInfo | None:
    """The environment's lock, if one holds now (an expired one does not)."""
    env_id = env if isinstance(env, int) else env.id
    lock = await EnvironmentLock.get_or_none(environment_id=env_id)
    if lock is None or (lock.until is not None and lock.until <= now):
        return None
    return LockInfo(lock.holder, lock.reason, lock.until)


async def expire_locks(now: datetime) -> list[tuple[int, list[str]]]:
    """Remove expired locks; returns (environment id, who was waiting) for each."""
    expired = await EnvironmentLock.filter(until__lte=now)
    for lock_row in expired:
        await lock_row.delete()
    return [(lock_row.environment_id, list(lock_row.waiting)) for lock_row in expired]


async def lock(
    env: Environment, actor: Actor, reason: str, now: datetime, duration: timedelta | None
) -> LockInfo:
    """Lock the environment; refused when someone else holds it."""
    held = await current_lock(env, now)
    if held is not None and held.holder != actor.name:
        raise ConflictError(f"already locked by {held.holder}: {held.reason or 'no reason given'}")
    until = now + duration if duration else None
    try:
        await EnvironmentLock.update_or_create(
            defaults={"holder": actor.name, "reason": reason, "until": until}, environment=env
        )
    except IntegrityError as exc:
        raise ConflictError("someone locked this environment at the same moment") from exc
    await record(actor, "env.lock", f"env:{env.id}", reason=reason, until=str(until))
    return LockInfo(actor.name, reason, until)


async def unlock(env: Environment, actor: Actor) -> list[str]:
    """Remove the lock; returns who was waiting for it, to tell them."""
    lock_row = await EnvironmentLock.get_or_none(environment=env)
    if lock_row is None:
        raise ConflictError("this environment is not locked")
    waiting = list(lock_row.waiting)
    await lock_row.delete()
    await record(actor, "env.unlock", f"env:{env.id}")
    return waiting


async def note_waiting(env: Environment, user: str) -> None:
    """Remember that `user` wanted to deploy while the environment was locked."""
    lock_row = await EnvironmentLock.get_or_none(environment=env)
    if lock_row is not None and user not in lock_row.waiting:
        lock_row.waiting = [*lock_row.waiting, user]
        await lock_row.save(update_fields=["waiting"])
