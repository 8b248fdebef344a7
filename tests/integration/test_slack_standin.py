"""The Slack stand-in over loopback HTTP: slack_sdk calls it; it calls a bot that checks each
request with slack_sdk's SignatureVerifier and keeps the raw bodies (and, once, a Bolt app).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.sandbox import FakeSlack, ManualClock, MessageRate, StandInError, sign

TOKEN = "xoxb-test-token"
SECRET = "test-signing-secret"
DEPLOYS = "C0DEPLOYS"
ALICE, BOB = "U0ALICE00", "U0BOB0000"


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return block if block_id is None else block | {"block_id": block_id}


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def buttons(*values: str) -> dict[str, Any]:
    """An actions block of buttons sharing the action_id `decide`."""
    each = [{"type": "button", "action_id": "decide", "text": plain(v), "value": v} for v in values]
    return {"type": "actions", "block_id": "decide", "elements": each}


def field(block_id: str, kind: str) -> dict[str, Any]:
    element = {"type": kind, "action_id": block_id}
    return {"type": "input", "block_id": block_id, "label": plain(block_id), "element": element}


MODAL = {
    "type": "modal",
    "callback_id": "deploy",
    "title": plain("Deploy"),
    "submit": plain("Go"),
    "blocks": [field("ref", "plain_text_input"), field("env", "external_select")],
}
PROD = {"text": {"type": "plain_text", "text": "prod"}, "value": "prod"}


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    valid: bool

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.form()["payload"]))


class Bot:
    """A request URL that verifies Slack's signature and answers as `answer` says."""

    def __init__(self) -> None:
        self.verifier = SignatureVerifier(SECRET)
        self.received: list[Received] = []
        self.answer: Callable[[Received], web.Response] = lambda _: web.Response()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body, headers = await request.read(), dict(request.headers)
        got = Received(body, headers, self.verifier.is_valid_request(body, headers))
        self.received.append(got)
        return self.answer(got) if got.valid else web.Response(status=401)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    recorder = Bot()
    app = web.Application()
    app.router.add_post("/slack/events", recorder.handle)
    runner, recorder.url = await serve(app)
    yield recorder
    await runner.cleanup()


@pytest.fixture
async def slack(clock: ManualClock, bot: Bot) -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN, clock=clock, bot_url=bot.url, signing_secret=SECRET) as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.url)


async def triggers(slack: FakeSlack, bot: Bot, count: int) -> list[str]:
    for _ in range(count):
        await slack.slash_command(ALICE)
    return [r.form()["trigger_id"] for r in bot.received[-count:]]


async def refused(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


async def test_post_update_and_thread_keep_latest_blocks_and_history(slack, client, clock):
    posted = await client.chat_postMessage(channel="#deploys", text="v1", blocks=[section("one")])
    assert posted["channel"] == DEPLOYS and posted["ts"].startswith("1700000000.")
    ts = posted["ts"]
    await client.chat_update(channel=DEPLOYS, ts=ts, text="v2", blocks=[section("two")])
    await client.chat_update(channel=DEPLOYS, ts=ts, text="v3")  # blocks left out: kept
    clock.advance(1.0)  # three messages at once is the channel's burst
    reply = await client.chat_postMessage(channel=DEPLOYS, text="log", thread_ts=ts)
    link = await client.chat_getPermalink(channel=DEPLOYS, message_ts=reply["ts"])
    msg = slack.message(DEPLOYS, ts)
    assert (msg.text, msg.blocks) == ("v3", [section("two")])
    assert [v.text for v in msg.versions] == ["v1", "v2", "v3"]
    assert [m.ts for m in slack.messages("#deploys")] == [ts]
    assert [r.text for r in slack.replies(DEPLOYS, ts)] == ["log"] and reply["ts"] > ts
    assert link["permalink"].endswith(f"?thread_ts={ts}&cid={DEPLOYS}")


async def test_form_encoded_calls_and_lookups(slack, client):
    form = {"channel": DEPLOYS, "text": "hi", "blocks": json.dumps([section("form")])}
    await client.api_call("chat.postMessage", data=form)
    assert slack.messages(DEPLOYS)[0].blocks == [section("form")]
    assert (await client.auth_test())["user_id"] == slack.workspace.bot_user_id
    user = (await client.users_info(user=BOB))["user"]
    assert (user["name"], user["tz"], user["tz_offset"]) == ("bob", "America/New_York", -18000)
    group = await client.usergroups_users_list(usergroup="S0REVIEWS")
    groups = (await client.usergroups_list())["usergroups"]
    assert group["users"] == [BOB, "U0CAROL00"] and groups[0]["handle"] == "reviewers"
    assert (await refused(client.users_info(user="U0NOBODY"))).response["error"] == "user_not_found"
    slack.workspace.add_channel("C0QUIET00", "quiet", member=False)
    error = await refused(client.chat_postMessage(channel="#quiet", text="x"))
    assert error.response["error"] == "not_in_channel"
    await client.conversations_join(channel="C0QUIET00")
    assert (await client.conversations_info(channel="C0QUIET00"))["channel"]["is_member"]


async def test_wrong_token_is_invalid_auth(slack):
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.url)
    error = await refused(wrong.chat_postMessage(channel=DEPLOYS, text="x"))
    assert error.response["error"] == "invalid_auth"
    assert slack.messages(DEPLOYS) == [] and slack.calls()[0].error == "invalid_auth"


