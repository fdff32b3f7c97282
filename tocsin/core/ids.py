"""Reading the ids people type: `12` or `INC-12`, `7` or `D-7`, `3` or `E-3`. One parser for every door."""

from __future__ import annotations

from tocsin.core.errors import InvalidInput, NotFound

# Row ids are 32-bit integers on PostgreSQL: a larger number names nothing (and must not reach the database).
LARGEST_ID = 2**31 - 1


def parse_id(text: str | int, prefix: str, what: str) -> int:
    """The number in `text`, with or without its prefix (`INC-`, `D-`, `E-`, any case)."""
    raw = str(text).strip()
    number = raw[len(prefix) :] if raw.upper().startswith(prefix) else raw
    if not number.isascii() or not number.isdigit():
        raise InvalidInput(f"{raw[:40]!r} is not {what} id (write 12 or {prefix}12)")
    value = int(number)
    if value > LARGEST_ID:
        raise NotFound(f"no {what.split()[-1]} {prefix}{number[:24]}")
    return value


def parse_incident_id(text: str | int) -> int:
    return parse_id(text, "INC-", "an incident")


def parse_draft_id(text: str | int) -> int:
    return parse_id(text, "D-", "a draft")


def parse_escalation_id(text: str | int) -> int:
    return parse_id(text, "E-", "an escalation")


def parse_row_id(text: str | int, what: str) -> int:
    """A plain number naming a row (a playbook run, a checklist task, an API token)."""
    raw = str(text).strip()
    if not raw.isascii() or not raw.isdigit():
        raise InvalidInput(f"{raw[:40]!r} is not {what} id (write a number, e.g. 12)")
    if int(raw) > LARGEST_ID:
        raise NotFound(f"no {what.split()[-1]} {raw[:24]}")
    return int(raw)
