"""Loading and checking playbooks: `tocsin playbooks`, `tocsin playbook check FILE`.

Two passes, both before anything runs: the schema (playbooks/schema.py) and the references a
playbook makes to the rest of Tocsin (templates, facts, events and rule ids the clock knows).
Every error names the file, the line, the step and the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from tocsin.clock.yaml_lines import line_of, load_yaml
from tocsin.playbooks.schema import STEP_TYPES, Condition, Playbook, Timing

from tocsin.core.errors import InvalidInput

BUILT_IN = Path(__file__).parent


@dataclass(frozen=True)
class Knowledge:
    """What a playbook may refer to."""

    templates: frozenset[str]
    facts: frozenset[str]
    entity_keys: frozenset[str]
    events: frozenset[str]
    rules: frozenset[str]


@lru_cache(maxsize=1)
def knowledge() -> Knowledge:
    from tocsin.clock import load_rules
    from tocsin.templates.loader import available

    book = load_rules()
    vocabulary = book.table.vocabulary
    return Knowledge(
        templates=frozenset(available()),
        facts=frozenset(vocabulary.facts),
        entity_keys=frozenset(vocabulary.entity),
        events=frozenset(vocabulary.events),
        rules=frozenset(book.rule_ids),
    )


def _where(name: str, data: Any, loc: tuple[Any, ...]) -> str:
    # pydantic puts the discriminator (the step type) into the location of a union member's error
    loc = tuple(part for i, part in enumerate(loc) if not (i == 2 and loc[0] == "steps" and part in STEP_TYPES))
    line = line_of(data, loc)
    parts = [f"{name}:{line}" if line else name]
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        steps = data.get("steps") if isinstance(data, dict) else None
        step = steps[loc[1]] if isinstance(steps, list) and loc[1] < len(steps) else None
        step_id = step.get("id") if isinstance(step, dict) else None
        parts.append(f"step {step_id or '#' + str(loc[1] + 1)}")
        field = ".".join(str(p) for p in loc[2:])
        if field:
            parts.append(f"field {field}")
    elif loc:
        parts.append(f"field {'.'.join(str(p) for p in loc)}")
    return " ".join(parts)


def parse_playbook(text: str, name: str, known: Knowledge | None = None) -> Playbook:
    import yaml

    try:
        data = load_yaml(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise InvalidInput(
            f"invalid YAML: {error.problem}", where=f"{name}:{mark.line + 1}" if mark else name
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput("a playbook is a mapping with name, version, kind, roles and steps", where=name)
    for index, step in enumerate(data.get("steps") or []):
        if isinstance(step, dict) and "type" in step and step["type"] not in STEP_TYPES:
            raise InvalidInput(
                f"unknown step type {step['type']!r}; one of: {', '.join(STEP_TYPES)}",
                where=_where(name, data, ("steps", index, "type")),
            )
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(_message(first), where=_where(name, data, tuple(first["loc"]))) from None
    problems = list(reference_problems(playbook, known or knowledge()))
    if problems:
        index, field, message = problems[0]
        raise InvalidInput(message, where=_where(name, data, ("steps", index, *field)))
    return playbook


def _message(error: dict[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "missing field"
    return message


def reference_problems(playbook: Playbook, known: Knowledge) -> Iterator[tuple[int, tuple[Any, ...], str]]:
    """(step index, field path, message) for every reference to something Tocsin does not know."""
    for index, step in enumerate(playbook.steps):
        for field in ("template", "message", "brief"):
            template = getattr(step, field, None)
            if template is not None and template not in known.templates:
                yield index, (field,), f"template {template!r} does not exist ({', '.join(sorted(known.templates))})"
        if step.when is not None:
            for path, message in _condition_problems(step.when, known, ("when",)):
                yield index, path, message
        for path, timing in _timings(step):
            if timing.deadline is not None and timing.deadline not in known.rules:
                yield index, (*path, "deadline"), f"unknown rule {timing.deadline!r}"
        event = getattr(step, "event", None)
        if event is not None and event not in known.events:
            yield index, ("event",), f"unknown clock event {event!r}"
        for number, rule in enumerate(getattr(step, "submits", None) or []):
            if rule not in known.rules:
                yield index, ("submits", number), f"unknown rule {rule!r}"


def _timings(step: Any) -> Iterable[tuple[tuple[Any, ...], Timing]]:
    for field in ("due", "at"):
        value = getattr(step, field, None)
        if isinstance(value, Timing):
            yield (field,), value
    for number, task in enumerate(getattr(step, "tasks", None) or []):
        if task.due is not None:
            yield ("tasks", number, "due"), task.due


def _condition_problems(
    condition: Condition, known: Knowledge, path: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], str]]:
    if condition.fact is not None and condition.fact not in known.facts:
        yield (*path, "fact"), f"unknown fact {condition.fact!r} (see the clock's facts vocabulary)"
    if condition.entity is not None and condition.entity not in known.entity_keys:
        yield (*path, "entity"), f"unknown entity key {condition.entity!r}"
    if condition.obligation is not None and not any(r.startswith(condition.obligation) for r in known.rules):
        yield (*path, "obligation"), f"no rule id starts with {condition.obligation!r}"
    for key in ("all", "any"):
        for number, inner in enumerate(getattr(condition, key) or []):
            yield from _condition_problems(inner, known, (*path, key, number))
    if condition.not_ is not None:
        yield from _condition_problems(condition.not_, known, (*path, "not"))


def load_playbook_file(path: Path | str) -> Playbook:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput(f"cannot read: {error.strerror or error}", where=str(file)) from None
    return parse_playbook(text, str(file))


def built_in_paths() -> dict[str, Path]:
    return {p.stem: p for p in sorted(BUILT_IN.glob("*.yaml"))}


def get_playbook(name_or_path: str) -> Playbook:
    """A built-in playbook by name, or a playbook file by path."""
    paths = built_in_paths()
    if name_or_path in paths:
        return load_playbook_file(paths[name_or_path])
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        return load_playbook_file(candidate)
    raise InvalidInput(f"no playbook {name_or_path!r}; built in: {', '.join(paths)}")


def get_built_in(name: str) -> Playbook:
    """A built-in playbook by name only (never a path): what the web console and the JSON API may launch."""
    paths = built_in_paths()
    if name not in paths:
        raise InvalidInput(f"no built-in playbook {name!r}; built in: {', '.join(paths)}")
    return load_playbook_file(paths[name])
