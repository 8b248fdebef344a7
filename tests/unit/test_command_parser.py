from datetime import timedelta

import pytest

from bot.command_parser import (
    Deploy,
    Help,
    History,
    Lock,
    OpenModal,
    Reschedule,
    Rollback,
    Status,
    TaskAction,
    Unlock,
    parse,
)
from core.errors import UsageError
from core.scheduling.times import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", OpenModal()),
        ("help", Help()),
        ("shop prod", Deploy("shop", "prod")),
        (
            "shop prod v1.0 --canary web1,web2 --note 'hotfix for login'",
            Deploy("shop", "prod", "v1.0", ("web1", "web2"), None, "hotfix for login"),
        ),
        ("shop prod --at=17:30", Deploy("shop", "prod", at="17:30")),
        ("shop prod v2 --plan careful", Deploy("shop", "prod", "v2", plan="careful")),
        ("continue 12", TaskAction("continue", 12)),
        ("abort #12", TaskAction("abort", 12)),
        ("status", Status()),
        ("status shop prod", Status("shop", "prod")),
        ("status #12", Status(task_id=12)),
        ("history shop", History("shop")),
        ("retry 12", TaskAction("retry", 12)),
        ("cancel #7", TaskAction("cancel", 7)),
        ("rollback shop prod", Rollback("shop", "prod")),
        (
            "rollback shop prod shop-v3-20260101000000",
            Rollback("shop", "prod", "shop-v3-20260101000000"),
        ),
        (
            "lock shop prod db migration running --for 2h",
            Lock("shop", "prod", "db migration running", timedelta(hours=2)),
        ),
        ("unlock shop prod", Unlock("shop", "prod")),
    ],
)
def test_commands(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shop", "usage: /deploy PROJECT ENV"),
        ("shop prod main extra", "usage: /deploy PROJECT ENV"),
        ("shop prod --canray web1", "unknown option `--canray`"),
        ("shop prod --plan", "`--plan` needs a value"),
        ("continue", "usage: /deploy continue ID"),
        ("shop prod --note", "`--note` needs a value"),
        ("retry", "usage: /deploy retry ID"),
        ("retry abc", "usage: /deploy retry ID"),
        ("rollback shop", "usage: /deploy rollback PROJECT ENV [VERSION]"),
        ("lock shop prod --for soon", "`soon` is not a duration"),
        ("shop prod --note 'unclosed", "check your quotes"),
    ],
)
def test_errors_say_what_would_be_right(text, message):
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(text)


def test_durations():
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert parse_duration("45m") == timedelta(minutes=45)
    with pytest.raises(UsageError):
        parse_duration("")


def test_reschedule_takes_an_id_and_the_rest_as_the_time():
    assert parse("reschedule #42 tomorrow 9:00") == Reschedule(42, "tomorrow 9:00")
    with pytest.raises(UsageError, match="usage: /deploy reschedule ID TIME"):
        parse("reschedule 42")
    with pytest.raises(UsageError, match="the task number"):
        parse("reschedule soon 17:00")
