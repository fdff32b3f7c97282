"""Notice waves: one delivery row per (draft, recipient), the runs that sent them, and the suppression list.

A delivery row is written (`queued`) before its batch goes to the provider; when the provider takes the
batch, the batch is marked `accepted` (one row for up to 1,000 deliveries), and a `queued` delivery of an
accepted batch reads as `accepted` (`tocsin.wave.status`). Only the messages the provider answered
otherwise are marked one by one. A rerun sends only rows not accepted. Recipient data (address, name, tag values)
is personal data: it stays only as long as `recipient_retention_days`, then `tocsin purge` deletes the rows
and keeps the wave's counts. Suppressed addresses are kept: they are why Tocsin must not write again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel
from tocsin.models.enums import DeliveryStatus, WaveStatus

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
    status: str = Field(default=WaveStatus.running, sa_type=String(16))  # WaveStatus (a purge sets purged_at)
    started_by: str = Field(sa_type=String(64))
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # sent, already_sent, suppressed, invalid, duplicate, failed, held, skipped, rows
    counts: dict[str, int] = Field(default_factory=dict, sa_type=JSONDocument)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryBatch(SQLModel, table=True):
    """The delivery rows handed to the provider together (one wave chunk, one SendGrid request as a rule),
    marked accepted as one: writing a million rows a second time only to say `accepted` cost as much as
    writing them."""

    __tablename__: ClassVar[str] = "delivery_batch"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    wave_id: int = Field(foreign_key="notice_wave.id", index=True)
    provider_id: str | None = Field(default=None, sa_type=String(120))
    attempts: int = 0
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # set: its queued rows were accepted
    # Committed right before its request leaves; a batch posted and never answered is in doubt (migration 0015).
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    held_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # a later run found it in doubt: held
    decision: str | None = Field(default=None, sa_type=String(16))  # InDoubtDecision, once someone decided
    decided_by: str | None = Field(default=None, sa_type=String(64))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = Field(default=None, sa_type=Text)


class Delivery(SQLModel, table=True):
    """Exactly one per (draft, recipient address): the unique constraint is the exactly-once guarantee."""

    __tablename__: ClassVar[str] = "delivery"  # type: ignore[misc]
    __table_args__ = (
        # Address first: a chunk looks its 1,000 addresses up through this index.
        UniqueConstraint("email", "draft_id", name="uq_delivery_email_draft"),
        # A wave's rows are found through its batches (see migration 0010).
        Index("ix_delivery_batch_id", "batch_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No foreign key nor index but the unique (email, draft) and the batch's: each cost PostgreSQL a share of
    # every row written, and rows are found through their batch or their address (see migration 0010).
    incident_id: int  # the wave's incident, repeated for reading
    wave_id: int  # the run that last handed it to the provider (notice_wave.id)
    batch_id: int  # delivery_batch.id: the batch it last went out in
    draft_id: int
    email: str = Field(sa_type=String(320))  # normalised (trimmed, lower case)
    name: str | None = Field(default=None, sa_type=String(200))
    jurisdiction: str | None = Field(default=None, sa_type=String(32))
    substitutions: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    message_id: str = Field(sa_type=String(80))  # wave_plan.message_id: unique by construction
    # The row's own status (DeliveryStatus): queued (read as accepted once its batch is) | accepted | failed
    # (send), then delivered | bounced | dropped | spamreport | unsubscribed. Read it through tocsin.wave.status.
    status: str = Field(default=DeliveryStatus.queued, sa_type=String(16))
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
