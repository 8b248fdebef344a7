"""Signed task links, and the masking of secrets in the logs the task pages serve."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from bot.web.redact import KEY_MASK, LineRedactor, redact
from core.secrets import generate_secret
from core.weblinks import LINK_TTL, LinkRefused, link_key, sign, verify
from tests.clock import START

KEY = link_key(generate_secret())
EXPIRES = START + LINK_TTL


def test_a_link_round_trips_and_keeps_the_viewer():
    token = sign(42, "U0ALICE", EXPIRES, KEY)
    assert verify(token, 42, START, KEY) == "U0ALICE"
    assert verify(token, 42, EXPIRES - timedelta(seconds=1), KEY) == "U0ALICE"


def test_a_viewer_with_odd_characters_is_kept_whole():
    token = sign(7, "U1:weird.name=", EXPIRES, KEY)
    assert verify(token, 7, START, KEY) == "U1:weird.name="


def test_the_link_key_is_derived_and_stable():
    secret = generate_secret()
    assert link_key(secret) == link_key(secret) != link_key(generate_secret())
    assert secret.encode() not in link_key(secret) and len(link_key(secret)) == 32


def test_an_expired_link_is_refused():
    token = sign(42, "U0ALICE", EXPIRES, KEY)
    with pytest.raises(LinkRefused):
        verify(token, 42, EXPIRES, KEY)
    with pytest.raises(LinkRefused):
        verify(token, 42, EXPIRES + timedelta(days=1), KEY)


def test_a_link_for_another_task_is_refused():
    token = sign(42, "U0ALICE", EXPIRES, KEY)
    with pytest.raises(LinkRefused):
        verify(token, 43, START, KEY)


def test_an_altered_link_is_refused():
    token = sign(42, "U0ALICE", EXPIRES, KEY)
    payload, mac = token.split(".")
    forged = base64.urlsafe_b64encode(b"43:9999999999:U0ALICE").rstrip(b"=").decode()
    flipped = mac[:-2] + ("A" if mac[-2] != "A" else "B") + mac[-1]
    for bad in (f"{forged}.{mac}", f"{payload}.{flipped}", token + "x"):
        with pytest.raises(LinkRefused):
            verify(bad, 42, START, KEY)
    with pytest.raises(LinkRefused):
        verify(token, 42, START, link_key(generate_secret()))


@pytest.mark.parametrize("bad", ["", ".", "abc", "a.b.c", "!!!.???", "é.é", "...."])
def test_a_malformed_link_is_refused(bad):
    with pytest.raises(LinkRefused):
        verify(bad, 42, START, KEY)


def test_a_validly_signed_but_malformed_payload_is_refused():
    import hashlib
    import hmac

    payload = b"not-a-number:also-not:U1"
    mac = hmac.new(KEY, payload, hashlib.sha256).digest()
    enc = base64.urlsafe_b64encode
    token = f"{enc(payload).decode().rstrip('=')}.{enc(mac).decode().rstrip('=')}"
    with pytest.raises(LinkRefused):
        verify(token, 42, START, KEY)


def test_the_token_holds_no_secret():
    secret = generate_secret()
    token = sign(42, "U0ALICE", EXPIRES, link_key(secret))
    assert secret not in token
    assert b"42:" in base64.urlsafe_b64decode(token.split(".")[0] + "==")


FAKE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDzSECRETSECRETSECRETSECRETSECRETSECRETSECRETAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----"
)


def test_redact_masks_private_keys_url_passwords_and_slack_tokens():
    text = (
        f"before\n{FAKE_KEY}\nafter\n"
        "cloning https://deploy:hunter2@git.example.com/shop.git\n"
        "token xoxb-1234-5678-abcdEFGH and xoxp-9-9 and xapp-1-A-2\n"
    )
    masked = redact(text)
    assert "SECRETSECRET" not in masked and "BEGIN OPENSSH" not in masked
    assert f"before\n{KEY_MASK}\nafter" in masked
    assert "hunter2" not in masked and "https://***:***@git.example.com/shop.git" in masked
    assert "abcdEFGH" not in masked and "xoxb-***" in masked and "xoxp-***" in masked
    assert "xapp-***" in masked


def test_redact_masks_a_key_cut_by_the_omitted_middle():
    head_only = "start\n" + "\n".join(FAKE_KEY.splitlines()[:2])
    assert "b3BlbnNz" not in redact(head_only)
    tail_only = "… 900 bytes omitted …\n" + "\n".join(FAKE_KEY.splitlines()[2:]) + "\ndone"
    masked = redact(tail_only)
    assert "SECRETSECRET" not in masked and masked.endswith(f"{KEY_MASK}\ndone")


def test_redact_leaves_ordinary_output_alone():
    text = "deploying 1.2.3 to https://example.com/path as user@host\nsha 0123abcd"
    assert redact(text) == text


def test_live_lines_inside_a_key_block_are_hidden():
    redactor = LineRedactor()
    shown = [redactor.line(1, line) for line in ["hello", *FAKE_KEY.splitlines(), "bye"]]
    other = redactor.line(2, "xoxb-1-2-3 on another node")
    assert shown == ["hello", KEY_MASK, None, None, None, "bye"]
    assert other == "xoxb-*** on another node"


def test_a_token_spelled_differently_is_refused_even_if_it_decodes_the_same():
    key = link_key(generate_secret())
    token = sign(7, "U0ALICE00", datetime(2031, 1, 1, tzinfo=UTC), key)
    payload, mac = token.split(".")
    for variant in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_":
        altered = f"{payload}.{mac[:-1]}{variant}"
        if altered == token:
            continue
        with pytest.raises(LinkRefused):
            verify(altered, 7, datetime(2030, 1, 1, tzinfo=UTC), key)
