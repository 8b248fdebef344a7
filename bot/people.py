"""Who is who in Slack: user groups expanded to their members, through the Web API.

Group membership is cached for a minute: `usergroups.users.list` is one of Slack's tighter
rate-limit tiers, and every command and click checks permissions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.errors import HoistError
from core.inventory.names import is_group
from core.permissions import Rules

CACHE_SECONDS = 60.0


class People:
    """Expands user groups, remembering each group's members for `CACHE_SECONDS`."""

    def __init__(
        self, client: AsyncWebClient, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self.clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._handles: tuple[float, dict[str, str]] | None = None
        self._zones: dict[str, tzinfo] = {}

    async def rules(self, deployers: list[str], reviewers: list[str]) -> Rules:
        """An environment's rules with its groups expanded."""
        return Rules(await self.expand(deployers), await self.expand(reviewers), not deployers)

    async def expand(self, names: Iterable[str]) -> frozenset[str]:
        """Users named directly, plus the members of the groups named."""
        users: set[str] = set()
        for name in names:
            if not is_group(name):
                users.add(name)
                continue
            group_id = (await self._handle_ids()).get(name[1:]) if name.startswith("@") else name
            if group_id is not None:
                users |= await self._group(group_id)
        return frozenset(users)

    async def zone(self, user: str) -> tzinfo:
        """The person's time zone from their Slack profile (UTC if Slack cannot say)."""
        if user in self._zones:
            return self._zones[user]
        try:
            profile = (await self.client.users_info(user=user)).get("user") or {}
        except SlackApiError:
            return UTC
        zone: tzinfo = UTC
        try:
            zone = ZoneInfo(str(profile.get("tz") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            zone = timezone(timedelta(seconds=int(profile.get("tz_offset") or 0)))
        self._zones[user] = zone
        return zone

    async def _group(self, group_id: str) -> frozenset[str]:
        cached = self._members.get(group_id)
        if cached is not None and self.clock() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            response = await self.client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as error:
            if cached is not None:
                return cached[1]  # Slack is limiting us: the last answer is better than none
            raise HoistError(
                f"cannot read the members of user group {group_id} from Slack"
            ) from error
        members: frozenset[str] = frozenset(response.get("users", []))
        self._members[group_id] = (self.clock(), members)
        return members

    async def _handle_ids(self) -> dict[str, str]:
        if self._handles is not None and self.clock() - self._handles[0] < CACHE_SECONDS:
            return self._handles[1]
        try:
            response = await self.client.usergroups_list()
        except SlackApiError as error:
            if self._handles is not None:
                return self._handles[1]
            raise HoistError("cannot read the user groups from Slack") from error
        groups: list[dict[str, str]] = response.get("usergroups", [])
        self._handles = (self.clock(), {group["handle"]: group["id"] for group in groups})
        return self._handles[1]
