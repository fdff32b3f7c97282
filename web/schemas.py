"""Request bodies of the JSON API (validated by pydantic; the actions still check the meaning)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, SecretStr, model_validator

from tocsin.core.clocks import to_utc


class DeclareBody(BaseModel):
    title: str = Field(description="Short, factual title.")
    kind: str = Field("breach", description="breach or crisis.")
    severity: str = Field("SEV2", description="SEV1 (worst) to SEV4.")
    aware_at: AwareDatetime | None = Field(None, description="When the organisation became aware. Default: now.")
    commander: str | None = Field(None, description="Default: TOCSIN_DEFAULT_COMMANDER, else the caller.")
    facts: dict[str, Any] = Field(default_factory=dict, description="Facts document, as for `tocsin obligations`.")
    locale: str | None = Field(None, description="The incident's language for notices, e.g. fr-FR.")
    timezone: str | None = Field(None, description="The entity's zone (default: from facts, else UTC).")
    playbook: str | None = Field(None, description="A built-in playbook to launch at once, as the declarer.")
    inputs: dict[str, str] = Field(default_factory=dict, description="The playbook's inputs, NAME: VALUE.")


class StatusBody(BaseModel):
    status: str = Field(description="investigating, contained, notifying, monitoring or closed.")
    reason: str | None = Field(None, description="Why, in words (on the timeline).")
    if_version: int | None = Field(None, description="Refuse unless the incident is still at this version.")


class CloseBody(BaseModel):
    reason: str | None = Field(None, description="Why the incident is closed (on the timeline).")


class RoleBody(BaseModel):
    role: str = Field(description="commander, legal, comms, it, dpo or observer.")
    person: str = Field(description="A handle in the directory (nobody is created by assigning).")
    if_version: int | None = Field(None, description="Refuse unless the incident is still at this version.")


class ClockEventBody(BaseModel):
    """Exactly one of `event` (a clock event) and `submitted` (the rule whose notification went out)."""

    event: str | None = Field(None, description="e.g. materiality_determined, consumers_notified.")
    submitted: str | None = Field(None, description="A rule id, e.g. eu.gdpr.art33.supervisory_authority.")
    at: AwareDatetime | None = Field(None, description="When it happened. Default: now.")
    note: str | None = Field(None, description="e.g. the regulator portal's receipt number.")

    @model_validator(mode="after")
    def _one_of(self) -> ClockEventBody:
        if bool(self.event) == bool(self.submitted):
            raise ValueError("give exactly one of `event` and `submitted`")
        return self


class LaunchBody(BaseModel):
    playbook: str = Field(description="A built-in playbook name (see `tocsin playbooks`).")
    inputs: dict[str, str] = Field(default_factory=dict, description="The playbook's inputs, NAME: VALUE.")


class RunInputsBody(BaseModel):
    inputs: dict[str, str] = Field(description="Inputs the waiting run asks for, NAME: VALUE (added or replaced).")


class DraftBody(BaseModel):
    template: str = Field(description="A template name (see `tocsin templates`).")
    inputs: dict[str, Any] = Field(default_factory=dict, description="The template's inputs, NAME: VALUE.")
    locale: str | None = Field(
        None, description="The language, e.g. fr-FR. Default: the recipient's, else the incident's."
    )
    recipient: str | None = Field(None, description="A person handle: their locale picks the language.")


class EditBody(BaseModel):
    """New content by hand (`subject`, `text`, `html`) or new `inputs` to render again: not both."""

    subject: str | None = Field(None, description="The new subject.")
    text: str | None = Field(None, description="The new plain-text body.")
    html: str | None = Field(None, description="The new HTML body.")
    inputs: dict[str, Any] | None = Field(None, description="Changed template inputs: the draft is rendered again.")


class ApproveBody(BaseModel):
    sha256: str = Field(
        description="The SHA-256 (its first 12+ characters) of the text you reviewed; refused if it changed since."
    )
    comment: str | None = Field(None, description="On the record with the approval.")


class RejectBody(BaseModel):
    comment: str = Field(description="What must change.")


class SentBody(BaseModel):
    reference: str | None = Field(None, description="Where it went out, e.g. the regulator portal's receipt number.")


class PersonBody(BaseModel):
    handle: str = Field(description="The person's handle (letters, digits and . _ @ + -).")
    name: str | None = Field(None, description="Full name.")
    email: str | None = Field(None, description="Where pages and notices reach them.")
    slack_user: str | None = Field(None, description="Their Slack user id, e.g. U0123ABCD.")
    locale: str | None = Field(None, description="Their language, e.g. de-DE.")
    timezone: str | None = Field(None, description="Their zone, e.g. Europe/Berlin.")
    admin: bool | None = Field(None, description="Grant (true) or revoke (false) admin; omitted: unchanged.")


class AdminBody(BaseModel):
    admin: bool = Field(description="true grants admin, false revokes it.")


class PasswordBody(BaseModel):
    password: SecretStr = Field(
        description="The new console password (at least 12 characters). Never logged or stored."
    )


class TokenBody(BaseModel):
    person: str | None = Field(None, description="Whom the token acts as. Default: the caller.")
    name: str = Field("", description="What the token is for, e.g. 'legal review script'.")


class SuppressionBody(BaseModel):
    email: str = Field(description="The address never to email.")
    reason: str = Field("opt-out", description="opt-out, bounce, unsubscribe, spamreport, dropped or manual.")
    note: str | None = Field(None, description="Why, in words (e.g. 'asked by phone').")


class LoginBody(BaseModel):
    handle: str = Field(description="Your handle.")
    password: SecretStr = Field(description="Your console password.")
    name: str = Field("tocsin login", description="The new token's name.")


def utc(moment: datetime | None) -> datetime | None:
    return to_utc(moment) if moment is not None else None
