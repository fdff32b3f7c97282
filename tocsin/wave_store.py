"""Bulk reads and writes of delivery rows for a notice wave (SQLAlchemy Core, one statement per chunk).

Kept apart from the wave's flow so that each statement is visible and cheap: a million-recipient wave
runs a few thousand statements, never one per recipient. The per-chunk statements go straight to the
driver as plain SQL: compiling a 1,000-value IN list through SQLAlchemy cost more than running it.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, text, update
from sqlmodel import Session

from tocsin.errors import Conflict
from tocsin.models.delivery import Delivery, Suppression
from tocsin.notifications.message import SendResult

DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
SUPPRESSIONS = Suppression.__table__  # type: ignore[attr-defined]
# Statuses meaning the provider took the message: never sent again.
SENT_STATUSES = frozenset({"accepted", "delivered", "bounced", "dropped", "spamreport", "unsubscribed"})
_ADVISORY_NAMESPACE = 0x70C5  # first key of pg_try_advisory_lock(int, int): "tocsin wave"


@dataclass(frozen=True, slots=True)
class ExistingDelivery:
    message_id: str
    status: str
    wave_id: int


def _matching(connection: Connection, column: str, values: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """A `column` IN values condition and its parameters. PostgreSQL: one parameter whatever the chunk size
    (one cached plan); strings without line breaks (addresses, message ids) travel as one newline-joined
    text, far cheaper for the driver to send than a text[] of 1,000 items. SQLite: a list of markers (chunks stay
    far below its 32,766 limit)."""
    if connection.dialect.name != "postgresql":
        return f"{column} IN ({','.join('?' * len(values))})", tuple(values)
    if all(value.__class__ is str and value for value in values):
        joined = "\n".join(values)
        if joined.count("\n") == len(values) - 1:
            return f"{column} = ANY(string_to_array(%s, E'\\n'))", (joined,)
    return f"{column} = ANY(%s)", (list(values),)


def suppressed_among(session: Session, emails: Sequence[str]) -> set[str]:
    if not emails:
        return set()
    connection = session.connection()
    condition, parameters = _matching(connection, "email", emails)
    cursor = connection.exec_driver_sql(f"SELECT email FROM {SUPPRESSIONS.name} WHERE {condition}", parameters)
    return {row[0] for row in cursor}


def existing_deliveries(
    session: Session, draft_ids: Iterable[int], emails: Sequence[str]
) -> dict[tuple[int, str], ExistingDelivery]:
    """The delivery rows of these drafts for these addresses (through the (email, draft) unique index)."""
    if not emails:
        return {}
    connection = session.connection()
    by_email, email_parameters = _matching(connection, "email", emails)
    by_draft, draft_parameters = _matching(connection, "draft_id", sorted(draft_ids))
    sql = f"SELECT draft_id, email, message_id, status, wave_id FROM {DELIVERIES.name} WHERE {by_email} AND {by_draft}"
    cursor = connection.exec_driver_sql(sql, email_parameters + draft_parameters)
    return {
        (draft_id, email): ExistingDelivery(message, status, wave) for draft_id, email, message, status, wave in cursor
    }


QUEUED_COLUMNS = (
    "incident_id", "wave_id", "draft_id", "email", "name", "jurisdiction", "substitutions", "message_id",
)  # fmt: skip
_INSERTED_COLUMNS = (*QUEUED_COLUMNS, "status", "attempts", "queued_at")
_JSON_AT = QUEUED_COLUMNS.index("substitutions")
_to_json_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def insert_queued(session: Session, rows: Sequence[tuple[Any, ...]], queued_at: datetime) -> None:
    """New rows, all `queued` at `queued_at`; each row holds the values of QUEUED_COLUMNS, in order
    (`substitutions` as a dict). One statement per chunk, straight to the driver: PostgreSQL gets a COPY,
    SQLite one prepared INSERT run over the rows. Times are converted as the column type would (aware UTC
    on PostgreSQL, naive UTC on SQLite), so the rows read back exactly as if the ORM had written them."""
    if not rows:
        return
    connection = session.connection()
    stamp = _bound_time(connection, queued_at)
    full_rows = [
        (*row[:_JSON_AT], _to_json_text(row[_JSON_AT]), *row[_JSON_AT + 1 :], "queued", 0, stamp) for row in rows
    ]
    names = ", ".join(_INSERTED_COLUMNS)
    if connection.dialect.name == "postgresql":
        with _driver_cursor(connection) as cursor, cursor.copy(f"COPY {DELIVERIES.name} ({names}) FROM STDIN") as copy:
            for row in full_rows:
                copy.write_row(row)
        return
    markers = ", ".join("?" * len(_INSERTED_COLUMNS))
    connection.exec_driver_sql(f"INSERT INTO {DELIVERIES.name} ({names}) VALUES ({markers})", full_rows)


@contextmanager
def _driver_cursor(connection: Connection) -> Iterator[Any]:
    cursor = connection.connection.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def _bound_time(connection: Connection, value: datetime) -> Any:
    """`value` as the UTCDateTime column hands it to this driver (a string on SQLite)."""
    process = DELIVERIES.c.queued_at.type.bind_processor(connection.dialect)
    return process(value) if process is not None else value


def requeue(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Rows a previous run left unaccepted, taken over by this run with the file's current values."""
    if not rows:
        return
    statement = (
        update(DELIVERIES)
        .where(DELIVERIES.c.message_id == bindparam("key"))
        .values(
            wave_id=bindparam("wave"),
            name=bindparam("new_name"),
            jurisdiction=bindparam("new_jurisdiction"),
            substitutions=bindparam("new_substitutions"),
            status="queued",
        )
    )
    session.connection().execute(statement, list(rows))


