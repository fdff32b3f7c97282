"""Alembic, driven from code: `tocsin db upgrade`, and an automatic upgrade on first use.

Alembic itself is imported only when a migration has to run: checking that a database is
current is one query against `alembic_version`, so everyday commands start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions; a test checks it against Alembic's own head.
SCHEMA_HEAD = "0017"
_checked: set[str] = set()


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        return None


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine) -> None:
    """Upgrade to head once per process and database."""
    key = engine.url.render_as_string(hide_password=False)
    if key in _checked:
        return
    if current_revision(engine) != SCHEMA_HEAD:
        upgrade(engine)
    _checked.add(key)
