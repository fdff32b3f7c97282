"""Signed checkpoints of the audit timeline, kept outside the database.

A checkpoint is one JSON line appended to a log the operator chooses (`TOCSIN_AUDIT_CHECKPOINT_FILE`, default
$TOCSIN_HOME/audit-checkpoints.jsonl): the chain head (seq, hash) and the count of unkeyed (legacy) events of
every incident, a database-wide head (HMAC over the sorted heads), the counts of incidents and events, the
legacy boundary the database's marker holds (`tocsin.audit.boundary`), the time, and an HMAC of the whole line
with the audit key. Someone who rewrites the database afterwards, even
recomputing every hash, cannot make it agree with a line they cannot sign or reach.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from tocsin.audit.boundary import stored_boundary
from tocsin.audit.chain import key_id_of
from tocsin.audit.keys import audit_key
from tocsin.core.clocks import iso_utc, utcnow
from tocsin.core.config import Settings
from tocsin.core.errors import InvalidInput
from tocsin.db.engine import session_scope
from tocsin.models import AuditEvent, Incident

CHECKPOINT_FILE = "audit-checkpoints.jsonl"
FORMAT = 1
KIND = "checkpoint"
REPAIR = "guards-restored"


def checkpoint_file(settings: Settings) -> Path:
    return settings.audit_checkpoint_file or settings.home / CHECKPOINT_FILE


def database_identity(settings: Settings) -> str:
    """Which database a checkpoint line is about: a SQLite file's absolute path, else the URL without password."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return f"sqlite:///{Path(url.database).resolve()}"
    return url.render_as_string(hide_password=True)


def _mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def heads_digest(key: bytes, incidents: dict[str, dict[str, Any]]) -> str:
    """The database-wide head: an HMAC over every incident's head, in incident order."""
    lines = [
        f"{ref}:{head['seq']}:{head['hash']}:{head['legacy']}"
        for ref, head in sorted(incidents.items(), key=lambda item: int(item[0]))
    ]
    return _mac(key, "\n".join(lines))


def signature_of(key: bytes, record: dict[str, Any]) -> str:
    unsigned = {name: value for name, value in record.items() if name != "signature"}
    return _mac(key, json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def current_heads(session: Session) -> dict[str, dict[str, Any]]:
    """Incident id (as text) -> {seq, hash, legacy}: what the database holds now."""
    legacy = dict(
        session.exec(
            select(AuditEvent.incident_id, func.count())
            .where(col(AuditEvent.key_id).is_(None))
            .group_by(col(AuditEvent.incident_id))
        ).all()
    )
    return {
        str(incident.id): {"seq": incident.audit_seq, "hash": incident.audit_head, "legacy": legacy.get(incident.id, 0)}
        for incident in session.exec(select(Incident).order_by(col(Incident.id)))
    }


def event_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent)).one()


def build_checkpoint(session: Session, settings: Settings) -> dict[str, Any]:
    key = audit_key(settings)
    incidents = current_heads(session)
    record: dict[str, Any] = {
        "format": FORMAT,
        "kind": KIND,
        "at": iso_utc(utcnow()),
        "database": database_identity(settings),
        "key_id": key_id_of(key),
        "incidents": incidents,
        "counts": {"incidents": len(incidents), "events": event_count(session)},
        "legacy_boundary": stored_boundary(session),
        "head": heads_digest(key, incidents),
    }
    record["signature"] = signature_of(key, record)
    return record


def append_checkpoint(path: Path, record: dict[str, Any]) -> None:
    """Append one line (O_APPEND, fsync): the log only grows; a write-once or remote file fits it best."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(descriptor, line.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_checkpoint(session: Session, settings: Settings, path: Path | None = None) -> tuple[Path, dict[str, Any]]:
    target = path or checkpoint_file(settings)
    record = build_checkpoint(session, settings)
    append_checkpoint(target, record)
    return target, record


def checkpoint_now(settings: Settings) -> Path:
    """Write a checkpoint of the configured database to the configured log. Only a drill calls this, when it
    ends; nothing else in Tocsin takes checkpoints on its own (run `tocsin audit checkpoint` on a schedule)."""
    with session_scope() as session:
        path, _record = write_checkpoint(session, settings)
    return path


def record_repair(settings: Settings, restored: list[str]) -> Path:
    """Note in the checkpoint log (signed) that guards were recreated: a dropped trigger stays on record."""
    key = audit_key(settings)
    record: dict[str, Any] = {
        "format": FORMAT,
        "kind": REPAIR,
        "at": iso_utc(utcnow()),
        "database": database_identity(settings),
        "key_id": key_id_of(key),
        "restored": restored,
    }
    record["signature"] = signature_of(key, record)
    path = checkpoint_file(settings)
    append_checkpoint(path, record)
    return path


@dataclass(frozen=True)
class Checkpoint:
    record: dict[str, Any]
    file: Path
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def latest_checkpoint(path: Path, database: str) -> Checkpoint | None:
    """The newest line of `path` about `database` (None if there is none). An unreadable line is an error
    naming file and line: the log is meant to be written by Tocsin only."""
    if not path.is_file():
        return None
    found = None
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            raise InvalidInput(f"not a checkpoint line: {error.msg}", where=f"{path}:{number}") from None
        if isinstance(record, dict) and record.get("database") == database and record.get("kind", KIND) == KIND:
            found = Checkpoint(record, path, number)
    return found


def find_checkpoint(settings: Settings, explicit: Path | None) -> Checkpoint | None:
    """The newest line about this database in `--checkpoint FILE` (an error if it has none: the operator named
    the file to be checked against), else in the configured log (None if it has none). A log that merely sits
    beside the database is not read: anyone who can write the database's folder could have put it there."""
    database = database_identity(settings)
    if explicit is None:
        return latest_checkpoint(checkpoint_file(settings), database)
    if not explicit.is_file():
        raise InvalidInput("checkpoint file not found", where=str(explicit))
    found = latest_checkpoint(explicit, database)
    if found is None:
        raise InvalidInput(
            f"no checkpoint of this database in it (looked for a line with database {database!r}); "
            "was it taken of another database, or of this one under another path or URL?",
            where=str(explicit),
        )
    return found
