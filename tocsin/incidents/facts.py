"""An incident's facts document: the clock's input ({entity, facts, events, options}).

Validation is the clock's own (`tocsin.clock.parse_input`), so the incident record and
`tocsin obligations` accept exactly the same documents.
"""

from __future__ import annotations

from typing import Any

from tocsin.clock import parse_input
from tocsin.core.errors import InvalidInput


def validate_facts(document: dict[str, Any], *, where: str) -> dict[str, Any]:
    """Refuse a facts document the clock would refuse; return it unchanged when valid."""
    try:
        parse_input(document)
    except InvalidInput as error:
        raise InvalidInput(error.message, where=f"{where}{': ' + error.where if error.where else ''}") from None
    return document


def entity_timezone(document: dict[str, Any]) -> str | None:
    entity = document.get("entity") or {}
    value = entity.get("timezone") if isinstance(entity, dict) else None
    return value if isinstance(value, str) else None
