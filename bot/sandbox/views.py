"""Modals and App Home tabs as the stand-in keeps them: per-user modal stacks and home views.

Slack allows three modals on a stack, opens a modal only in exchange for a fresh trigger_id,
refuses `views.update` when the caller's `hash` is stale, and keeps one home view per user
whose id survives republishing. The same rules apply here.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field

from bot.sandbox.state import ApiError, SlackState
from bot.sandbox.workspace import JSON, Workspace

__all__ = ["MAX_STACK", "View", "ViewStore"]

MAX_STACK = 3


@dataclass
class View:
    """A modal or home tab; `spec` is what the bot last sent, `versions` every spec it sent."""

    id: str
    user: str
    spec: JSON
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    is_open: bool = True
    errors: dict[str, str] = field(default_factory=dict)
    """The field errors of the last `response_action: errors` answer to a submission."""
    versions: list[JSON] = field(default_factory=list)
    picked: JSON = field(default_factory=dict)
    """What the user chose in the view's inputs so far (block_id → action_id → value), as
    Slack keeps it in `view.state.values` of every later payload."""

    @property
    def type(self) -> str:
        return str(self.spec.get("type", ""))

    @property
    def blocks(self) -> list[JSON]:
        return list(self.spec.get("blocks", []))

    def payload(self, ws: Workspace, values: JSON | None = None) -> JSON:
        """The view object Slack returns and puts in interaction payloads."""
        defaults: JSON = {"private_metadata": "", "callback_id": "", "external_id": ""}
        body = defaults | copy.deepcopy(self.spec)
        return body | {
            "id": self.id,
            "team_id": ws.team_id,
            "state": {"values": copy.deepcopy(values or {})},
            "hash": self.hash,
            "root_view_id": self.root_view_id,
            "previous_view_id": self.previous_view_id,
            "app_id": ws.app_id,
            "app_installed_team_id": ws.team_id,
            "bot_id": ws.bot_id,
        }


class ViewStore:
    """Every view the bot opened, pushed or published, found by id, external id or user."""

    def __init__(self, state: SlackState) -> None:
        self._state = state
        self.all: dict[str, View] = {}
        self._stacks: dict[str, list[str]] = {}
        self._homes: dict[str, str] = {}

    def get(self, view_id: str) -> View:
        view = self.all.get(view_id)
        if view is None or not view.is_open:
            raise ApiError("not_found")
        return view

    def stack(self, user: str) -> list[View]:
        """The user's open modals, root first."""
        return [self.all[v] for v in self._stacks.get(user, [])]

    def home(self, user: str) -> View | None:
        view_id = self._homes.get(user)
        return None if view_id is None else self.all[view_id]

    def open(self, trigger_id: str | None, spec: JSON) -> View:
        """Open a modal for the user who caused the trigger, replacing any stack they had."""
        self._expect_type(spec, "modal")
        user = self._state.redeem_trigger(trigger_id).user
        self.clear(user)
        view = self._new(user, spec, root=None)
        self._stacks[user] = [view.id]
        return view

    def push(self, trigger_id: str | None, spec: JSON) -> View:
        """Put a modal on top of the user's stack (at most three deep)."""
        self._expect_type(spec, "modal")
        user = self._state.redeem_trigger(trigger_id).user
        stack = self._stacks.get(user, [])
        if not stack:
            raise ApiError("not_found")
        if len(stack) >= MAX_STACK:
            raise ApiError("push_limit_reached")
        view = self._new(user, spec, root=stack[0], previous=stack[-1])
        stack.append(view.id)
        return view

    def update(
        self, view_id: str | None, external_id: str | None, spec: JSON, hash: str | None
    ) -> View:
        """Replace a view's content; a `hash` other than the current one is a conflict."""
        view = self._find(view_id, external_id)
        self._expect_type(spec, view.type)
        if hash is not None and hash != view.hash:
            raise ApiError("hash_conflict")
        self._set(view, spec)
        return view

    def publish(self, user: str, spec: JSON, hash: str | None) -> View:
        """Set a user's App Home; the view keeps its id across publishes."""
        self._expect_type(spec, "home")
        current = self.home(user)
        if current is None:
            view = self._new(user, spec, root=None)
            self._homes[user] = view.id
            return view
        if hash is not None and hash != current.hash:
            raise ApiError("hash_conflict")
        self._set(current, spec)
        return current

    def close(self, view_id: str) -> None:
        """Close a modal and those pushed above it (what submitting without an answer does)."""
        view = self.get(view_id)
        stack = self._stacks.get(view.user, [])
        if view_id in stack:
            for closed in stack[stack.index(view_id) :]:
                self.all[closed].is_open = False
            del stack[stack.index(view_id) :]

    def clear(self, user: str) -> None:
        """Close every modal the user has open (`response_action: clear`)."""
        for view_id in self._stacks.pop(user, []):
            self.all[view_id].is_open = False

    def _new(self, user: str, spec: JSON, root: str | None, previous: str | None = None) -> View:
        self._check_external_id(spec, None)
        view_id = self._state.new_id("V")
        view = View(view_id, user, {}, "", root or view_id, previous)
        self.all[view_id] = view
        self._set(view, spec)
        return view

    def _set(self, view: View, spec: JSON) -> None:
        self._check_external_id(spec, view.id)
        view.spec = copy.deepcopy(spec)
        view.hash = f"{int(self._state.clock())}.{secrets.token_hex(4)}"
        view.errors = {}
        view.versions.append(copy.deepcopy(spec))

    def _find(self, view_id: str | None, external_id: str | None) -> View:
        if view_id:
            return self.get(view_id)
        for view in self.all.values():
            if external_id and view.is_open and view.spec.get("external_id") == external_id:
                return view
        raise ApiError("not_found")

    def _check_external_id(self, spec: JSON, own_id: str | None) -> None:
        external_id = spec.get("external_id")
        if not external_id:
            return
        for view in self.all.values():
            if view.id != own_id and view.spec.get("external_id") == external_id:
                raise ApiError("duplicate_external_id")

    @staticmethod
    def _expect_type(spec: JSON, kind: str) -> None:
        if spec.get("type") != kind:
            raise ApiError(
                "invalid_arguments", f"[ERROR] view type must be {kind} [json-pointer:/view/type]"
            )
