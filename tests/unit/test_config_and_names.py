from pathlib import Path

import pytest

from core.config import Settings
from core.errors import UsageError
from core.inventory.names import check_absolute, check_slug, not_found, split_list
from core.store.db import connection_name, redact_url


def test_settings_default_to_sqlite_under_home(tmp_path: Path):
    settings = Settings.from_env({"HOIST_HOME": str(tmp_path)})
    assert settings.database_url == f"sqlite://{tmp_path}/hoist.sqlite3"
    assert settings.embedded and settings.secret_key is None
    assert settings.secret_file == tmp_path / "secret.key"


def test_settings_take_a_shared_database():
    settings = Settings.from_env({"HOIST_DATABASE_URL": "postgres://h@db/hoist"})
    assert not settings.embedded


def test_redact_url_hides_only_the_password():
    assert (
        redact_url("mysql://root:pw@127.0.0.1:3306/test") == "mysql://root:***@127.0.0.1:3306/test"
    )
    assert redact_url("sqlite:///tmp/x.db") == "sqlite:///tmp/x.db"


def test_connections_are_named_by_database_kind():
    assert connection_name("postgres://x/y") == "hoist_postgres"
    assert connection_name("sqlite:///a") == "hoist_sqlite"


def test_unknown_names_suggest_close_ones():
    error = not_found("project", "shpo", ["shop", "blog"])
    assert str(error) == "unknown project `shpo` (did you mean `shop`?)"
    assert str(not_found("project", "zzz", ["shop"])) == "unknown project `zzz`"


@pytest.mark.parametrize("path", ["data/prod", "/data/../etc", "/data/x\n"])
def test_paths_must_be_absolute_and_plain(path):
    with pytest.raises(UsageError, match="must be an absolute path"):
        check_absolute("deploy path", path)


def test_slugs_and_lists():
    assert check_slug("shop-2") == "shop-2"
    with pytest.raises(UsageError):
        check_slug("Shop")
    assert split_list(" a, b,,c ") == ["a", "b", "c"] and split_list(None) == []
