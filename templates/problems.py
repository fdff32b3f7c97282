"""What is wrong with a template, always with the file and line it is on."""

from __future__ import annotations

from dataclasses import dataclass

from tocsin.core.errors import InvalidInput


@dataclass(frozen=True)
class Problem:
    file: str  # relative to the templates folder, e.g. regulator_notice/en.txt.j2
    line: int | None
    message: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class TemplateInvalid(InvalidInput):
    """A template failed validation; `problems` lists every finding (the message names the first)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s); run `tocsin template check`)" if len(problems) > 1 else ""
        super().__init__(first.message + more, where=first.where)


@dataclass(frozen=True)
class MissingInput:
    name: str
    description: str
    hint: str


class MissingInputs(InvalidInput):
    """Inputs a template needs that neither the incident nor the person drafting supplied (all at once)."""

    def __init__(self, template: str, missing: list[MissingInput]) -> None:
        self.template = template
        self.missing = missing
        listed = "; ".join(f"{m.name} ({m.description})" for m in missing)
        super().__init__(f"{template} needs {len(missing)} more input(s): {listed}")
