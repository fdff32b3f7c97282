"""API tokens for scripts calling Tocsin's HTTP API. Only the token's SHA-256 is stored: the token itself
is shown once, when it is created, and cannot be recovered from the database."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from tocsin.db.types import UTCDateTime


class ApiToken(SQLModel, table=True):
    __tablename__: ClassVar[str] = "api_token"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)  # requests act as this person
    name: str = Field(default="", sa_type=String(100))
    token_sha256: str = Field(sa_type=String(64), unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(sa_type=String(64))
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
