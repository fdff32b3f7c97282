"""An incident's facts document: the clock's input ({entity, facts, events, options}).

Validation is the clock's own (`tocsin.clock.parse_input`), so the incident record and
`tocsin obligations` accept exactly the same documents. An incident's facts describe what has
happened, so an event time further ahead of the clock's now than `future_event_skew_hours` (a
mistyped year: 2099) is refused too; the clock is the swappable one, so drills on simulated time work.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tocsin.clock import parse_input
from tocsin.clock.yaml_lines import line_of
from tocsin.core.clocks import iso_utc, utcnow
from tocsin.core.config import get_settings
from tocsin.core.errors import InvalidInput


def validate_facts(document: dict[str, Any], *, where: str, now: datetime | None = None) -> dict[str, Any]:
    """Refuse a facts document the clock would refuse, or with an event in the future; return it unchanged."""
    parsed = parse_input(document, source=where)  # refusals name `where` (and its line, from a YAML file)
    refuse_future_events(parsed.events, document, where=where, now=now or utcnow())
    return document


def refuse_future_events(events: dict[str, datetime], document: Any, *, where: str, now: datetime) -> None:
    """An event recorded on an incident has happened: more than the allowed skew ahead of `now` is refused."""
    hours = get_settings().future_event_skew_hours
    latest = now + timedelta(hours=hours)
    for name, instant in events.items():
        if instant > latest:
            line = line_of(document, ("events", name))
            raise InvalidInput(
                f"events.{name}: {iso_utc(instant)} is {_ahead(instant - now)} after now ({iso_utc(now)}); "
                f"record an event once it has happened (at most {hours:g} h ahead: TOCSIN_FUTURE_EVENT_SKEW_HOURS)",
                where=f"{where}:{line}" if line else where,
            )


def _ahead(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:,.0f} days" if days >= 2 else f"{delta.total_seconds() / 3600:,.1f} hours"


def entity_timezone(document: dict[str, Any]) -> str | None:
    entity = document.get("entity") or {}
    value = entity.get("timezone") if isinstance(entity, dict) else None
    return value if isinstance(value, str) else None
