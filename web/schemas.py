"""Request bodies of the JSON API (validated by pydantic; the services still check the meaning)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, model_validator


class DeclareBody(BaseModel):
    title: str = Field(description="Short, factual title.")
    kind: str = Field("breach", description="breach or crisis.")
    severity: str = Field("SEV2", description="SEV1 (worst) to SEV4.")
    aware_at: AwareDatetime | None = Field(None, description="When the organisation became aware. Default: now.")
    commander: str | None = Field(None, description="Default: TOCSIN_DEFAULT_COMMANDER, else the caller.")
    facts: dict[str, Any] = Field(default_factory=dict, description="Facts document, as for `tocsin obligations`.")
    locale: str | None = None
    timezone: str | None = Field(None, description="The entity's zone (default: from facts, else UTC).")


class StatusBody(BaseModel):
    status: str = Field(description="investigating, contained, notifying, monitoring or closed.")
    reason: str | None = None
    if_version: int | None = Field(None, description="Refuse unless the incident is still at this version.")


class RoleBody(BaseModel):
    role: str = Field(description="commander, legal, comms, it, dpo or observer.")
    person: str
    if_version: int | None = None


class ClockEventBody(BaseModel):
    """Exactly one of `event` (a clock event) and `submitted` (the rule whose notification went out)."""

    event: str | None = Field(None, description="e.g. materiality_determined, consumers_notified.")
    submitted: str | None = Field(None, description="A rule id, e.g. eu.gdpr.art33.supervisory_authority.")
    at: AwareDatetime | None = Field(None, description="When it happened. Default: now.")
    note: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ClockEventBody:
        if bool(self.event) == bool(self.submitted):
            raise ValueError("give exactly one of `event` and `submitted`")
        return self


class ApproveBody(BaseModel):
    sha256: str | None = Field(None, description="The hash (12+ characters) you reviewed; refused if it changed.")
    comment: str | None = None


class RejectBody(BaseModel):
    comment: str = Field(description="What must change.")


def utc(moment: datetime | None) -> datetime | None:
    from tocsin.core.clocks import to_utc

    return to_utc(moment) if moment is not None else None
