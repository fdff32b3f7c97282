"""Pydantic models of the rule table (`clock/rules.yaml`): shape and value checks at load.

Cross-references (facts, events, scopes, calendars, follow-up rule ids) are checked by
`tocsin.clock.references` once the shape is valid.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

Op = Literal["eq", "ne", "in", "gt", "gte", "lt", "lte", "present", "absent"]
DeadlineKind = Literal[
    "elapsed_hours",
    "calendar_days",
    "business_days",
    "months",
    "annual_batch",
    "earliest_of",
    "no_fixed_deadline",
    "on_request",
    "retention",
]
ScalarType = Literal["bool", "count", "string", "zone", "eea_country", "country_counts", "state_counts"]
_PERIOD_KINDS = {"elapsed_hours", "calendar_days", "business_days", "months", "annual_batch", "retention"}
_LOCAL_KINDS = {"calendar_days", "business_days", "months", "annual_batch", "retention"}
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PredicateSpec(Strict):
    """One test on one input key: `{fact: residents_affected, key: TX, op: gte, value: 250}`."""

    entity: str | None = None
    fact: str | None = None
    event: str | None = None
    option: str | None = None
    op: Op = "eq"
    value: Any = None
    key: str | None = None
    if_absent: bool | Literal["unknown"] = "unknown"
    sum_fallback: str | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> PredicateSpec:
        sources = [name for name in ("entity", "fact", "event", "option") if getattr(self, name) is not None]
        if len(sources) != 1:
            raise ValueError("a predicate names exactly one of entity, fact, event, option")
        if self.op == "in" and not isinstance(self.value, list):
            raise ValueError("op 'in' needs a list value")
        if self.op in ("gt", "gte", "lt", "lte") and (isinstance(self.value, bool) or not isinstance(self.value, int)):
            raise ValueError(f"op '{self.op}' needs an integer value")
        return self

    @property
    def source(self) -> str:
        return next(name for name in ("entity", "fact", "event", "option") if getattr(self, name) is not None)

    @property
    def name(self) -> str:
        return str(getattr(self, self.source))


class GroupSpec(Strict):
    all_of: list[ConditionNode] | None = None
    any_of: list[ConditionNode] | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _one_list(self) -> GroupSpec:
        if (self.all_of is None) == (self.any_of is None):
            raise ValueError("a group has exactly one of all_of, any_of")
        return self


def _node_kind(value: Any) -> str:
    if isinstance(value, dict) and ("all_of" in value or "any_of" in value):
        return "group"
    return "predicate"


ConditionNode = Annotated[
    Annotated[PredicateSpec, Tag("predicate")] | Annotated[GroupSpec, Tag("group")],
    Discriminator(_node_kind),
]
GroupSpec.model_rebuild()


class AppliesWhen(Strict):
    scope: list[str] = []
    entity: dict[str, Any] = {}
    roles: list[str] = []
    require: dict[str, Any] = {}
    exceptions: list[str] = []
    thresholds: list[PredicateSpec] = []
    any_of: list[ConditionNode] = []
    reason: str | None = None
    follows: list[str] = []
    same_as: str | None = None
    qualifiers: list[str] = []


class ClockStart(Strict):
    events: list[str] = Field(min_length=1)
    combine: Literal["first", "latest", "each"] = "first"
    when_missing: Literal["not_triggered", "pending", "report"] = "not_triggered"
    latest_if_from: str | None = None


class ZoneByPrefix(Strict):
    entity_timezone_prefix: str
    default: str


ZoneSpec = str | ZoneByPrefix


class DroppedIf(Strict):
    event: str
    later_than_hours: float


class Term(Strict):
    anchor: str
    kind: Literal["elapsed_hours", "calendar_days", "business_days", "at_event"]
    amount: int | None = Field(default=None, ge=0)
    calendar: str | None = None
    tz: ZoneSpec | None = None
    cutoff: str | None = None
    dropped_if: DroppedIf | None = None


class AmountIf(Strict):
    fact: str
    value: Any
    amount: int = Field(ge=0)


class AmountByEntity(Strict):
    key: str
    values: dict[str, int]


class MultiplierIf(Strict):
    entity: str
    factor: int = Field(ge=1)


class Extension(Strict):
    days: int = Field(ge=1)
    key: str


class Backstop(Strict):
    event: str | None = None
    rule: str | None = None


class AltRollForward(Strict):
    calendar: str


class DeadlineSpec(Strict):
    kind: DeadlineKind
    amount: int | None = Field(default=None, ge=0)
    unit: Literal["months"] | None = None
    amount_if: AmountIf | None = None
    amount_by_entity: AmountByEntity | None = None
    multiplier_if: MultiplierIf | None = None
    tz: ZoneSpec | None = None
    calendar: str | None = None
    cutoff: str | None = None
    terms: list[Term] = []
    relief: str | None = None
    alt_end_of_day: bool = False
    trigger_day_is_day_1: bool = False
    alt_roll_forward: AltRollForward | None = None
    possible_legal_extension: bool = False
    extension: Extension | None = None
    backstop: list[Backstop] = []
    output_kind: Literal["guidance_target"] | None = None

    @model_validator(mode="after")
    def _complete(self) -> DeadlineSpec:
        if self.kind in _PERIOD_KINDS and self.amount is None and self.amount_by_entity is None:
            raise ValueError(f"kind {self.kind} needs an amount")
        if self.kind in _LOCAL_KINDS and self.tz is None:
            raise ValueError(f"kind {self.kind} needs tz (the day boundary zone)")
        if self.kind == "business_days" and not self.calendar:
            raise ValueError("kind business_days needs a calendar")
        if self.kind == "earliest_of" and len(self.terms) < 2:
            raise ValueError("kind earliest_of needs at least two terms")
        if self.cutoff is not None and not _HH_MM.match(self.cutoff):
            raise ValueError(f"cutoff {self.cutoff!r} is not HH:MM")
        return self


class Phase(Strict):
    label: str
    clock_start: ClockStart
    deadline: DeadlineSpec


class RecipientBy(Strict):
    mode: Literal["eu_supervisory_authority", "member_state", "per_state", "entity_key", "controller_of_processor"]
    authority: Literal["csirt", "dora", "dpa"] | None = None
    suffix: str | None = None
    fact: str | None = None
    op: Op | None = None
    value: int | None = None
    template: str | None = None
    key: str | None = None
    values: dict[str, str] = {}


class RecipientAddition(Strict):
    when: PredicateSpec
    add: str


class Effective(Strict):
    from_: date | None = Field(default=None, alias="from")
    zone: str | None = None
    as_of: str | None = None
    previously: str | None = None
    note: str | None = None


class RuleSpec(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
    regime: str
    jurisdiction: str
    recipient: str
    recipient_by: RecipientBy | None = None
    recipient_additions: list[RecipientAddition] = []
    obligation: str
    applies_when: AppliesWhen = AppliesWhen()
    clock_start: ClockStart | None = None
    deadline: DeadlineSpec | None = None
    phases: list[Phase] = []
    qualifier: str | None = None
    citation: str = Field(min_length=1)
    sources: list[str]
    effective: Effective
    status: Literal["in_force", "in_force_where_transposed", "proposed_not_in_force"]
    confidence: Literal["verified", "secondary", "memory"]
    confidence_notes: str | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _timing(self) -> RuleSpec:
        if self.phases and (self.clock_start or self.deadline):
            raise ValueError("a rule has either phases or clock_start + deadline, not both")
        if not self.phases and (self.clock_start is None or self.deadline is None):
            raise ValueError("a rule needs clock_start and deadline (or phases)")
        return self

    @field_validator("sources")
    @classmethod
    def _urls(cls, sources: list[str]) -> list[str]:
        for url in sources:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"source {url!r} is not a URL")
        return sources


class EnumType(Strict):
    enum: list[str] = Field(min_length=1)


class ListOfType(Strict):
    list_of: list[str] = Field(min_length=1)


TypeSpec = ScalarType | EnumType | ListOfType


class Vocabulary(Strict):
    entity: dict[str, TypeSpec]
    facts: dict[str, TypeSpec]
    events: list[str]
    options: dict[str, TypeSpec]


class MemberState(Strict):
    name: str
    zone: str
    dpa: str
    csirt: str | None = None
    dora: str | None = None
    calendar: str | None = None


class CalendarSpec(Strict):
    country: str = Field(pattern=r"^[A-Z]{2}$")
    subdiv: str | None = None
    description: str | None = None
    add: list[date] = []
    remove: list[date] = []
    annual: list[str] = []

    @field_validator("annual")
    @classmethod
    def _month_days(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.match(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$", value):
                raise ValueError(f"annual date {value!r} is not MM-DD")
        return values


class ReliefSpec(Strict):
    source_rule: str
    description: str
    relief_local_time: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    no_relief_for_reports: list[str] = []
    no_relief_when_any: list[PredicateSpec] = []
    disapplied_when_any: list[PredicateSpec] = []
    citation: str
    confidence: Literal["verified", "secondary", "memory"]
    sources: list[str] = []


class RuleTable(Strict):
    schema_version: Literal[1]
    reference: dict[str, str]
    fact_defaults: dict[str, bool]
    role_equivalents: dict[str, list[str]]
    vocabulary: Vocabulary
    scopes: dict[str, ConditionNode]
    member_states: dict[str, MemberState]
    us_states: dict[str, str]
    calendars: dict[str, CalendarSpec]
    modifiers: dict[str, ReliefSpec]
    rules: list[RuleSpec] = Field(min_length=1)
