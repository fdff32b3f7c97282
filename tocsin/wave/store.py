"""Bulk reads and writes of delivery rows for a notice wave (SQLAlchemy Core, one statement per chunk).

Kept apart from the wave's flow so that each statement is visible and cheap: a million-recipient wave
runs a few thousand statements, never one per recipient. The per-chunk statements go straight to the
driver as plain SQL: compiling a 1,000-value IN list through SQLAlchemy cost more than running it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, bindparam, text, update
from sqlmodel import Session

from tocsin.core.errors import Conflict
from tocsin.models.delivery import Suppression
from tocsin.wave.sender import Answer
from tocsin.wave.status import (
    ACCEPTED,
    BATCHES,
    DELIVERIES,
    FAILED,
    IN_DOUBT_SQL,
    QUEUED,
    STATUS_SQL,
    WITH_BATCH_SQL,
)

SUPPRESSIONS = Suppression.__table__  # type: ignore[attr-defined]
_ADVISORY_NAMESPACE = 0x70C5  # first key of pg_try_advisory_lock(int, int): "tocsin wave"


@dataclass(frozen=True, slots=True)
class ExistingDelivery:
    message_id: str
    status: str
    wave_id: int
    batch_id: int
    in_doubt: bool  # queued in a batch whose request left and was never answered, and nobody decided yet


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


def known_addresses(
    session: Session, draft_ids: Iterable[int], emails: Sequence[str]
) -> tuple[set[str], dict[tuple[int, str], ExistingDelivery]]:
    """For a chunk's addresses, in one round trip: the suppressed ones, and the delivery rows these drafts
    already have for them (through the unique indexes on suppression.email and delivery (email, draft))."""
    if not emails:
        return set(), {}
    connection = session.connection()
    by_email, email_parameters = _matching(connection, "email", emails)
    by_draft, draft_parameters = _matching(connection, "draft_id", sorted(draft_ids))
    sql = (
        f"SELECT d.draft_id, d.email, d.message_id, {STATUS_SQL}, d.wave_id, d.batch_id, {IN_DOUBT_SQL} "
        f"FROM {WITH_BATCH_SQL} WHERE d.{by_email} AND d.{by_draft} "
        f"UNION ALL SELECT NULL, email, NULL, NULL, NULL, NULL, NULL FROM {SUPPRESSIONS.name} WHERE {by_email}"
    )
    suppressed: set[str] = set()
    existing: dict[tuple[int, str], ExistingDelivery] = {}
    for draft_id, email, message, status, wave, batch, in_doubt in connection.exec_driver_sql(
        sql, email_parameters + draft_parameters + email_parameters
    ):
        if draft_id is None:
            suppressed.add(email)
        else:
            existing[(draft_id, email)] = ExistingDelivery(message, status, wave, batch, bool(in_doubt))
    return suppressed, existing


def hold_batches(session: Session, batch_ids: Iterable[int], now: datetime) -> None:
    """Mark in-doubt batches held (the first run that found them), so `tocsin wave in-doubt` lists them."""
    ids = sorted(set(batch_ids))
    if ids:
        session.connection().execute(
            update(BATCHES).where(BATCHES.c.id.in_(ids), BATCHES.c.held_at.is_(None)).values(held_at=now)
        )


QUEUED_COLUMNS = ("draft_id", "email", "name", "jurisdiction", "substitutions", "message_id")
_JSON_AT = QUEUED_COLUMNS.index("substitutions")


def new_batch(session: Session, wave_id: int) -> int:
    """A batch of this wave for the next chunk's rows (not accepted yet); returns its id."""
    inserted = session.connection().execute(BATCHES.insert().values(wave_id=wave_id, attempts=0))
    return int(inserted.inserted_primary_key[0])


