"""Who may do what on an environment: pure rules over the inventory's lists.

Lists hold Slack user ids (or, for CLI users, names). User groups are expanded by the caller
(the bot asks Slack), so these rules only ever compare plain identities.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    DEPLOY = "deploy"
    APPROVE = "approve"
    ROLLBACK = "rollback"
    LOCK = "lock"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    RETRY = "retry"
    PROMOTE = "promote"


@dataclass(frozen=True)
class Rules:
    """An environment's people: deployers (empty: anyone) and reviewers."""

    deployers: frozenset[str]
    reviewers: frozenset[str]
    anyone_deploys: bool
    """True when the inventory names no deployers (not when its groups turned out empty)."""

    @classmethod
    def of(cls, deployers: Collection[str], reviewers: Collection[str]) -> Rules:
        return cls(frozenset(deployers), frozenset(reviewers), not deployers)


def allowed(rules: Rules, action: Action, user: str, *, requester: str | None = None) -> bool:
    """May `user` do `action`? Cancelling or moving is also allowed to the task's requester."""
    deployer = rules.anyone_deploys or user in rules.deployers
    if action == Action.APPROVE:
        return user in rules.reviewers and user != requester
    if action in (Action.CANCEL, Action.RESCHEDULE):
        return user == requester or deployer or user in rules.reviewers
    if action == Action.LOCK:
        return deployer or user in rules.reviewers
    return deployer


def refusal(action: Action, user: str, rules: Rules, *, requester: str | None = None) -> str:
    """Why `user` may not do `action`, as a sentence."""
    if action == Action.APPROVE and user == requester:
        return "you requested this release, so you cannot approve it"
    if action == Action.APPROVE:
        return "only this environment's reviewers can approve or reject"
    return f"you are not allowed to {action} here"
