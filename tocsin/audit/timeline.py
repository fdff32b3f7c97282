"""Appending to and verifying an incident's audit timeline (database edge of audit_chain)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from tocsin.audit.boundary import LegacyBoundary, read_legacy_boundary, seal_legacy_boundary
from tocsin.audit.chain import (
    GENESIS,
    ChainEvent,
    ChainProblem,
    ChainReport,
    check_chain,
    key_id_of,
    keyed_event_hash,
    stored_form,
)
from tocsin.audit.keys import audit_key, verifying_keys
from tocsin.core.acting import current_door
from tocsin.core.clocks import to_utc, utcnow
from tocsin.core.config import get_settings
from tocsin.core.errors import NotFound
from tocsin.models import AuditEvent, Incident


def append_event(
    session: Session, incident: Incident, *, actor: str, action: str, payload: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one keyed event and move the incident's chain head (which also bumps its version)."""
    assert incident.id is not None
    payload = payload or {}
    door = current_door()
    if door is not None:  # inside an action: say which door it came through (`via`, and who locally)
        payload = {**payload, **door}
    payload = stored_form(payload)  # hash and store the same plain-JSON form
    key = audit_key(get_settings())
    seal_legacy_boundary(session, key)  # the first keyed event of this database fixes which events predate it
    seq = incident.audit_seq + 1
    prev_hash = incident.audit_head or GENESIS
    at = to_utc(utcnow())  # a drill's clock may carry another offset; the chain and the column keep UTC
    digest = keyed_event_hash(
        key, prev_hash=prev_hash, incident_id=incident.id, seq=seq, at=at, actor=actor, action=action, payload=payload
    )
    event = AuditEvent(
        incident_id=incident.id,
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        payload=payload,
        prev_hash=prev_hash,
        hash=digest,
        key_id=key_id_of(key),
    )
    incident.audit_seq = seq
    incident.audit_head = digest
    incident.updated_at = at
    session.add(event)
    session.add(incident)
    return event


def timeline(session: Session, incident_id: int) -> list[AuditEvent]:
    statement = select(AuditEvent).where(AuditEvent.incident_id == incident_id).order_by(AuditEvent.id)
    return list(session.exec(statement))


def chain_events(events: list[AuditEvent]) -> list[ChainEvent]:
    return [
        ChainEvent(
            id=e.id or 0,
            seq=e.seq,
            at=e.at,
            actor=e.actor,
            action=e.action,
            payload=e.payload,
            prev_hash=e.prev_hash,
            hash=e.hash,
            key_id=e.key_id,
        )
        for e in events
    ]


def check_incident(
    session: Session,
    incident: Incident,
    keys: Mapping[str, bytes],
    boundary: LegacyBoundary,
    events: list[AuditEvent] | None = None,
) -> ChainReport:
    assert incident.id is not None
    rows = timeline(session, incident.id) if events is None else events
    return check_chain(
        incident.id,
        chain_events(rows),
        head_seq=incident.audit_seq,
        head_hash=incident.audit_head,
        keys=keys,
        legacy_limit=boundary.limit,
    )


def verify_incident(session: Session, incident_id: int) -> list[ChainProblem]:
    """The chain's own problems, and the legacy marker's (without the checkpoint log: see `tocsin.audit.verify`)."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident INC-{incident_id}")
    keys = verifying_keys(get_settings())
    boundary = read_legacy_boundary(session, keys)
    problems = check_incident(session, incident, keys, boundary).problems
    return problems if boundary.problem is None else [ChainProblem(None, None, boundary.problem), *problems]
