"""The clock's input document ({entity, facts, events, options, ...}), validated and typed.

Accepted keys and their types come from the `vocabulary` of the rule table, so a typo
(`personal_data_breech`), a naive timestamp, a negative or fractional count or an unknown
enum value is refused with `InvalidInput` naming the key (and file:line when known).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tocsin.clock.jurisdictions import EU_TOTAL, country_problem, state_key_problem, suggest_country
from tocsin.clock.rules_loader import RuleBook, load_rules
from tocsin.clock.yaml_lines import line_of, load_yaml

from tocsin.core.documents import parse_yaml, read_text
from tocsin.core.errors import InvalidInput

TOP_LEVEL_KEYS = ("entity", "facts", "events", "options", "processor", "regimes_in_scope_only")
_SUBMITTED = "submitted:"
_NOT_A_MAPPING = "the input document must be a mapping with entity, facts, events, options"


@dataclass(frozen=True, slots=True)
class IncidentInput:
    """A validated incident description; events are UTC instants."""

    entity: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    events: dict[str, datetime] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    processor: dict[str, Any] | None = None
    regimes_in_scope_only: tuple[str, ...] | None = None


class _Refusal(Exception):
    def __init__(self, path: tuple[Any, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _dotted(path: Iterable[Any]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _unknown_key(path: tuple[Any, ...], key: Any, known: Iterable[str]) -> _Refusal:
    close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return _Refusal((*path, key), f"unknown key{hint}")


def parse_instant(value: Any, path: tuple[Any, ...]) -> datetime:
    """An ISO 8601 instant with an offset (`Z` or `+01:00`), as UTC. Naive times are refused."""
    if isinstance(value, datetime):
        instant = value
    elif isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _Refusal(path, f"{value!r} is not an ISO 8601 instant like 2027-05-12T09:15:00+02:00") from None
        if "T" not in value and " " not in value.strip():
            raise _Refusal(path, f"{value!r} is a date, not an instant with a time and an offset")
    else:
        raise _Refusal(path, f'{value!r} is not an instant (quote it: "2027-05-12T09:15:00+02:00")')
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise _Refusal(path, f"{value!s} has no UTC offset: naive timestamps are ambiguous (add Z or +HH:MM)")
    return instant.astimezone(UTC)


def _count(value: Any, path: tuple[Any, ...]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and value >= 0:
            return int(value)
        raise _Refusal(path, f"{value!r} is not a whole number of people")
    if value < 0:
        raise _Refusal(path, f"{value} is negative: counts must be 0 or more")
    return value


def _counts(value: Any, path: tuple[Any, ...], problem: Callable[[object], str | None]) -> dict[str, int]:
    """A map from jurisdiction code to a count; every code checked by `problem` (ISO lists, the rule table)."""
    if not isinstance(value, Mapping):
        raise _Refusal(path, "must be a map from jurisdiction code to a count, e.g. {TX: 250}")
    result: dict[str, int] = {}
    for code, count in value.items():
        if (why := problem(code)) is not None:
            raise _Refusal((*path, code), why)
        result[code] = _count(count, (*path, code))
    return result


def _typed(kind: Any, value: Any, path: tuple[Any, ...], book: RuleBook) -> Any:
    if isinstance(kind, str):
        if kind == "bool":
            if not isinstance(value, bool):
                raise _Refusal(path, f"{value!r} is not true or false")
            return value
        if kind == "count":
            return _count(value, path)
        if kind == "string":
            if not isinstance(value, str) or not value.strip():
                raise _Refusal(path, f"{value!r} is not a non-empty string")
            return value
        if kind == "zone":
            try:
                ZoneInfo(str(value))
            except (ZoneInfoNotFoundError, ValueError):
                raise _Refusal(path, f"{value!r} is not an IANA time zone (e.g. Europe/Paris)") from None
            return str(value)
        if kind == "eea_country":
            if value not in book.table.member_states:
                hint = suggest_country(value) if isinstance(value, str) else None
                meant = f" (did you mean {hint}?)" if hint in book.table.member_states else ""
                raise _Refusal(path, f"{value!r} is not an EU/EEA country code{meant} (e.g. FR, DE, IE)")
            return value
        if kind == "country_counts":
            states = book.table.us_states
            return _counts(value, path, lambda code: country_problem(code, extra=(EU_TOTAL,), states=states))
        if kind == "state_counts":
            return _counts(value, path, lambda code: state_key_problem(code, book.table.us_states))
    allowed = getattr(kind, "enum", None)
    if allowed is not None:
        if value not in allowed:
            raise _Refusal(path, f"unknown value {value!r}; expected one of {', '.join(allowed)}")
        return value
    members = getattr(kind, "list_of", None)
    if members is not None:
        if not isinstance(value, list):
            raise _Refusal(path, f"must be a list of: {', '.join(members)}")
        for index, item in enumerate(value):
            if item not in members:
                raise _Refusal((*path, index), f"unknown value {item!r}; expected one of {', '.join(members)}")
        return list(value)
    raise _Refusal(path, f"unsupported vocabulary type {kind!r}")


def _section(document: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = document.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _Refusal((name,), "must be a mapping of keys to values")
    return value


def _typed_section(document: Mapping[str, Any], name: str, types: Mapping[str, Any], book: RuleBook) -> dict:
    result: dict[str, Any] = {}
    for key, value in _section(document, name).items():
        kind = types.get(key)
        if kind is None:
            raise _unknown_key((name,), key, types)
        result[key] = _typed(kind, value, (name, key), book)
    return result


def _events(document: Mapping[str, Any], book: RuleBook) -> dict[str, datetime]:
    known = book.table.vocabulary.events
    events: dict[str, datetime] = {}
    for key, value in _section(document, "events").items():
        if isinstance(key, str) and key.startswith(_SUBMITTED):
            if key.removeprefix(_SUBMITTED) not in book.by_id:
                raise _unknown_key(("events",), key, [_SUBMITTED + rule_id for rule_id in book.by_id])
        elif key not in known:
            raise _unknown_key(("events",), key, known)
        if value is None:
            raise _Refusal(("events", key), "an event that has not happened is omitted, not null")
        events[key] = parse_instant(value, ("events", key))
    return events


def _processor(document: Mapping[str, Any], book: RuleBook) -> dict[str, Any] | None:
    if document.get("processor") is None:
        return None
    types = {"name": "string", "roles": book.table.vocabulary.entity["roles"]}
    return _typed_section(document, "processor", types, book)


def _scope(document: Mapping[str, Any], book: RuleBook) -> tuple[str, ...] | None:
    value = document.get("regimes_in_scope_only")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise _Refusal(("regimes_in_scope_only",), "must be a list of rule-id prefixes, e.g. [us.hipaa]")
    for index, prefix in enumerate(value):
        if not any(rule_id.startswith(prefix) for rule_id in book.by_id):
            raise _Refusal(("regimes_in_scope_only", index), f"{prefix!r} is the prefix of no rule id")
    return tuple(value)


def read_input(file: str | Path) -> tuple[dict[str, Any], str]:
    """An input document from a YAML or JSON file (`-`: standard input), and the name refusals give it. Read
    with the loader that keeps line marks, so every door (`tocsin obligations`, `facts`, `declare --facts`)
    refuses the same file with the same `file:line`."""
    text, source = read_text(file)
    document = parse_yaml(text, source, load=load_yaml)
    if not isinstance(document, dict):  # an empty file too: `declare --facts` would otherwise drop it
        raise InvalidInput(f"(document): {_NOT_A_MAPPING}", where=source)
    return document, source


def parse_input(document: Any, *, source: str | None = None, rules: RuleBook | None = None) -> IncidentInput:
    """Validate an input document (a dict, e.g. from YAML/JSON or an incident's stored facts)."""
    book = rules or load_rules()
    try:
        if not isinstance(document, Mapping):
            raise _Refusal((), _NOT_A_MAPPING)
        for key in document:
            if key not in TOP_LEVEL_KEYS:
                raise _unknown_key((), key, TOP_LEVEL_KEYS)
        vocabulary = book.table.vocabulary
        return IncidentInput(
            entity=_typed_section(document, "entity", vocabulary.entity, book),
            facts=_typed_section(document, "facts", vocabulary.facts, book),
            events=_events(document, book),
            options=_typed_section(document, "options", vocabulary.options, book),
            processor=_processor(document, book),
            regimes_in_scope_only=_scope(document, book),
        )
    except _Refusal as refusal:
        field_name = _dotted(refusal.path) or "(document)"
        line = line_of(document, refusal.path) if source else None
        where = f"{source}:{line}" if source and line else source
        raise InvalidInput(f"{field_name}: {refusal.message}", where=where) from None
