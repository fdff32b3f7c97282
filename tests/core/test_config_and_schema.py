"""Configuration sources, secret masking, the state folder, and the migrations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ok
from tocsin.core.config import Settings, get_settings


def test_defaults_live_under_tocsin_home(tocsin_home: Path) -> None:
    settings = Settings()
    assert settings.home == tocsin_home
    assert settings.resolved_database_url == f"sqlite:///{tocsin_home / 'tocsin.db'}"
    assert settings.outbox_dir == tocsin_home / "outbox"


def test_default_home_is_per_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TOCSIN_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Settings().home == tmp_path / "xdg" / "tocsin"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert Settings().home == Path.home() / ".local" / "share" / "tocsin"


def test_toml_env_and_dotenv_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tocsin.toml").write_text('default_locale = "de"\ntimezone = "Europe/Berlin"\nemail_from = "a@b.c"\n')
    (tmp_path / ".env").write_text("TOCSIN_DEFAULT_LOCALE=fr\n")
    monkeypatch.delenv("TOCSIN_TIMEZONE")
    settings = Settings()
    assert settings.default_locale == "fr"  # .env beats tocsin.toml
    assert settings.timezone == "Europe/Berlin"
    monkeypatch.setenv("TOCSIN_DEFAULT_LOCALE", "en")
    assert Settings().default_locale == "en"  # the environment beats both


def test_config_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_SLACK_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("TOCSIN_SENDGRID_API_KEY", "SG.secret-key")
    monkeypatch.setenv("TOCSIN_DATABASE_URL", "postgresql://tocsin:hunter2@127.0.0.1:5432/test")
    get_settings.cache_clear()
    for output in (ok("config", "--json").stdout, ok("config").stdout):
        assert "xoxb-very-secret" not in output and "SG.secret-key" not in output and "hunter2" not in output
    shown = json.loads(ok("config", "--json").stdout)
    assert shown["slack_token"] == "********"
    assert shown["database_url"] == "postgresql://tocsin:***@127.0.0.1:5432/test"


def test_schema_head_constant_matches_alembic() -> None:
    from tocsin.db.migrate import SCHEMA_HEAD, head_revision

    assert head_revision() == SCHEMA_HEAD


def test_first_use_upgrades_and_db_commands_report(tocsin_db: str) -> None:
    from tocsin.db.migrate import SCHEMA_HEAD

    assert f"at revision {SCHEMA_HEAD}" in ok("db", "upgrade").stdout
    current = ok("db", "current", "--json").json()
    assert current["current"] == current["head"] == SCHEMA_HEAD


def test_models_match_the_migrations(tocsin_db: str) -> None:
    """Autogenerate finds nothing to do: the migrations create exactly the tables the models declare."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    from tocsin.db.engine import current_engine

    with current_engine().connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    # APScheduler's job table is created by the migrations but defined by APScheduler, not a model.
    differences = [d for d in differences if "apscheduler_jobs" not in repr(d[1])]
    assert differences == []
