"""Turning what a person typed (CLI options, an API body, a web form) into a checked `Declaration`.

The defaults are the same everywhere: the commander is TOCSIN_DEFAULT_COMMANDER, else the declarer; the
locale is the configured default; the entity's zone comes from the facts, else UTC; aware-at is now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tocsin.core.clocks import utcnow
from tocsin.core.config import get_settings
from tocsin.incidents.facts import entity_timezone, validate_facts
from tocsin.incidents.service import Declaration, parse_choice
from tocsin.models import IncidentKind, Severity
from tocsin.people.directory import check_handle


def build_declaration(
    *,
    actor: str,
    title: str,
    kind: str = "breach",
    severity: str = "SEV2",
    aware_at: datetime | None = None,
    commander: str | None = None,
    facts: dict[str, Any] | None = None,
    facts_where: str = "facts",
    locale: str | None = None,
    timezone: str | None = None,
) -> Declaration:
    settings = get_settings()
    document = facts or {}
    if document:
        validate_facts(document, where=facts_where)
    return Declaration(
        kind=parse_choice(IncidentKind, kind.strip().lower(), "kind"),
        title=title,
        severity=parse_choice(Severity, severity.strip().upper(), "severity"),
        aware_at=aware_at or utcnow(),
        commander=check_handle(commander or settings.default_commander or actor),
        facts=document,
        locale=locale or settings.default_locale,
        timezone=timezone or entity_timezone(document) or "UTC",
    )
