"""Notice waves: one delivery row per (draft, recipient), the runs that sent them, and the suppression list.

A delivery row is written (`queued`) before its batch goes to the provider and marked `accepted` as soon
as the provider took it; a rerun sends only rows not accepted. Recipient data (address, name, tag values)
is personal data: it stays only as long as `recipient_retention_days`, then `tocsin purge` deletes the rows
and keeps the wave's counts. Suppressed addresses are kept: they are why Tocsin must not write again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from tocsin.db.types import JSONDocument, UTCDateTime


class NoticeWave(SQLModel, table=True):
    """One run of `tocsin notify` (a rerun after a crash is a new run over the same delivery rows)."""

    __tablename__: ClassVar[str] = "notice_wave"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    draft_ids: list[int] = Field(default_factory=list, sa_type=JSONDocument)
    content_sha256: dict[str, str] = Field(default_factory=dict, sa_type=JSONDocument)  # draft id -> hash
    channel: str = Field(sa_type=String(32))
    source_name: str = Field(default="", sa_type=String(300))  # the file's name only
    status: str = Field(default="running", sa_type=String(16))  # running | finished | failed | purged
    started_by: str = Field(sa_type=String(64))
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # sent, already_sent, suppressed, invalid, duplicate, failed, resent_in_doubt, rows
    counts: dict[str, int] = Field(default_factory=dict, sa_type=JSONDocument)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    """Exactly one per (draft, recipient address): the unique constraint is the exactly-once guarantee."""

    __tablename__: ClassVar[str] = "delivery"  # type: ignore[misc]
    __table_args__ = (
        # Address first: a chunk looks its 1,000 addresses up through this index.
        UniqueConstraint("email", "draft_id", name="uq_delivery_email_draft"),
        # Not (wave_id, status): marking a row accepted then rewrites no index entry (see migration 0008).
        Index("ix_delivery_wave_id", "wave_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The wave's incident, repeated for per-incident counts; no foreign key of its own: `wave_id`'s (and the
    # wave's own) already guarantee it, and checking it again cost PostgreSQL a quarter of each row's write.
    incident_id: int = Field(index=True)
    wave_id: int = Field(foreign_key="notice_wave.id")  # the run that last handed it to the provider
    draft_id: int
    email: str = Field(sa_type=String(320))  # normalised (trimmed, lower case)
    name: str | None = Field(default=None, sa_type=String(200))
    jurisdiction: str | None = Field(default=None, sa_type=String(32))
    substitutions: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    message_id: str = Field(sa_type=String(80), unique=True)  # wave_plan.message_id: grows with the file's line
    # queued | accepted | failed (send), then delivered | bounced | dropped | spamreport | unsubscribed
    status: str = Field(default="queued", sa_type=String(16))
    attempts: int = 0
    provider_id: str | None = Field(default=None, sa_type=String(120))
    error: str | None = Field(default=None, sa_type=Text)
    queued_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # time of the newest provider event


class Suppression(SQLModel, table=True):
    """An address Tocsin must not email (opt-out, hard bounce, unsubscribe, spam report)."""

    __tablename__: ClassVar[str] = "suppression"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=String(320), unique=True)
    reason: str = Field(sa_type=String(32))  # bounce | dropped | spamreport | unsubscribe | opt-out | manual
    note: str | None = Field(default=None, sa_type=Text)
    source: str = Field(sa_type=String(32))  # sendgrid-webhook | cli
    created_by: str = Field(sa_type=String(64))
    created_at: datetime = Field(sa_type=UTCDateTime)
