"""The audit timeline: append-only, hash-chained events, one chain per incident.

There is no update or delete path for these rows in the code, and the database refuses both
(triggers created by the migration).
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
