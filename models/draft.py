"""Drafts of external messages, every version of their content, and legal's decisions on them.

An approval is bound to the SHA-256 of the exact rendered content (and the template version): a
draft may be sent only while its current content hash carries the latest decision, an approval.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from tocsin.db.types import JSONDocument, UTCDateTime


class Draft(SQLModel, table=True):
    __tablename__: ClassVar[str] = "draft"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    template: str = Field(sa_type=String(64))
    template_version: str = Field(sa_type=String(32))
    locale: str = Field(sa_type=String(16))
    audience: str = Field(sa_type=String(16))  # regulator | individuals | public | internal
    channel: str = Field(sa_type=String(16))  # email | chat | statement
    status: str = Field(sa_type=String(16))  # DraftStatus
    # The inputs the person drafting supplied (--var/--vars); re-renders start from these.
    variables: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    subject: str = Field(default="", sa_type=Text)
    text: str = Field(default="", sa_type=Text)
    html: str = Field(default="", sa_type=Text)
    content_sha256: str = Field(sa_type=String(64))
    revision: int = Field(default=1)  # number of the current DraftRevision
    # Distinct legal approvers the current content needs before it may be sent (a playbook may ask for two).
    approvals_required: int = Field(default=1)
    drafted_by: str = Field(sa_type=String(64))
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_by: str | None = Field(default=None, sa_type=String(64))
    sent_reference: str | None = Field(default=None, sa_type=Text)

    @property
    def ref(self) -> str:
        return f"D-{self.id}"


class DraftRevision(SQLModel, table=True):
    """Every version of a draft's content, rendered or edited by hand, kept for diffs and audits."""

    __tablename__: ClassVar[str] = "draft_revision"  # type: ignore[misc]
    __table_args__ = (UniqueConstraint("draft_id", "number", name="uq_draft_revision_number"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id", index=True)
    number: int
    reason: str = Field(sa_type=String(16))  # rendered | re-rendered | edited
    template_version: str = Field(sa_type=String(32))
    # The complete variables the template was rendered with (empty for a hand edit).
    variables: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    subject: str = Field(default="", sa_type=Text)
    text: str = Field(default="", sa_type=Text)
    html: str = Field(default="", sa_type=Text)
    content_sha256: str = Field(sa_type=String(64))
    created_by: str = Field(sa_type=String(64))
    created_at: datetime = Field(sa_type=UTCDateTime)


class Approval(SQLModel, table=True):
    """A decision by legal on one exact content hash. Rows are never changed: later ones supersede."""

    __tablename__: ClassVar[str] = "approval"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id", index=True)
    revision: int
    content_sha256: str = Field(sa_type=String(64))
    template_version: str = Field(sa_type=String(32))
    approver: str = Field(sa_type=String(64))
    decided_at: datetime = Field(sa_type=UTCDateTime)
    decision: str = Field(sa_type=String(16))  # ApprovalDecision
    comment: str | None = Field(default=None, sa_type=Text)


class DraftStatus(StrEnum):
    drafted = "drafted"
    in_review = "in_review"
    approved = "approved"
    rejected = "rejected"
    edited = "edited"  # changed after a rejection; goes back to review with `tocsin review`
    sent = "sent"
