"""Shared fixtures: an isolated TOCSIN_HOME per test, and the database under test.

`tocsin_db` runs a test once on SQLite and once on PostgreSQL (127.0.0.1:5432, database `test`,
a fresh schema per test). Without a reachable PostgreSQL the Postgres cases are skipped, except
under CI=true, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get("TOCSIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_problem() -> str | None:
    import psycopg

    try:
        with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except Exception as error:  # any failure means: not usable here
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {error}"
    return None


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(problem + " (CI=true: the Postgres tests must run)")
    pytest.skip(problem)


def _reset_caches() -> None:
    from tocsin.core.config import get_settings
    from tocsin.db import migrate
    from tocsin.db.engine import dispose_engines

    get_settings.cache_clear()
    dispose_engines()
    migrate._checked.clear()


@pytest.fixture(autouse=True)
def tocsin_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "tocsin-home"
    monkeypatch.setenv("TOCSIN_HOME", str(home))
    monkeypatch.delenv("TOCSIN_DATABASE_URL", raising=False)
    monkeypatch.delenv("TOCSIN_CONFIG", raising=False)
    monkeypatch.setenv("TOCSIN_USER", "tester")
    # Local mode unless a test logs in: never the developer's own login (~/.config/tocsin/login.json).
    monkeypatch.setenv("TOCSIN_LOGIN_FILE", str(tmp_path / "login.json"))
    monkeypatch.delenv("TOCSIN_SERVER", raising=False)
    monkeypatch.delenv("TOCSIN_TOKEN", raising=False)
    monkeypatch.setenv("TOCSIN_TIMEZONE", "UTC")
    monkeypatch.chdir(tmp_path)
    _reset_caches()
    yield home
    _reset_caches()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def tocsin_db(request: pytest.FixtureRequest, tocsin_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The database URL under test, set as TOCSIN_DATABASE_URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tocsin_home / 'tocsin.db'}"
        monkeypatch.setenv("TOCSIN_DATABASE_URL", url)
        yield url
        return
    request.getfixturevalue("postgres_available")
    yield from _postgres_schema(monkeypatch)


def _postgres_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = POSTGRES_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    monkeypatch.setenv("TOCSIN_DATABASE_URL", url)
    try:
        yield url
    finally:
        from tocsin.db.engine import dispose_engines

        dispose_engines()
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
