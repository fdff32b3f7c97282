"""Every message Tocsin sends to a person (reminders, escalations, updates): recorded before it goes out.

A row is written in the same transaction as the decision to send (e.g. the reminder's own record),
then handed to the channel; `sent_at` is set once the channel accepted it. Rows left unsent by a
crash are delivered by the next pass (channels are idempotent per `message_id`). A refused message is
retried after `next_attempt_at` until `message_max_attempts`, then `failed_at` is set (message_attempts.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from tocsin.db.types import JSONDocument, UTCDateTime


class OutboundMessage(SQLModel, table=True):
    __tablename__: ClassVar[str] = "outbound_message"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(sa_type=String(120), unique=True, index=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    kind: str = Field(sa_type=String(16))  # email | chat
    purpose: str = Field(sa_type=String(40))  # reminder | escalation | update ...
    recipient: str = Field(sa_type=String(320))  # person handle, email address or chat channel
    subject: str = Field(default="", sa_type=String(300))
    body: str = Field(default="", sa_type=Text)
    blocks: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONDocument)
    created_at: datetime = Field(sa_type=UTCDateTime)
    channel: str | None = Field(default=None, sa_type=String(32))
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    provider_id: str | None = Field(default=None, sa_type=String(300))
    error: str | None = Field(default=None, sa_type=Text)  # the last refusal, as the provider said it
    attempts: int = Field(default=0)  # refused attempts so far
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # retry wait: not before this
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # gave up: never sent again