def mark_results(session: Session, results: Iterable[SendResult], now: datetime) -> tuple[int, int]:
    """Record what the provider said: one UPDATE per (outcome, provider id, attempts), usually one per
    request. Returns (accepted, failed)."""
    accepted: dict[tuple[str | None, int], list[str]] = defaultdict(list)
    failed: dict[tuple[str, int], list[str]] = defaultdict(list)
    for result in results:
        if result.accepted:
            accepted[(result.provider_id, result.attempts)].append(result.message_id)
        else:
            failed[((result.error or "refused")[:2000], result.attempts)].append(result.message_id)
    connection = session.connection()
    marker = "%s" if connection.dialect.name == "postgresql" else "?"
    stamp = _bound_time(connection, now)
    for (provider_id, attempts), ids in accepted.items():
        condition, parameters = _matching(connection, "message_id", ids)
        connection.exec_driver_sql(
            f"UPDATE {DELIVERIES.name} SET status = 'accepted', provider_id = {marker}, attempts = attempts + "
            f"{marker}, accepted_at = {marker}, error = NULL WHERE {condition}",
            (provider_id, attempts, stamp, *parameters),
        )
    for (error, attempts), ids in failed.items():
        condition, parameters = _matching(connection, "message_id", ids)
        connection.exec_driver_sql(
            f"UPDATE {DELIVERIES.name} SET status = 'failed', error = {marker}, attempts = attempts + {marker} "
            f"WHERE {condition}",
            (error, attempts, *parameters),
        )
    return sum(len(v) for v in accepted.values()), sum(len(v) for v in failed.values())


@contextmanager
def incident_wave_lock(engine: Engine, incident_id: int) -> Iterator[None]:
    """One wave per incident at a time, released even if the process is killed.

    PostgreSQL: a session advisory lock (dropped with the connection). SQLite: flock on a file beside the
    database (dropped with the process).
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            keys = {"namespace": _ADVISORY_NAMESPACE, "incident": incident_id}
            if not connection.execute(text("SELECT pg_try_advisory_lock(:namespace, :incident)"), keys).scalar():
                raise Conflict(f"another notice wave for INC-{incident_id} is running; wait for it to finish")
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:namespace, :incident)"), keys)
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(f"{database}.wave-INC-{incident_id}.lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(f"another notice wave for INC-{incident_id} is running; wait for it to finish") from None
        yield
    finally:
        os.close(descriptor)
