"""Acknowledge-or-escalate: a page to one person, then the next, then the whole role, until someone acks."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel
from tocsin.models.enums import EscalationStatus

from tocsin.db.types import JSONDocument, UTCDateTime


class Escalation(SQLModel, table=True):
    __tablename__: ClassVar[str] = "escalation"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    role: str = Field(sa_type=String(16))
    # Who is paged at each level: [[first], [second], ..., [everyone in the role]].
    levels: list[list[str]] = Field(sa_type=JSONDocument)
    level: int = 0
    subject: str = Field(sa_type=String(300))
    body: str = Field(default="", sa_type=Text)
    ack_timeout_minutes: float = 15
    status: str = Field(default=EscalationStatus.open, sa_type=String(16))  # EscalationStatus
    started_at: datetime = Field(sa_type=UTCDateTime)
    next_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    acked_by: str | None = Field(default=None, sa_type=String(64))
    acked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    source: str | None = Field(default=None, sa_type=String(120))  # e.g. playbook run:step
