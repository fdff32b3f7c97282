"""Database engines and sessions: SQLite by default, PostgreSQL through TOCSIN_DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from tocsin.core.config import get_settings
from tocsin.core.errors import Conflict


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


_ENGINES: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """One engine (and connection pool) per database URL for the life of the process."""
    url = normalise_url(url)
    if url not in _ENGINES:
        _ENGINES[url] = _create(url)
    return _ENGINES[url]


def dispose_engines() -> None:
    """Close every pooled connection (tests, and processes that fork)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def _create(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def current_engine() -> Engine:
    """The engine for the configured database, migrated to the newest schema on first use."""
    from tocsin.db.migrate import ensure_schema

    engine = engine_for(get_settings().resolved_database_url)
    ensure_schema(engine)
    return engine


CONCURRENT_CHANGE = (
    "the incident was changed by someone else at the same time; nothing was written, reload and try again"
)


def _is_audit_race(error: IntegrityError) -> bool:
    text = str(error.orig)
    return "uq_audit_incident_seq" in text or "audit_event.incident_id, audit_event.seq" in text


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(current_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except StaleDataError:
            session.rollback()
            raise Conflict(CONCURRENT_CHANGE) from None
        except IntegrityError as error:
            session.rollback()
            if _is_audit_race(error):  # two writers appended the same timeline position
                raise Conflict(CONCURRENT_CHANGE) from None
            raise
        except BaseException:
            session.rollback()
            raise
