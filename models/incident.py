"""The incident: what happened, how bad, where it stands, and the facts the clock reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Column, Index, Integer, String
from sqlmodel import Field, SQLModel

from tocsin.db.types import JSONDocument, UTCDateTime


class Incident(SQLModel, table=True):
    __tablename__: ClassVar[str] = "incident"  # type: ignore[misc]
    __table_args__ = (Index("ix_incident_status_kind", "status", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(16))
    title: str = Field(sa_type=String(200))
    severity: str = Field(sa_type=String(8))
    status: str = Field(sa_type=String(16))
    aware_at: datetime = Field(sa_type=UTCDateTime)
    declared_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    # The clock's input document: {entity, facts, events, options} (see clock/).
    facts: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    locale: str = Field(default="en", sa_type=String(16))
    timezone: str = Field(default="UTC", sa_type=String(64))
    playbook: str | None = Field(default=None, sa_type=String(100))
    # Optimistic concurrency: every write bumps it; a stale writer gets a conflict.
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    # Head of the audit hash chain, so that deleting the newest events is detected too.
    audit_seq: int = Field(default=0)
    audit_head: str = Field(default="", sa_type=String(64))

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version.sa_column}  # type: ignore[attr-defined]

    @property
    def ref(self) -> str:
        return f"INC-{self.id}"
