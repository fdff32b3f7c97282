"""Web-console log-in sessions kept on the server: the cookie carries only a random session id, the database
its SHA-256. A session ends when it is revoked (log-out, a password change), idle too long, or too old."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from tocsin.db.types import UTCDateTime


class WebSession(SQLModel, table=True):
    __tablename__: ClassVar[str] = "web_session"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    id_sha256: str = Field(sa_type=String(64), unique=True)  # the id itself is only in the browser's cookie
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)  # the absolute end (`web_session_hours`)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
