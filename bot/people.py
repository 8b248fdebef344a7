"""Who is who in Slack: user groups expanded to their members, through the Web API."""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.inventory.names import is_group
from core.permissions import Rules


async def expand(client: AsyncWebClient, names: Iterable[str]) -> frozenset[str]:
    """Users named directly, plus the members of the groups named."""
    users: set[str] = set()
    handles: dict[str, str] | None = None
    for name in names:
        if not is_group(name):
            users.add(name)
            continue
        if name.startswith("@"):
            handles = handles if handles is not None else await _handles(client)
            group_id = handles.get(name[1:])
            if group_id is None:
                continue
        else:
            group_id = name
        users.update(await _members(client, group_id))
    return frozenset(users)


async def rules_for(client: AsyncWebClient, deployers: list[str], reviewers: list[str]) -> Rules:
    return Rules(await expand(client, deployers), await expand(client, reviewers), not deployers)


async def _members(client: AsyncWebClient, group_id: str) -> list[str]:
    try:
        response = await client.usergroups_users_list(usergroup=group_id)
    except SlackApiError:
        return []
    return list(response.get("users", []))


async def _handles(client: AsyncWebClient) -> dict[str, str]:
    try:
        response = await client.usergroups_list()
    except SlackApiError:
        return {}
    groups: list[dict[str, str]] = response.get("usergroups", [])
    return {group["handle"]: group["id"] for group in groups}