def insert_queued(
    session: Session,
    incident_id: int,
    wave_id: int,
    batch_id: int,
    rows: Sequence[tuple[Any, ...]],
    queued_at: datetime,
) -> None:
    """New rows of this incident, wave and batch, all `queued` at `queued_at`; each row holds the values of
    QUEUED_COLUMNS, in order (`substitutions` as a dict). One statement per chunk, straight to the driver:
    PostgreSQL gets a COPY, SQLite one prepared INSERT run over the rows (the values shared by every row
    written once in the statement). Times are converted as the column type would (aware UTC on PostgreSQL,
    naive UTC text on SQLite), so the rows read back exactly as if the ORM had written them."""
    if not rows:
        return
    connection = session.connection()
    stamp = _bound_time(connection, queued_at)
    dumps = orjson.dumps  # compact UTF-8, as JSONEncoder(ensure_ascii=False, separators=(",", ":")) writes it
    names = ", ".join(QUEUED_COLUMNS)
    if connection.dialect.name == "postgresql":
        shared = (int(incident_id), int(wave_id), int(batch_id), QUEUED, 0, stamp)
        statement = (
            f"COPY {DELIVERIES.name} ({names}, incident_id, wave_id, batch_id, status, attempts, queued_at) FROM STDIN"
        )
        data = copy_text(rows, shared)
        with _driver_cursor(connection) as cursor, cursor.copy(statement) as copy:
            if data is not None:
                copy.write(data)
                return
            write = copy.write_row
            for draft_id, email, name, jurisdiction, substitutions, message_id in rows:
                write((draft_id, email, name, jurisdiction, dumps(substitutions).decode(), message_id, *shared))
        return
    text_stamp = stamp.isoformat(" ")  # as sqlite3 adapts a datetime; digits and separators only
    constants = f"{int(incident_id)}, {int(wave_id)}, {int(batch_id)}, '{QUEUED}', 0, '{text_stamp}'"
    markers = ", ".join("?" * len(QUEUED_COLUMNS))
    connection.exec_driver_sql(
        f"INSERT INTO {DELIVERIES.name} ({names}, incident_id, wave_id, batch_id, status, attempts, queued_at) "
        f"VALUES ({markers}, {constants})",
        [(*row[:_JSON_AT], dumps(row[_JSON_AT]).decode(), *row[_JSON_AT + 1 :]) for row in rows],
    )


_FIELD, _ROW, _NULL = "\x00", "\x01", "\x02"  # marks while a chunk is built: no valid value holds them
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(rows: Sequence[tuple[Any, ...]], shared: tuple[Any, ...]) -> str | None:
    """Queued rows (QUEUED_COLUMNS, then the `shared` values) in COPY's text format, built as one string with
    a few C-level passes instead of formatting each row in Python (a quarter of the wave's database work on
    PostgreSQL). None if a value holds one of the marks used to build it: the caller then writes row by row."""
    dumps = orjson.dumps
    values = _ROW.join(
        _FIELD.join((str(d), e, _NULL if n is None else n, _NULL if j is None else j, dumps(s).decode(), m))
        for d, e, n, j, s, m in rows
    )
    nulls = sum((row[2] is None) + (row[3] is None) for row in rows)
    marks = (values.count(_FIELD), values.count(_ROW), values.count(_NULL))
    if marks != (len(rows) * (len(QUEUED_COLUMNS) - 1), len(rows) - 1, nulls):
        return None
    if "\\" in values or "\t" in values or "\n" in values or "\r" in values:
        values = values.translate(_COPY_ESCAPES)
    row_end = "".join(f"\t{value}" for value in shared) + "\n"
    return values.replace(_FIELD, "\t").replace(_NULL, "\\N").replace(_ROW, row_end) + row_end


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
        .where(DELIVERIES.c.email == bindparam("key_email"), DELIVERIES.c.draft_id == bindparam("key_draft"))
        .values(
            wave_id=bindparam("wave"),
            batch_id=bindparam("batch"),
            name=bindparam("new_name"),
            jurisdiction=bindparam("new_jurisdiction"),
            substitutions=bindparam("new_substitutions"),
            status=QUEUED,
            error=None,
        )
    )
    session.connection().execute(statement, list(rows))


def mark_results(connection: Connection, answer: Answer, now: datetime) -> None:
    """Record what the provider said of a batch: the largest accepted group marks the batch (one UPDATE,
    whatever its size); any other group (refused messages, or a part re-sent under another provider id)
    marks its own rows, one UPDATE per group."""
    batch_id, groups = answer
    marker = "%s" if connection.dialect.name == "postgresql" else "?"
    stamp = _bound_time(connection, now)
    accepted = [group for group in groups if group.accepted]
    whole = max(accepted, key=lambda group: len(group.message_ids), default=None)
    if whole is not None:
        connection.exec_driver_sql(
            f"UPDATE {BATCHES.name} SET provider_id = {marker}, attempts = attempts + {marker}, "
            f"accepted_at = {marker} WHERE id = {marker}",
            (whole.provider_id, whole.attempts, stamp, batch_id),
        )
    for group in groups:
        if group is whole:
            continue
        condition, parameters = _matching(connection, "message_id", group.message_ids)
        condition = f"batch_id = {int(batch_id)} AND {condition}"  # through the batch's index
        if group.accepted:
            connection.exec_driver_sql(
                f"UPDATE {DELIVERIES.name} SET status = '{ACCEPTED}', provider_id = {marker}, attempts = attempts + "
                f"{marker}, accepted_at = {marker}, error = NULL WHERE {condition}",
                (group.provider_id, group.attempts, stamp, *parameters),
            )
        else:
            connection.exec_driver_sql(
                f"UPDATE {DELIVERIES.name} SET status = '{FAILED}', error = {marker}, attempts = attempts + {marker} "
                f"WHERE {condition}",
                ((group.error or "refused")[:2000], group.attempts, *parameters),
            )


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
