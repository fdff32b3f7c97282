"""Plain-dict views of records for `--json` output and the JSON API (one shape everywhere)."""

from __future__ import annotations

from typing import Any

from tocsin.core.clocks import iso_utc
from tocsin.models import AuditEvent, Incident, Person


def incident_dict(incident: Incident, roles: list[tuple[str, Person]] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": incident.id,
        "ref": incident.ref,
        "kind": incident.kind,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "aware_at": iso_utc(incident.aware_at),
        "declared_at": iso_utc(incident.declared_at),
        "closed_at": iso_utc(incident.closed_at),
        "updated_at": iso_utc(incident.updated_at),
        "locale": incident.locale,
        "timezone": incident.timezone,
        "playbook": incident.playbook,
        "version": incident.version,
        "facts": incident.facts,
    }
    if roles is not None:
        data["commander"] = next((p.handle for role, p in roles if role == "commander"), None)
        data["roles"] = [{"role": role, "person": person.handle} for role, person in roles]
    return data


def event_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": iso_utc(event.at),
        "actor": event.actor,
        "action": event.action,
        "payload": event.payload,
        "hash": event.hash,
    }


def event_summary(payload: dict[str, Any], limit: int = 120) -> str:
    """An event's payload in one line for people (`key=value, ...`, empty values and the facts left out)."""
    details = {k: v for k, v in payload.items() if v not in (None, "", [], {}) and k != "facts"}
    return ", ".join(f"{k}={v}" for k, v in details.items())[:limit]


def person_dict(person: Person) -> dict[str, Any]:
    return {
        "handle": person.handle,
        "name": person.name,
        "email": person.email,
        "slack_user_id": person.slack_user_id,
        "locale": person.locale,
        "timezone": person.timezone,
        "is_admin": person.is_admin,
        "has_password": person.password_hash is not None,
    }
