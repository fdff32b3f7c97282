"""People in the response team, and the roles they hold on each incident."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import Boolean, String, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from tocsin.db.types import UTCDateTime


class Person(SQLModel, table=True):
    __tablename__: ClassVar[str] = "person"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(sa_type=String(64), unique=True, index=True)
    name: str | None = Field(default=None, sa_type=String(200))
    email: str | None = Field(default=None, sa_type=String(320))
    slack_user_id: str | None = Field(default=None, sa_type=String(32), index=True)
    locale: str | None = Field(default=None, sa_type=String(16))
    timezone: str | None = Field(default=None, sa_type=String(64))
    created_at: datetime = Field(sa_type=UTCDateTime)
    # The web console: an argon2 hash (never the password), and whether the person administers Tocsin.
    password_hash: str | None = Field(default=None, sa_type=String(200))
    is_admin: bool = Field(default=False, sa_type=Boolean, sa_column_kwargs={"server_default": false()})


class IncidentRole(SQLModel, table=True):
    __tablename__: ClassVar[str] = "incident_role"  # type: ignore[misc]
    __table_args__ = (UniqueConstraint("incident_id", "person_id", "role", name="uq_incident_role"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(sa_type=String(16))
    assigned_at: datetime = Field(sa_type=UTCDateTime)
    assigned_by: str = Field(sa_type=String(64))
