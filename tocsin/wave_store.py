"""Bulk reads and writes of delivery rows for a notice wave (SQLAlchemy Core, one statement per chunk).

Kept apart from the wave's flow so that each statement is visible and cheap: a million-recipient wave
runs a few thousand statements, never one per recipient.
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

from sqlalchemy import Engine, bindparam, select, text, update
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


def suppressed_among(session: Session, emails: Sequence[str]) -> set[str]:
    if not emails:
        return set()
    statement = select(SUPPRESSIONS.c.email).where(SUPPRESSIONS.c.email.in_(emails))
    return set(session.execute(statement).scalars())


def existing_deliveries(
    session: Session, draft_ids: Iterable[int], emails: Sequence[str]
) -> dict[tuple[int, str], ExistingDelivery]:
    if not emails:
        return {}
    statement = select(
        DELIVERIES.c.draft_id, DELIVERIES.c.email, DELIVERIES.c.message_id, DELIVERIES.c.status, DELIVERIES.c.wave_id
    ).where(DELIVERIES.c.draft_id.in_(list(draft_ids)), DELIVERIES.c.email.in_(emails))
    return {
        (row.draft_id, row.email): ExistingDelivery(row.message_id, row.status, row.wave_id)
        for row in session.execute(statement)
    }


QUEUED_COLUMNS = (
    "incident_id", "wave_id", "draft_id", "email", "name", "jurisdiction", "substitutions", "message_id",
)  # fmt: skip


def insert_queued(session: Session, rows: Sequence[tuple[Any, ...]], queued_at: datetime) -> None:
    """New rows, all `queued` at `queued_at`; each row holds the values of QUEUED_COLUMNS, in order.

    Sent straight to the driver's executemany with one prepared INSERT: SQLAlchemy's per-row parameter
    processing costs more than the insert itself at a million rows. Values go through the columns' own
    bind processors (JSON, UTC datetimes), so the rows are stored exactly as the ORM would store them.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    # SQLite's JSON type serialises in its bind processor; psycopg's JSONB leaves it to the driver, which
    # takes the JSON text (sent untyped, so PostgreSQL reads it as jsonb).
    to_json = DELIVERIES.c.substitutions.type.bind_processor(dialect) or _json_text
    to_time = DELIVERIES.c.queued_at.type.bind_processor(dialect)
    stamp = to_time(queued_at) if to_time else queued_at
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    columns = (*QUEUED_COLUMNS, "status", "attempts", "queued_at")
    sql = f"INSERT INTO {DELIVERIES.name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
    json_at = QUEUED_COLUMNS.index("substitutions")
    rows = [(*row[:json_at], to_json(row[json_at]), *row[json_at + 1 :], "queued", 0, stamp) for row in rows]
    connection.exec_driver_sql(sql, rows)


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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
    """Record what the provider said: one UPDATE per (outcome, provider id, attempts). (accepted, failed)."""
    accepted: dict[tuple[str | None, int], list[str]] = defaultdict(list)
    failed: dict[tuple[str, int], list[str]] = defaultdict(list)
    for result in results:
        if result.accepted:
            accepted[(result.provider_id, result.attempts)].append(result.message_id)
        else:
            failed[((result.error or "refused")[:2000], result.attempts)].append(result.message_id)
    for (provider_id, attempts), ids in accepted.items():
        session.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.message_id.in_(ids))
            .values(
                status="accepted",
                provider_id=provider_id,
                attempts=DELIVERIES.c.attempts + attempts,
                accepted_at=now,
                error=None,
            )
        )
    for (error, attempts), ids in failed.items():
        session.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.message_id.in_(ids))
            .values(status="failed", error=error, attempts=DELIVERIES.c.attempts + attempts)
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