@pytest.mark.parametrize(
    "blocks, pointer",
    [
        ([section("x") for _ in range(51)], "/blocks]"),
        ([section("x" * 3001)], "/blocks/0/text/text]"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/text/text]"),
        ([section("a", "same"), section("b", "same")], "/blocks/1/block_id]"),
    ],
)
async def test_slack_limits_are_enforced(slack, client, blocks, pointer):
    error = await refused(client.chat_postMessage(channel=DEPLOYS, text="x", blocks=blocks))
    assert error.response["error"] == "invalid_blocks"
    assert error.response["response_metadata"]["messages"][0].endswith(pointer)
    assert slack.messages(DEPLOYS) == []


async def test_limits_at_the_edge_pass_and_long_text_fails(slack, client):
    await client.chat_postMessage(channel=DEPLOYS, text="x", blocks=[section("x" * 3000)] * 50)
    error = await refused(client.chat_postMessage(channel=DEPLOYS, text="x" * 40_001))
    assert error.response["error"] == "msg_too_long"


async def test_second_quick_post_to_a_channel_is_rate_limited(clock):
    async with FakeSlack(token=TOKEN, clock=clock, message_rate=MessageRate(burst=1)) as fake:
        client = AsyncWebClient(token=TOKEN, base_url=fake.url)
        await client.chat_postMessage(channel=DEPLOYS, text="one")
        error = await refused(client.chat_postMessage(channel=DEPLOYS, text="two"))
        await client.chat_postMessage(channel="C0GENERAL", text="other channel")
        clock.advance(1.0)
        await client.chat_postMessage(channel=DEPLOYS, text="three")
    assert error.response.status_code == 429 and error.response["error"] == "ratelimited"
    assert error.response.headers["Retry-After"] == "1"
    assert [m.text for m in fake.messages(DEPLOYS)] == ["one", "three"]


async def test_failures_on_demand_and_outages(slack, client):
    slack.fail_next("chat.postMessage", status=500)
    slack.fail_next("users.info", error="fatal_error", count=2)
    broken = await refused(client.chat_postMessage(channel=DEPLOYS, text="x"))
    assert broken.response.status_code == 500
    await client.chat_postMessage(channel=DEPLOYS, text="x")
    for _ in range(2):
        assert (await refused(client.users_info(user=BOB))).response["error"] == "fatal_error"
    await client.users_info(user=BOB)
    slack.fail_next("*", status=429, retry_after=7)
    assert (await refused(client.auth_test())).response.headers["Retry-After"] == "7"
    assert (await refused(client.api_call("chat.nonsense"))).response["error"] == "unknown_method"
    slack.down()
    assert (await refused(client.auth_test())).response.status_code == 503
    slack.down("drop")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.auth_test()
    slack.up()
    assert (await client.auth_test())["ok"]


async def test_wait_for_wakes_on_calls_without_sleeping(slack, client):
    task = asyncio.create_task(client.chat_postMessage(channel=DEPLOYS, text="later"))
    assert (await slack.wait_for(lambda: next(iter(slack.messages(DEPLOYS)), None))).text == "later"
    await task
    call = await slack.wait_for_call("chat.postMessage")
    assert call.ok and call.params["channel"] == DEPLOYS
    with pytest.raises(TimeoutError, match="chat.postMessage"):
        await slack.wait_for(lambda: slack.calls("views.open"), timeout=0.05)


def test_signatures_verify_with_slack_sdk():
    body, now = b"token=x&command=%2Fdeploy", int(time.time())
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, sign(SECRET, body, now))
    assert not verifier.is_valid_request(body, sign("forged", body, now))
    assert not verifier.is_valid_request(body, sign(SECRET, body, now - 360))
    assert not verifier.is_valid_request(body + b"x", sign(SECRET, body, now))


