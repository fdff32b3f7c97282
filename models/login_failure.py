"""Log-in attempts counted per handle, per client address and per (handle, address) pair, to slow guessing.

Neither a handle nor an address is stored: `key` is an HMAC-SHA256 (keyed with the server secret) of the scope
and the value, so a password typed into the handle field never lands in the database, and the table alone does
not say who tried from where.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from tocsin.db.types import UTCDateTime


class ThrottleScope(StrEnum):
    pair = "pair"  # one handle from one address: locked after `web_login_attempts` attempts
    address = "address"  # one address, any handle: a hard limit (a few times the handle's)
    handle = "handle"  # one handle from anywhere: a short, growing back-off beyond a larger count


class LoginFailure(SQLModel, table=True):
    __tablename__: ClassVar[str] = "login_failure"  # type: ignore[misc]

    key: str = Field(sa_type=String(64), primary_key=True)  # HMAC-SHA256 hex of scope + value
    scope: str = Field(sa_type=String(16))  # a ThrottleScope
    # Attempts in the current window, counted before the password is checked; a success takes its own back.
    failures: int = 0
    last_failure_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the handle's back-off
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # pair: an address known good
