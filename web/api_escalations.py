"""`/api/.../escalations`: who is paged now, and acknowledging a page (which stops the chain)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks
from tocsin.models.escalation import Escalation
from tocsin.web.auth import Actor
from tocsin.web.background import wake_later

from tocsin.core.clocks import iso_utc
from tocsin.core.errors import InvalidInput
from tocsin.db.engine import session_scope

router = APIRouter(prefix="/api", tags=["escalations"])


def escalation_dict(escalation: Escalation) -> dict[str, Any]:
    return {
        "escalation": escalation.id,
        "incident": f"INC-{escalation.incident_id}",
        "role": escalation.role,
        "subject": escalation.subject,
        "status": escalation.status,
        "level": escalation.level + 1,
        "levels": len(escalation.levels),
        "paged": escalation.levels[escalation.level],
        "next_at": iso_utc(escalation.next_at),
        "acked_by": escalation.acked_by,
        "acked_at": iso_utc(escalation.acked_at),
    }


def _escalation_id(text: str) -> int:
    raw = text.strip()
    number = raw[2:] if raw.upper().startswith("E-") else raw
    if not number.isdigit():
        raise InvalidInput(f"{raw!r} is not an escalation id (write 7 or E-7)")
    return int(number)


@router.get("/incidents/{incident}/escalations", summary="Open escalations of an incident")
def open_escalations(incident: str, _actor: Actor) -> list[dict[str, Any]]:
    from tocsin.incidents.service import get_incident, parse_incident_id
    from tocsin.messages.escalations import open_escalations as query

    incident_id = parse_incident_id(incident)
    with session_scope() as session:
        get_incident(session, incident_id)
        return [escalation_dict(e) for e in query(session, incident_id)]


@router.post("/escalations/{escalation}/ack", summary="Acknowledge a page as the caller")
def acknowledge(escalation: str, actor: Actor, tasks: BackgroundTasks) -> dict[str, Any]:
    from tocsin.messages.escalations import acknowledge as ack

    with session_scope() as session:
        record = ack(session, _escalation_id(escalation), person=actor)
        data = escalation_dict(record)
        incident_id = record.incident_id
    wake_later(tasks, incident_id)
    return data