async def test_slash_command_is_form_encoded_and_signed(slack, bot):
    bot.answer = lambda _: web.json_response({"text": "On it"})
    reply = await slack.slash_command(ALICE, "shop prod", "#deploys")
    got = bot.received[0]
    form = got.form()
    assert got.valid and got.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert set(form) >= {"token", "team_id", "team_domain", "channel_name", "user_name"}
    expected = {"channel_id": DEPLOYS, "user_id": ALICE, "command": "/deploy", "text": "shop prod"}
    assert form.items() >= expected.items() and form["api_app_id"] == slack.workspace.app_id
    assert reply.status == 200 and slack.ephemerals(ALICE)[0].text == "On it"
    hook = AsyncWebhookClient(form["response_url"])
    await hook.send(text="Deploying", response_type="in_channel")
    await hook.send(text="Only you see this")
    assert [m.text for m in slack.messages(DEPLOYS)] == ["Deploying"]
    assert [e.via for e in slack.ephemerals(ALICE)] == ["command_response", "response_url"]


async def test_trigger_ids_open_one_modal_within_three_seconds(slack, client, clock, bot):
    first, second = await triggers(slack, bot, 2)
    view = (await client.views_open(trigger_id=first, view=MODAL))["view"]
    assert slack.modals(ALICE)[0].id == view["id"] and view["callback_id"] == "deploy"
    error = await refused(client.views_open(trigger_id=first, view=MODAL))
    assert error.response["error"] == "exchanged_trigger_id"
    clock.advance(3.5)
    error = await refused(client.views_open(trigger_id=second, view=MODAL))
    assert error.response["error"] == "expired_trigger_id"
    error = await refused(client.views_open(trigger_id="1.2.bogus", view=MODAL))
    assert error.response["error"] == "invalid_trigger_id"


async def test_click_sends_block_actions_built_from_the_stored_message(slack, client, bot):
    blocks = [section("Deploy shop to prod?"), buttons("approve", "reject")]
    ts = (await client.chat_postMessage(channel=DEPLOYS, text="Approve?", blocks=blocks))["ts"]
    await slack.click(BOB, (DEPLOYS, ts), "decide", "reject")
    payload = bot.received[0].payload()
    assert bot.received[0].valid and payload["type"] == "block_actions"
    where = {"type": "message", "message_ts": ts, "channel_id": DEPLOYS, "is_ephemeral": False}
    assert payload["container"] == where
    assert payload["user"]["id"] == BOB and payload["channel"] == {"id": DEPLOYS, "name": "deploys"}
    assert payload["message"]["ts"] == ts and payload["message"]["blocks"][1] == blocks[1]
    action = payload["actions"][0]
    assert (action["action_id"], action["block_id"]) == ("decide", "decide")
    assert (action["type"], action["value"]) == ("button", "reject")
    assert payload["trigger_id"] and payload["message"]["blocks"][0]["block_id"]
    await AsyncWebhookClient(payload["response_url"]).send(text="Rejected", replace_original=True)
    assert slack.message(DEPLOYS, ts).text == "Rejected" and slack.message(DEPLOYS, ts).blocks == []
    with pytest.raises(StandInError):
        await slack.click(BOB, (DEPLOYS, ts), "decide")


async def test_submit_view_and_options_load(slack, client, bot):
    [trigger] = await triggers(slack, bot, 1)
    view_id = (await client.views_open(trigger_id=trigger, view=MODAL))["view"]["id"]
    bot.answer = lambda _: web.json_response({"options": [PROD]})
    options = await slack.block_suggestion(ALICE, view_id, "env", "env", "pr")
    suggestion = bot.received[-1].payload()
    assert options["options"][0]["value"] == "prod"
    assert (suggestion["type"], suggestion["value"]) == ("block_suggestion", "pr")
    assert (suggestion["action_id"], suggestion["container"]["view_id"]) == ("env", view_id)
    errors = {"response_action": "errors", "errors": {"ref": "No such ref"}}
    bot.answer = lambda _: web.json_response(errors)
    reply = await slack.submit_view(ALICE, view_id, {"ref": {"ref": "v9"}, "env": {"env": "prod"}})
    submitted = bot.received[-1].payload()
    assert reply.data == errors and slack.view(view_id).errors == {"ref": "No such ref"}
    assert submitted["type"] == "view_submission" and submitted["view"]["id"] == view_id
    assert submitted["view"]["state"]["values"] == {
        "ref": {"ref": {"type": "plain_text_input", "value": "v9"}},
        "env": {"env": {"type": "external_select", "selected_option": PROD}},
    }
    with pytest.raises(StandInError, match="required"):  # Slack would not let Alice submit
        await slack.submit_view(ALICE, view_id, {"env": {"env": "prod"}})
    bot.answer = lambda _: web.Response()
    await slack.submit_view(ALICE, view_id, {"ref": {"ref": "v1"}, "env": {"env": "prod"}})
    assert slack.modals(ALICE) == [] and not slack.view(view_id).is_open


