"""Health check settings: what may be stored, how it is stored, and the URL each server gets."""

from __future__ import annotations

import pytest

from core.errors import UsageError
from core.health.spec import HealthCheck, HealthCheckError


def test_defaults_and_stored_form_round_trip():
    check = HealthCheck(http_url="http://{server}:8080/health")
    assert check.stored() == {
        "url": "http://{server}:8080/health",
        "status": 200,
        "body": "",
        "command": None,
        "timeout": 5.0,
        "passes": 1,
        "interval": 2.0,
        "wait": 60.0,
    }
    assert HealthCheck.from_stored(check.stored()) == check
    assert HealthCheck.from_stored(None) is None


def test_stored_form_may_leave_out_defaults_and_carry_unknown_keys():
    check = HealthCheck.from_stored({"command": "true", "passes": 3, "added_later": 1})
    assert check == HealthCheck(command="true", passes=3)


def test_whole_seconds_are_stored_as_numbers_of_seconds():
    check = HealthCheck(command="true", timeout=3, interval=1, wait=10)
    assert check.stored()["timeout"] == 3.0 and isinstance(check.stored()["timeout"], float)


def test_url_placeholders_take_the_address_and_the_name():
    check = HealthCheck(http_url="https://{server}:8443/ping?from={name}")
    assert check.url_for("10.0.0.1", "web1") == "https://10.0.0.1:8443/ping?from=web1"
    assert check.url_for("2001:db8::1", "web2") == "https://[2001:db8::1]:8443/ping?from=web2"
    assert HealthCheck(command="true").url_for("10.0.0.1", "web1") is None


def test_a_url_without_placeholders_asks_one_place_for_every_server():
    check = HealthCheck(http_url="http://lb.example/health")
    assert check.url_for("10.0.0.1", "web1") == "http://lb.example/health"


def test_blank_url_or_command_is_no_url_or_command():
    assert HealthCheck(http_url=" ", command="true").http_url is None
    assert HealthCheck(http_url="http://x/", command="").command is None


@pytest.mark.parametrize(
    ("values", "key", "message"),
    [
        ({}, "url", "needs a URL to ask or a command to run"),
        ({"http_url": "", "command": "  "}, "url", "needs a URL"),
        ({"http_url": "ftp://{server}/"}, "url", "must be an http:// or https:// URL"),
        ({"http_url": "{server}/health"}, "url", "must be an http:// or https:// URL"),
        ({"http_url": "http://"}, "url", "with a host"),
        ({"http_url": "http://{server}:99999/"}, "url", "must be an http"),
        ({"http_url": "http://{server}/a b"}, "url", "contains spaces"),
        ({"command": "true", "http_status": 42}, "status", "status 42 is not an HTTP status"),
        ({"command": "true", "http_status": 600}, "status", "(100 to 599)"),
        ({"command": "true", "passes": 0}, "passes", "passes must be at least 1, not 0"),
        ({"command": "true", "interval": 0}, "interval", "interval must be more than 0"),
        ({"command": "true", "timeout": -1}, "timeout", "timeout must be more than 0"),
        (
            {"command": "true", "interval": 5, "wait": 2},
            "wait",
            "wait (2s) must be at least its interval (5s)",
        ),
        (
            {"command": "true", "passes": 4, "interval": 2, "wait": 5},
            "wait",
            "too short for 4 passes every 2s: make it at least 6s",
        ),
        ({"command": "true", "http_status": "200"}, "status", "status must be a whole number"),
        ({"command": "true", "passes": True}, "passes", "passes must be a whole number"),
        ({"command": "true", "wait": "1m"}, "wait", "wait must be a number of seconds"),
        ({"command": 3}, "command", "command must be text"),
    ],
)
def test_invalid_checks_are_refused_naming_the_setting(values, key, message):
    with pytest.raises(HealthCheckError) as caught:
        HealthCheck(**values)
    assert caught.value.key == key
    assert message in str(caught.value)
    assert isinstance(caught.value, UsageError)


def test_describe_says_what_is_asked_and_how_patiently():
    check = HealthCheck(
        http_url="http://{server}/health", http_body="ok", command="systemctl is-active shop"
    )
    assert check.describe() == (
        'GET http://{server}/health → 200 containing "ok" and `systemctl is-active shop` '
        "exits 0; 1 pass, every 2s, at most 60s, 5s per attempt"
    )
    assert (
        "3 consecutive passes, every 0.5s"
        in HealthCheck(command="true", passes=3, interval=0.5).describe()
    )
