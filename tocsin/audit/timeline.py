"""Appending to and verifying an incident's audit timeline (database edge of audit_chain)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from tocsin.audit.chain import GENESIS, ChainEvent, ChainProblem, event_hash, verify_chain
from tocsin.core.acting import current_door
from tocsin.core.clocks import utcnow
from tocsin.core.errors import NotFound
from tocsin.models import AuditEvent, Incident


def append_event(
    session: Session, incident: Incident, *, actor: str, action: str, payload: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one event and move the incident's chain head (which also bumps its version)."""
    assert incident.id is not None
    payload = payload or {}
    door = current_door()
    if door is not None:  # inside an action: say which door it came through (`via`, and who locally)
        payload = {**payload, **door}
    seq = incident.audit_seq + 1
    prev_hash = incident.audit_head or GENESIS
    at = utcnow()
    digest = event_hash(
        prev_hash=prev_hash,
        incident_id=incident.id,
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        payload=payload,
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


def verify_incident(session: Session, incident_id: int) -> list[ChainProblem]:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident INC-{incident_id}")
    events = [
        ChainEvent(
            id=e.id or 0,
            seq=e.seq,
            at=e.at,
            actor=e.actor,
            action=e.action,
            payload=e.payload,
            prev_hash=e.prev_hash,
            hash=e.hash,
        )
        for e in timeline(session, incident_id)
    ]
    return verify_chain(incident_id, events, head_seq=incident.audit_seq, head_hash=incident.audit_head)
