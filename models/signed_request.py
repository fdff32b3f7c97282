"""Signed requests already accepted (Slack's and SendGrid's), so a replay within the sender's window is refused.

Both senders sign `timestamp + body` and accept a signature for a few minutes (Slack 5, SendGrid 10), so within
that window a captured request could be posted again. Kept in the database (not in process memory) so every
`tocsin serve` process shares it; the unique key makes "first one wins" a single atomic INSERT. A row is kept
until its request would be refused as stale anyway (`forget_after`), then pruned.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from tocsin.db.types import UTCDateTime


class SignedDoor(StrEnum):
    """Who signed the request (each door has its own signature scheme and window)."""

    slack = "slack"
    sendgrid = "sendgrid"


class SignedRequestSeen(SQLModel, table=True):
    __tablename__: ClassVar[str] = "signed_request_seen"  # type: ignore[misc]
    __table_args__ = (UniqueConstraint("door", "request_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    door: str = Field(sa_type=String(16))  # SignedDoor
    # SHA-256 (hex) of `<timestamp>:<raw body>`: what the sender's signature covers.
    request_sha256: str = Field(sa_type=String(64))
    signed_at: int = Field(sa_type=BigInteger)  # the sender's timestamp header (Unix seconds)
    forget_after: int = Field(sa_type=BigInteger, index=True)  # signed_at + the door's window: stale from then on
    seen_at: datetime = Field(sa_type=UTCDateTime)
