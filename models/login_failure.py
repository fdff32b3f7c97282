"""Failed console log-ins per handle and per client address, to slow password guessing."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from tocsin.db.types import UTCDateTime


class LoginFailure(SQLModel, table=True):
    __tablename__: ClassVar[str] = "login_failure"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    # "handle:alice" or "ip:203.0.113.9" (never a password).
    key: str = Field(sa_type=String(200), unique=True)
    failures: int = 0
    last_failure_at: datetime = Field(sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
