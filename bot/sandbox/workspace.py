"""The people and places of the stand-in workspace: users, channels, user groups, the app.

Kept apart from the message state so a test or the demo can describe its workspace up front
(`Workspace.sample()` or its own) and hand it to `FakeSlack`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Channel", "User", "UserGroup", "Workspace"]

JSON = dict[str, Any]


@dataclass
class User:
    """A member of the workspace, as `users.info` describes them."""

    id: str
    name: str
    real_name: str = ""
    tz: str = "Europe/London"
    tz_offset: int = 0
    """Seconds east of UTC, as Slack gives it."""
    email: str = ""

    def payload(self, team_id: str) -> JSON:
        """The `user` object of `users.info`."""
        real_name = self.real_name or self.name
        profile = {"real_name": real_name, "display_name": self.name, "email": self.email}
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": real_name,
            "deleted": False,
            "is_bot": False,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": self.tz_offset,
            "profile": profile,
        }

    def brief(self, team_id: str) -> JSON:
        """The `user` object of an interaction payload."""
        return {"id": self.id, "username": self.name, "name": self.name, "team_id": team_id}


@dataclass
class Channel:
    """A conversation; `is_member` says whether the bot is in it (it must be, to post)."""

    id: str
    name: str
    is_private: bool = False
    is_member: bool = True
    im_user: str | None = None
    """For a direct message with the bot: the other person."""

    def payload(self) -> JSON:
        """The `channel` object of `conversations.info`."""
        info: JSON = {"id": self.id, "is_im": self.im_user is not None}
        if self.im_user is not None:
            return info | {"user": self.im_user, "is_open": True}
        return info | {
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": False,
            "is_private": self.is_private,
            "is_archived": False,
            "is_member": self.is_member,
        }


@dataclass
class UserGroup:
    """A user group (`@reviewers`), as `usergroups.list` describes it."""

    id: str
    handle: str
    users: list[str]
    name: str = ""

    def payload(self, team_id: str, with_users: bool) -> JSON:
        body: JSON = {"id": self.id, "team_id": team_id, "is_usergroup": True}
        body |= {"handle": self.handle, "name": self.name or self.handle}
        body |= {"user_count": len(self.users), "date_delete": 0}
        return body | ({"users": list(self.users)} if with_users else {})


@dataclass
class Workspace:
    """One Slack team with Hoist installed as an app with a bot user."""

    team_id: str = "T0HOIST00"
    domain: str = "hoist-sandbox"
    name: str = "Hoist Sandbox"
    app_id: str = "A0HOIST00"
    bot_user_id: str = "U0HOISTBOT"
    bot_id: str = "B0HOIST00"
    bot_name: str = "hoist"
    verification_token: str = "sandbox-verification-token"
    """The deprecated `token` field Slack still puts in every payload."""
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    groups: dict[str, UserGroup] = field(default_factory=dict)

    @classmethod
    def sample(cls) -> Workspace:
        """Three people, #deploys and #general, and a `reviewers` group of two."""
        ws = cls()
        ws.add_user("U0ALICE00", "alice", "Alice Liddell")
        ws.add_user("U0BOB0000", "bob", "Bob Dobbs", tz="America/New_York", tz_offset=-18000)
        ws.add_user("U0CAROL00", "carol", "Carol Danvers", tz="Asia/Tokyo", tz_offset=32400)
        ws.add_channel("C0DEPLOYS", "deploys")
        ws.add_channel("C0GENERAL", "general")
        ws.add_group("S0REVIEWS", "reviewers", ["U0BOB0000", "U0CAROL00"])
        return ws

    @property
    def url(self) -> str:
        return f"https://{self.domain}.slack.com/"

    def add_user(self, id: str, name: str, real_name: str = "", **extra: Any) -> User:
        """Add a person; `extra` sets tz, tz_offset or email."""
        user = User(id, name, real_name, **extra)
        self.users[id] = user
        return user

    def add_channel(
        self, id: str, name: str, *, private: bool = False, member: bool = True
    ) -> Channel:
        """Add a channel; with `member=False` the bot must join before it can post."""
        channel = Channel(id, name.lstrip("#"), is_private=private, is_member=member)
        self.channels[id] = channel
        return channel

    def add_group(self, id: str, handle: str, members: list[str]) -> UserGroup:
        """Add a user group (`S…`, mentioned as `@handle`) with these user ids."""
        group = UserGroup(id, handle.lstrip("@"), list(members))
        self.groups[id] = group
        return group

    def find_channel(self, ref: str) -> Channel | None:
        """The channel an API argument names: an id, `#name`, `name`, or a user id (their DM)."""
        if ref in self.channels:
            return self.channels[ref]
        if ref in self.users:
            return self._im_with(ref)
        name = ref.removeprefix("#")
        return next((c for c in self.channels.values() if c.name == name), None)

    def _im_with(self, user_id: str) -> Channel:
        """The bot's direct-message channel with a user, opened on first use like Slack's."""
        im_id = "D" + user_id[1:]
        if im_id not in self.channels:
            self.channels[im_id] = Channel(im_id, user_id, im_user=user_id)
        return self.channels[im_id]

    def user_brief(self, user_id: str) -> JSON:
        """The interaction-payload `user` of a person (unknown ids still get a name)."""
        user = self.users.get(user_id) or User(user_id, user_id.lower())
        return user.brief(self.team_id)

    def team(self) -> JSON:
        return {"id": self.team_id, "domain": self.domain}
