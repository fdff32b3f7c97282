"""The audit timeline: append-only, hash-chained events, one chain per incident.

There is no update or delete path for these rows in the code, and the database refuses both
(triggers created by the migrations; on PostgreSQL also TRUNCATE). Each event is keyed (HMAC with the
audit key, `key_id` names it); see `tocsin.audit.chain`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from tocsin.db.types import JSONDocument, UTCDateTime


class AuditEvent(SQLModel, table=True):
    __tablename__: ClassVar[str] = "audit_event"  # type: ignore[misc]
    __table_args__ = (UniqueConstraint("incident_id", "seq", name="uq_audit_incident_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    seq: int
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(sa_type=String(64))
    action: str = Field(sa_type=String(64))
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    prev_hash: str = Field(sa_type=String(64))
    hash: str = Field(sa_type=String(64))
    # The audit key that signed this event (first 8 hex of its SHA-256); None: written before the keyed chain.
    key_id: str | None = Field(default=None, sa_type=String(16))


class AuditLegacyBoundary(SQLModel, table=True):
    """One row per database (id 1), written once by the first process that signed an event with the audit key:
    unkeyed events with an id up to `boundary` may predate the keyed chain, any other is tampering. `mac` is an
    HMAC with key `key_id` (see `tocsin.audit.boundary`)."""

    __tablename__: ClassVar[str] = "audit_legacy_boundary"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    boundary: int
    key_id: str = Field(sa_type=String(16))
    at: datetime = Field(sa_type=UTCDateTime)
    mac: str = Field(sa_type=String(64))
