"""A project's digest schedule through `hoist project` and `hoist apply`, on every backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.store.models import AuditEvent
from tests.conftest import CliCall, ok, refused

WEEKDAYS_AT_FIVE = "0 17 * * 1-5"

INVENTORY = """\
[projects.shop]
repo = "git@example.test:acme/shop.git"
channel = "#shop"
digest = "0 17 * * 1-5"
digest_timezone = "Europe/Berlin"

[projects.shop.environments.prod]
path = "/data/prod/"
"""


@pytest.fixture
def shop(hoist: CliCall) -> CliCall:
    ok(hoist("project", "add", "shop", "--repo", "git@example.test:acme/shop.git"))
    return hoist


def project(hoist: CliCall, slug: str = "shop") -> dict:
    [row] = [r for r in json.loads(ok(hoist("project", "list", "--json"))) if r["name"] == slug]
    return row


def test_set_digest_stores_lists_and_audits_it(shop: CliCall, query):
    out = ok(
        shop("project", "set", "shop", "--digest", WEEKDAYS_AT_FIVE, "--digest-tz", "Europe/Berlin")
    )
    assert "digest_cron None → '0 17 * * 1-5'" in out
    assert "digest_timezone 'UTC' → 'Europe/Berlin'" in out
    row = project(shop)
    assert (row["digest_cron"], row["digest_timezone"]) == (WEEKDAYS_AT_FIVE, "Europe/Berlin")
    assert row["digest"] == "0 17 * * 1-5 (Europe/Berlin)"
    upcoming = datetime.fromisoformat(row["digest_next"]).astimezone(ZoneInfo("Europe/Berlin"))
    assert upcoming > datetime.now(UTC)
    assert upcoming.strftime("%H:%M") == "17:00" and upcoming.isoweekday() <= 5
    wide = {"COLUMNS": "200"}  # the table folds long cells at the terminal's width
    assert "0 17 * * 1-5 (Europe/Berlin)" in ok(shop("project", "list", env=wide))
    [event] = query(lambda: AuditEvent.filter(action="project.set").all())
    assert event.target == "project:shop"
    assert event.details == {"digest_cron": WEEKDAYS_AT_FIVE, "digest_timezone": "Europe/Berlin"}


def test_show_prints_one_project_with_its_digest(shop: CliCall):
    ok(shop("project", "set", "shop", "--digest", "30 9 * * 1"))
    lines = ok(shop("project", "show", "shop")).splitlines()
    assert any(line.split() == ["digest", "30", "9", "*", "*", "1", "(UTC)"] for line in lines)
    assert any(line.split() == ["channel", "-"] for line in lines)
    shown = json.loads(ok(shop("project", "show", "shop", "--json")))
    assert shown == project(shop) | {"digest_next": shown["digest_next"]}
    assert datetime.fromisoformat(shown["digest_next"]).strftime("%a %H:%M") == "Mon 09:30"
    refused(shop("project", "show", "shpo"), "unknown project `shpo`", "`shop`")


def test_no_digest_clears_it_and_keeps_the_zone(shop: CliCall):
    ok(shop("project", "set", "shop", "--digest", WEEKDAYS_AT_FIVE, "--digest-tz", "Asia/Tokyo"))
    out = ok(shop("project", "set", "shop", "--no-digest"))
    assert "digest_cron '0 17 * * 1-5' → None" in out
    row = project(shop)
    assert (row["digest_cron"], row["digest"], row["digest_next"]) == (None, None, None)
    assert row["digest_timezone"] == "Asia/Tokyo"
    assert ok(shop("project", "set", "shop", "--no-digest")).strip() == "project shop: no changes"


def test_spacing_is_normalized_so_the_same_schedule_is_no_change(shop: CliCall):
    ok(shop("project", "set", "shop", "--digest", " 0  17 *  * 1-5 "))
    assert project(shop)["digest_cron"] == WEEKDAYS_AT_FIVE
    assert "no changes" in ok(shop("project", "set", "shop", "--digest", WEEKDAYS_AT_FIVE))


def test_add_takes_a_digest_too(hoist: CliCall):
    args = ("project", "add", "blog", "--repo", "x", "--digest", "0 8 1 * *")
    ok(hoist(*args, "--digest-tz", "America/New_York"))
    row = project(hoist, "blog")
    assert row["digest"] == "0 8 1 * * (America/New_York)"
    assert datetime.fromisoformat(row["digest_next"]).day == 1
    refused(hoist("project", "add", "p2", "--repo", "x", "--digest", "0 8 32 * *"), "day of month")
    assert [r["name"] for r in json.loads(ok(hoist("project", "list", "--json")))] == ["blog"]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--digest", "0 17 * *"), ["has 4 fields", "a crontab line has 5"]),
        (("--digest", "0 25 * * 1-5"), ["hour `25` is out of range: use 0–23"]),
        (("--digest", "0 17 * * 9"), ["weekday `9` is out of range"]),
        (("--digest", "0 17 1 * 1"), ["names both days of the month and weekdays"]),
        (("--digest", "0 17 * * *", "--digest-tz", "Europe/Berln"), ["`Europe/Berlin`"]),
        (("--digest-tz", "Mars/Olympus"), ["unknown time zone `Mars/Olympus`"]),
        (("--digest", "0 17 * * *", "--no-digest"), ["--digest CRON or --no-digest, not both"]),
    ],
)
def test_wrong_schedules_are_refused_and_change_nothing(shop: CliCall, query, args, fragments):
    refused(shop("project", "set", "shop", *args), *fragments)
    row = project(shop)
    assert (row["digest_cron"], row["digest_timezone"]) == (None, "UTC")
    assert query(lambda: AuditEvent.filter(action="project.set").count()) == 0


@pytest.fixture
def inventory_file(tmp_path: Path) -> Path:
    path = tmp_path / "inventory.toml"
    path.write_text(INVENTORY)
    return path


def test_apply_sets_the_digest_and_dry_run_shows_a_change(hoist: CliCall, inventory_file: Path):
    ok(hoist("apply", str(inventory_file)))
    row = project(hoist)
    assert row["digest"] == "0 17 * * 1-5 (Europe/Berlin)"
    assert ok(hoist("apply", str(inventory_file))).strip() == "no changes"
    inventory_file.write_text(INVENTORY.replace("1-5", "1-4").replace("Berlin", "Paris"))
    out = ok(hoist("apply", "--dry-run", str(inventory_file)))
    assert out.splitlines() == [
        "~ project shop (digest_cron, digest_timezone)",
        "would change 1 object",
    ]
    assert project(hoist)["digest"] == "0 17 * * 1-5 (Europe/Berlin)"
    ok(hoist("apply", str(inventory_file)))
    assert project(hoist)["digest"] == "0 17 * * 1-4 (Europe/Paris)"


def test_a_project_in_the_file_without_a_digest_has_none(hoist: CliCall, inventory_file: Path):
    ok(hoist("apply", str(inventory_file)))
    inventory_file.write_text(INVENTORY.replace('digest = "0 17 * * 1-5"\n', ""))
    assert "~ project shop (digest_cron)" in ok(hoist("apply", str(inventory_file)))
    row = project(hoist)
    assert (row["digest_cron"], row["digest_timezone"]) == (None, "Europe/Berlin")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('digest = "0 17 * * 1-5"', 'digest = "0 17 * * 8"'),
            "inventory.toml line 4: digest schedule `0 17 * * 8`: weekday `8` is out of range",
        ),
        (
            ('digest = "0 17 * * 1-5"', 'digest = "17:00"'),
            "inventory.toml line 4: digest schedule `17:00` has 1 field,",
        ),
        (
            ('digest = "0 17 * * 1-5"', "digest = 17"),
            "inventory.toml line 4: `digest` must be a string",
        ),
        (
            ('"Europe/Berlin"', '"Europe/Berln"'),
            "inventory.toml line 5: unknown time zone `Europe/Berln` (did you mean `Europe/Berlin`",
        ),
        (
            ('digest_timezone = "Europe/Berlin"', 'digest_tz = "UTC"'),
            "inventory.toml line 5: unknown setting `digest_tz`",
        ),
    ],
)
def test_apply_digest_errors_name_the_line(hoist: CliCall, inventory_file: Path, change, expected):
    inventory_file.write_text(INVENTORY.replace(*change))
    refused(hoist("apply", str(inventory_file)), expected)
    assert json.loads(ok(hoist("project", "list", "--json"))) == []
