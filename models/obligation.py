"""Notification obligations of an incident, as the clock last computed them, and the reminders sent.

Rows are never deleted: an obligation the facts no longer trigger is marked withdrawn, with the
reason, so the history of why stays on record (and on the timeline).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from tocsin.db.types import JSONDocument, UTCDateTime


class Obligation(SQLModel, table=True):
    __tablename__: ClassVar[str] = "obligation"  # type: ignore[misc]
    __table_args__ = (UniqueConstraint("incident_id", "rule", "recipient", name="uq_obligation_rule_recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    rule: str = Field(sa_type=String(120))
    recipient: str = Field(default="", sa_type=String(300))
    deadline_kind: str = Field(sa_type=String(32))
    deadline_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    citation: str = Field(default="", sa_type=Text)
    explanation: str = Field(default="", sa_type=Text)
    # The engine's whole item (alt/strict deadlines, confidence, status ...), as computed.
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    active: bool = True
    withdrawn_reason: str | None = Field(default=None, sa_type=Text)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    computed_at: datetime = Field(sa_type=UTCDateTime)


class ReminderSent(SQLModel, table=True):
    """One row per reminder actually sent: the unique key makes a reminder fire at most once."""

    __tablename__: ClassVar[str] = "reminder_sent"  # type: ignore[misc]
    __table_args__ = (UniqueConstraint("obligation_id", "lead_minutes", "deadline_at", name="uq_reminder_once"),)

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: int = Field(foreign_key="obligation.id", index=True)
    # Minutes before the deadline; 0 is the overdue escalation at the deadline itself.
    lead_minutes: int
    deadline_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime = Field(sa_type=UTCDateTime)  # claimed: recorded with its messages, before delivering
    recipients: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # its messages were all handed over
