"""Checklist tasks that a playbook assigns to roles, with due times."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from tocsin.db.types import UTCDateTime


class ChecklistItem(SQLModel, table=True):
    __tablename__: ClassVar[str] = "checklist_item"  # type: ignore[misc]
    __table_args__ = (UniqueConstraint("source", "number", name="uq_checklist_item"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    source: str = Field(sa_type=String(120))  # the playbook run and step that created it
    number: int
    title: str = Field(sa_type=String(300))
    role: str = Field(sa_type=String(16))
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: str | None = Field(default=None, sa_type=String(64))
