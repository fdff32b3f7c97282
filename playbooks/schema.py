"""The playbook format (pure): a playbook is data that a team can read, review and test.

A playbook names the roles it needs and the inputs it asks for, then lists ordered steps. Each
step has a type (one of STEP_TYPES), an id unique in the playbook, an optional title, and an
optional `when` condition over the incident's facts. Validation is strict: an unknown step type,
an unknown field, a bad condition or a reference to a step that does not exist is an error.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from tocsin.models.enums import IncidentKind, IncidentStatus, Role

DURATION = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>m|min|h|d)$")
STEP_ID = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def parse_duration(value: str | int | float) -> timedelta:
    """`30m`, `4h`, `2d`, or a number of minutes."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(minutes=float(value))
    match = DURATION.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration like 30m, 4h or 2d")
    n, unit = float(match["n"]), match["unit"]
    return timedelta(minutes=n) if unit in ("m", "min") else timedelta(hours=n) if unit == "h" else timedelta(days=n)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Duration = Annotated[str, Field(description="30m, 4h, 2d")]


class Condition(Strict):
    """One test, or a combination. `fact`/`entity` read the facts document; `obligation` is true when an
    obligation whose rule id starts with the given prefix is owed."""

    fact: str | None = None
    entity: str | None = None
    obligation: str | None = None
    equals: Any = None
    gt: float | None = None
    gte: float | None = None
    includes_any: list[str] | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        kinds = [k for k in ("fact", "entity", "obligation", "all", "any", "not_") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a condition needs exactly one of fact, entity, obligation, all, any, not")
        tests = [t for t in ("equals", "gt", "gte", "includes_any") if getattr(self, t) is not None]
        if tests and kinds[0] not in ("fact", "entity"):
            raise ValueError(f"{', '.join(tests)} applies only to fact or entity")
        if len(tests) > 1:
            raise ValueError("use one of equals, gt, gte, includes_any")
        return self


class Timing(Strict):
    """A moment relative to awareness, or to the deadline of an obligation (negative hours: before it)."""

    after: Literal["awareness", "declared"] | None = None
    deadline: str | None = None
    hours: float = 0

    @model_validator(mode="after")
    def _anchor(self) -> Timing:
        if (self.after is None) == (self.deadline is None):
            raise ValueError("give exactly one of `after: awareness|declared` or `deadline: RULE_ID`")
        return self


class StepBase(Strict):
    id: str
    title: str | None = None
    when: Condition | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not STEP_ID.match(value):
            raise ValueError("step ids are lowercase letters, digits, - and _, starting with a letter")
        return value


class ComputeObligationsStep(StepBase):
    type: Literal["compute_obligations"]


class OpenChannelStep(StepBase):
    type: Literal["open_channel"]
    invite: list[Role] = Field(min_length=1)
    brief: str | None = Field(default=None, description="template posted and pinned in the channel")


class EscalateStep(StepBase):
    type: Literal["escalate"]
    role: Role
    message: str = Field(description="template for the page")
    ack_timeout: Duration = "15m"

    @field_validator("ack_timeout")
    @classmethod
    def _timeout(cls, value: str) -> str:
        parse_duration(value)
        return value


class DraftStep(StepBase):
    type: Literal["draft"]
    template: str
    audience: Literal["regulator", "individuals", "public", "internal"]
    drafter: Role = Role.comms
    locale: str | None = Field(default=None, description="language of the notice (default: the incident's)")
    approvers: int = Field(
        default=1, ge=1, le=3, description="distinct legal approvers each draft needs before it may be sent"
    )


class AwaitApprovalStep(StepBase):
    type: Literal["await_approval"]
    draft: str = Field(description="id of the draft step")
    due: Timing | None = None


class SendStep(StepBase):
    type: Literal["send"]
    draft: str
    channel: Literal["email", "slack", "statement"]
    to: list[Role] | None = Field(default=None, description="roles, for internal messages")
    submits: list[str] = Field(default_factory=list, description="rule ids this send discharges, when owed")


class NoticeWaveStep(StepBase):
    type: Literal["notice_wave"]
    draft: str
    recipients_input: str = Field(default="recipients", description="the input naming the recipients file")
    submits: list[str] = Field(default_factory=list, description="rule ids this wave discharges, when owed")


class WatchSentimentStep(StepBase):
    type: Literal["watch_sentiment"]
    brand: str | None = None
    for_: Duration = Field(default="72h", alias="for")


class ChecklistTask(Strict):
    title: str
    role: Role
    due: Timing | None = None


class ChecklistStep(StepBase):
    type: Literal["checklist"]
    tasks: list[ChecklistTask] = Field(min_length=1)


class WaitUntilStep(StepBase):
    type: Literal["wait_until"]
    event: str | None = Field(default=None, description="a clock event, e.g. incident_handled")
    at: Timing | None = None

    @model_validator(mode="after")
    def _one(self) -> WaitUntilStep:
        if (self.event is None) == (self.at is None):
            raise ValueError("wait_until needs exactly one of `event` or `at`")
        return self


class SetStatusStep(StepBase):
    type: Literal["set_status"]
    status: IncidentStatus


Step = Annotated[
    ComputeObligationsStep
    | OpenChannelStep
    | EscalateStep
    | DraftStep
    | AwaitApprovalStep
    | SendStep
    | NoticeWaveStep
    | WatchSentimentStep
    | ChecklistStep
    | WaitUntilStep
    | SetStatusStep,
    Field(discriminator="type"),
]
STEP_TYPES = (
    "compute_obligations",
    "open_channel",
    "escalate",
    "draft",
    "await_approval",
    "send",
    "notice_wave",
    "watch_sentiment",
    "checklist",
    "wait_until",
    "set_status",
)


class PlaybookInput(Strict):
    name: str
    description: str
    required: bool = False
    # What a person types: checked by the launch form. Files (recipients, mentions) and template numbers and
    # lists are known from the steps and templates that read the input; `kind` says the rest (an address).
    kind: Literal["text", "email"] = "text"


class Playbook(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")
    version: int = Field(ge=1)
    kind: IncidentKind
    title: str
    description: str = ""
    roles: list[Role] = Field(min_length=1)
    inputs: list[PlaybookInput] = []
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Playbook:
        seen: dict[str, str] = {}
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"step id {step.id!r} is used twice")
            for field in ("draft",):
                target = getattr(step, field, None)
                if target is not None and seen.get(target) != "draft":
                    raise ValueError(f"step {step.id!r}: {field} {target!r} is not an earlier draft step")
            seen[step.id] = step.type
        return self
