"""The notifier spaces its calls per channel, across tasks (Slack's limit is per channel)."""

from slack_sdk.web.async_client import AsyncWebClient

from bot.notifier import Notifier
from bot.sandbox import FakeSlack, MessageRate, Workspace
from core.engine.events import EventBus


async def test_calls_in_one_channel_are_spaced_and_other_channels_are_not():
    async with FakeSlack(workspace=Workspace.sample(), message_rate=MessageRate(100, 100)) as slack:
        now = [100.0]
        slept: list[float] = []

        async def sleep(seconds: float) -> None:
            slept.append(round(seconds, 3))
            now[0] += seconds

        async def nothing(*_: object) -> dict:
            return {}

        client = AsyncWebClient(token=slack.token, base_url=slack.url)
        notifier = Notifier(
            client,
            EventBus(),
            nothing,
            nothing,
            min_interval=1.0,
            sleep=sleep,
            clock=lambda: now[0],
        )
        await notifier._call("chat.postMessage", channel="C0DEPLOYS", text="one")
        await notifier._call("chat.postMessage", channel="C0GENERAL", text="elsewhere")
        await notifier._call("chat.postMessage", channel="C0DEPLOYS", text="two")
        assert slept == [1.0]  # only the second call in #deploys waited
        assert [m.text for m in slack.messages("C0DEPLOYS")] == ["one", "two"]
