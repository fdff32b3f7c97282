"""Drill scenarios: who the simulated people are and how they behave (pure schema + generators).

A scenario declares the incident (facts with times relative to the drill's start), the team, the
playbook inputs, and the behaviour of each simulated person: how long they take to acknowledge a
page, what legal decides on each draft and when, how long tasks take, when events happen.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from tocsin.models.enums import IncidentKind, Role, Severity
from tocsin.playbooks.schema import parse_duration

from tocsin.core.clocks import iso_utc

SCENARIOS = Path(__file__).parent / "scenarios"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: str) -> str:
    parse_duration(value)
    return value


class Member(Strict):
    handle: str
    role: Role
    name: str | None = None
    email: str | None = None
    locale: str | None = None


def commander_of(people: list[Member]) -> str:
    """The first member with the commander role, else the first member."""
    return next((m.handle for m in people if m.role == Role.commander), people[0].handle)


class Review(Strict):
    by: str
    decision: Literal["approve", "reject"]
    after: str = Field(description="time after the draft goes into review")
    comment: str | None = None
    _check = field_validator("after")(_duration)


class Behaviour(Strict):
    acks: dict[str, str] = Field(default_factory=dict, description="handle → delay before acknowledging a page")
    reviews: dict[str, list[Review]] = Field(default_factory=dict, description="draft step id → decisions in order")
    revise_after: str = "1h"
    revisions: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="draft step id → template inputs the drafter changes after a rejection"
    )
    tasks_done_after: dict[Role, str] = Field(default_factory=dict)
    events: dict[str, str] = Field(default_factory=dict, description="clock event → time after the start")


class IncidentSpec(Strict):
    title: str
    kind: IncidentKind = IncidentKind.breach
    severity: Severity = Severity.SEV1
    aware_before_start: str = "0m"
    facts: dict[str, Any] = Field(default_factory=dict)
    locale: str = "en"


class Generated(Strict):
    count: int = Field(ge=0)
    locales: dict[str, float] = Field(default_factory=lambda: {"en": 1.0})
    seed: int = 7


class MentionStream(Strict):
    history: str = Field(default="24h", description="routine mentions before the start, so the detector has a baseline")
    hours: float = 72
    per_hour: float = 30
    surge_after: str = "20h"
    surge_factor: float = 6
    negative_share: float = 0.55
    seed: int = 11


class Scenario(Strict):
    name: str
    playbook: str
    start: datetime
    horizon: str = "14d"
    incident: IncidentSpec
    people: list[Member] = Field(min_length=1)
    inputs: dict[str, Any] = Field(default_factory=dict)
    recipients: Generated | None = None
    mentions: MentionStream | None = None
    behaviour: Behaviour = Behaviour()

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("start needs a UTC offset")
        return value

    @field_validator("people")
    @classmethod
    def _nobody_grants_themselves(cls, people: list[Member]) -> list[Member]:
        """The drill's commander (the first member with that role, else the first member) declares and gives
        everyone else their role (the `role.assign` rule): a second role of theirs would be a grant to
        themselves, which the policy refuses."""
        commander = commander_of(people)
        for m in people:
            if m.handle == commander and m.role != Role.commander:
                raise ValueError(
                    f"{m.handle} is the drill's commander and cannot also be given {m.role.value}: nobody grants "
                    "themselves a role (give it to another member of the team)"
                )
        return people

    @property
    def commander(self) -> str:
        """Who declares the drill's incident and assigns everyone else."""
        return commander_of(self.people)

    def facts_document(self, aware_at: datetime) -> dict[str, Any]:
        """The facts with every `@aware` and `@start+2h`-style value replaced by an instant."""

        def resolve(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: resolve(v) for k, v in value.items()}
            if isinstance(value, list):
                return [resolve(v) for v in value]
            if isinstance(value, str) and value.startswith("@"):
                base, _, offset = value[1:].partition("+")
                anchor = aware_at if base == "aware" else self.start
                return iso_utc(anchor + (parse_duration(offset) if offset else timedelta(0)))
            return value

        return resolve(self.incident.facts)


FIRST = ["Ada", "Bruno", "Chloé", "Dieter", "Emma", "Farid", "Greta", "Hugo", "Inès", "Jonas", "Karin", "Luc"]
LAST = ["Martin", "Schmidt", "Dubois", "Müller", "Bernard", "Weber", "Moreau", "Fischer", "Laurent", "Wagner"]


def write_recipients(spec: Generated, path: Path) -> Path:
    """A CSV of made-up affected people (example.org addresses) for the notice wave."""
    rng = random.Random(spec.seed)
    locales = list(spec.locales)
    weights = list(spec.locales.values())
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "locale"])
        for number in range(spec.count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            writer.writerow([f"customer{number:07d}@example.org", f"{first} {last}", rng.choices(locales, weights)[0]])
    return path


COMPLAINTS = [
    "just got an email that my data was leaked?? what is going on @brand",
    "@brand your site exposed customer records, this is unacceptable",
    "cancelling my account, @brand cannot keep data safe",
    "anyone else get a breach notice from @brand? no info on what happened",
    "so @brand was hacked and they tell us days later. terrible",
]
ROUTINE = [
    "love the new collection from @brand",
    "@brand my order is late again",
    "great service at the @brand store today",
    "@brand is the app down? can't log in",
    "thanks @brand for the quick refund",
]


def mention_lines(spec: MentionStream, start: datetime) -> Iterator[str]:
    """JSONL mentions: a routine stream, then a surge of negative posts after `surge_after`."""
    rng = random.Random(spec.seed)
    surge = start + parse_duration(spec.surge_after)
    moment, end, number = start - parse_duration(spec.history), start + timedelta(hours=spec.hours), 0
    while moment < end:
        rate = spec.per_hour * (spec.surge_factor if surge <= moment < surge + timedelta(hours=6) else 1)
        moment += timedelta(hours=rng.expovariate(rate))
        negative = moment >= surge and rng.random() < spec.negative_share
        text = rng.choice(COMPLAINTS if negative else ROUTINE)
        number += 1
        yield json.dumps({"id": f"m{number}", "created_at": iso_utc(moment), "text": text, "source": "drill"})


def load_scenario(path: Path | str) -> Scenario:
    from pydantic import ValidationError

    from tocsin.core.documents import load_mapping
    from tocsin.core.errors import InvalidInput

    document, name = load_mapping(path)
    try:
        return Scenario.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(str(first["msg"]), where=f"{name} field {'.'.join(map(str, first['loc']))}") from None


def default_scenario(playbook: str) -> Path:
    path = SCENARIOS / f"{playbook}.yaml"
    return path if path.exists() else SCENARIOS / "data-breach.yaml"
