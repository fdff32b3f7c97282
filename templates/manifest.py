"""The `template.yaml` manifest of one template: what it is for, the variables it needs, and the
sections whose content the law requires (checked at load and at every render)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LOCALE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
PARTS = ("subject", "txt", "html")


class Audience(StrEnum):
    regulator = "regulator"
    individuals = "individuals"
    public = "public"
    internal = "internal"


class Channel(StrEnum):
    email = "email"
    chat = "chat"
    statement = "statement"


class VariableKind(StrEnum):
    text = "text"
    number = "number"
    list = "list"


class VariableSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1)
    kind: VariableKind = VariableKind.text
    required: bool = True
    # Used when an optional variable is not given (StrictUndefined would refuse it otherwise).
    default: Any = None
    # Rendered at validation time, so every template is exercised before anyone drafts with it.
    example: Any = None

    @model_validator(mode="after")
    def _example_for_required(self) -> VariableSpec:
        if self.required and self.example is None:
            raise ValueError("a required variable needs an `example` (templates are validated by rendering it)")
        return self


class SectionSpec(BaseModel):
    """A block (`{% block NAME %}`) every locale's text and HTML part must contain and fill."""

    model_config = ConfigDict(extra="forbid")

    name: str
    title: str = Field(min_length=1)
    uses: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(f"{value!r} is not a block name (lower-case letters, digits, _)")
        return value


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: str = Field(pattern=r"^\d+(\.\d+){0,2}$")
    description: str = Field(min_length=1)
    audience: Audience
    channel: Channel
    locales: list[str] = Field(min_length=1)
    variables: dict[str, VariableSpec] = Field(default_factory=dict)
    sections: list[SectionSpec] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(f"{value!r} is not a template name (lower-case letters, digits, _)")
        return value

    @field_validator("locales")
    @classmethod
    def _locales(cls, values: list[str]) -> list[str]:
        for value in values:
            if not LOCALE.match(value):
                raise ValueError(f"{value!r} is not a locale (like en, de or fr-CA)")
        if len(set(values)) != len(values):
            raise ValueError("a locale is listed twice")
        return values

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        for variable in self.variables:
            if not IDENTIFIER.match(variable):
                raise ValueError(f"variable {variable!r} is not an identifier (lower-case letters, digits, _)")
        for section in self.sections:
            unknown = [v for v in section.uses if v not in self.variables]
            if unknown:
                raise ValueError(f"section {section.name!r} uses undeclared variable(s): {', '.join(unknown)}")
        return self

    @property
    def default_locale(self) -> str:
        return self.locales[0]

    def example_variables(self) -> dict[str, Any]:
        return {
            name: spec.example if spec.example is not None else spec.default for name, spec in self.variables.items()
        }


def file_name(locale: str, part: str) -> str:
    return f"{locale}.{part}.j2"