async def test_clicks_on_ephemeral_messages_and_views(slack, client, bot):
    blocks = [buttons("yes", "no")]
    sent = await client.chat_postEphemeral(channel=DEPLOYS, user=ALICE, text="Sure?", blocks=blocks)
    await slack.click(ALICE, (DEPLOYS, sent["message_ts"]), "decide", "yes")
    payload = bot.received[0].payload()
    assert payload["container"]["is_ephemeral"] and "message" not in payload
    await AsyncWebhookClient(payload["response_url"]).send(delete_original=True)
    assert slack.ephemerals(ALICE) == []
    home = await client.views_publish(user_id=ALICE, view={"type": "home", "blocks": blocks})
    await slack.click_view(ALICE, home["view"]["id"], "decide", "no")
    payload = bot.received[1].payload()
    assert payload["container"] == {"type": "view", "view_id": home["view"]["id"]}
    assert payload["view"]["type"] == "home" and "response_url" not in payload
    assert payload["actions"][0]["value"] == "no"


async def test_views_update_by_hash_and_push_three_deep(slack, client, bot):
    given = await triggers(slack, bot, 4)
    view = (await client.views_open(trigger_id=given[0], view=MODAL))["view"]
    renamed = MODAL | {"callback_id": "renamed"}
    await client.views_update(view_id=view["id"], view=renamed, hash=view["hash"])
    error = await refused(client.views_update(view_id=view["id"], view=MODAL, hash=view["hash"]))
    assert error.response["error"] == "hash_conflict"
    assert slack.view(view["id"]).spec["callback_id"] == "renamed"
    for trigger in given[1:3]:
        await client.views_push(trigger_id=trigger, view=MODAL)
    error = await refused(client.views_push(trigger_id=given[3], view=MODAL))
    assert error.response["error"] == "push_limit_reached" and len(slack.modals(ALICE)) == 3


async def test_open_home_sends_a_signed_event_callback(slack, client, bot):
    home = {"type": "home", "blocks": [section("Recent deploys")]}
    published = await client.views_publish(user_id=ALICE, view=home)
    await slack.open_home(ALICE)
    got = bot.received[0]
    envelope = json.loads(got.body)
    assert got.valid and got.headers["Content-Type"] == "application/json"
    assert envelope["type"] == "event_callback" and envelope["api_app_id"] == slack.workspace.app_id
    event = envelope["event"]
    assert (event["type"], event["user"], event["tab"]) == ("app_home_opened", ALICE, "home")
    assert event["view"]["id"] == published["view"]["id"] == slack.home(ALICE).id


async def test_a_bolt_app_accepts_what_the_stand_in_sends(slack):
    app = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token=TOKEN, base_url=slack.url))

    @app.command("/deploy")
    async def deploy(ack, body, client, respond):
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        await respond(f"Deploying {body['text']}")

    @app.view("deploy")
    async def submitted(ack, view):
        ref = view["state"]["values"]["ref"]["ref"]["value"]
        await ack(response_action="errors", errors={"ref": f"{ref} is not a tag"})

    runner, url = await serve(app.web_app(path="/slack/events"))
    try:
        slack.connect_bot(url, SECRET)
        assert (await slack.slash_command(ALICE, "shop prod")).status == 200
        view = await slack.wait_for(lambda: next(iter(slack.modals(ALICE)), None))
        note = await slack.wait_for(lambda: slack.ephemerals(ALICE))
        values = {"ref": {"ref": "main"}, "env": {"env": "x"}}
        reply = await slack.submit_view(ALICE, view.id, values)
        slack.connect_bot(url, "forged-secret")
        forged = await slack.slash_command(ALICE, "shop prod")
    finally:
        await runner.cleanup()
    assert note[0].text == "Deploying shop prod"
    assert reply.data == {"response_action": "errors", "errors": {"ref": "main is not a tag"}}
    assert forged.status == 401
