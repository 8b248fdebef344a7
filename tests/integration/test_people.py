"""User groups expanded through the Slack stand-in, cached against Slack's rate limits."""

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.people import CACHE_SECONDS, People
from bot.sandbox import FakeSlack, Workspace
from core.errors import HoistError


async def test_groups_are_expanded_and_cached_for_a_minute():
    async with FakeSlack(workspace=Workspace.sample()) as slack:
        now = [0.0]
        people = People(AsyncWebClient(token=slack.token, base_url=slack.url), clock=lambda: now[0])
        rules = await people.rules([], ["S0REVIEWS", "U0ALICE00"])
        assert rules.reviewers == {"U0BOB0000", "U0CAROL00", "U0ALICE00"}
        assert rules.anyone_deploys
        await people.expand(["S0REVIEWS", "@reviewers"])
        assert len(slack.calls("usergroups.users.list")) == 1
        now[0] += CACHE_SECONDS + 1
        await people.expand(["S0REVIEWS"])
        assert len(slack.calls("usergroups.users.list")) == 2


async def test_a_group_slack_will_not_describe_is_a_clear_error():
    async with FakeSlack(workspace=Workspace.sample()) as slack:
        people = People(AsyncWebClient(token=slack.token, base_url=slack.url))
        slack.fail_next("usergroups.users.list", error="ratelimited", count=1)
        with pytest.raises(HoistError, match="cannot read the members of user group S0REVIEWS"):
            await people.expand(["S0REVIEWS"])
