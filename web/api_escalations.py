"""`/api/.../escalations`: who is paged now, and acknowledging a page (which stops the chain; only a person the
page reached may: `tocsin.messages.actions.acknowledge`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks
from tocsin.web.auth import Caller
from tocsin.web.background import later

from tocsin.core.ids import parse_escalation_id, parse_incident_id
from tocsin.db.engine import session_scope
from tocsin.incidents.service import get_incident
from tocsin.messages import actions
from tocsin.messages.escalations import escalation_dict
from tocsin.messages.escalations import open_escalations as query

router = APIRouter(prefix="/api", tags=["escalations"])


@router.get("/incidents/{incident}/escalations", summary="Open escalations of an incident")
def open_escalations(incident: str, _caller: Caller) -> list[dict[str, Any]]:
    incident_id = parse_incident_id(incident)
    with session_scope() as session:
        get_incident(session, incident_id)
        return [escalation_dict(e) for e in query(session, incident_id)]


@router.post("/escalations/{escalation}/ack", summary="Acknowledge a page as the caller (a person it reached)")
def acknowledge(escalation: str, caller: Caller, tasks: BackgroundTasks) -> dict[str, Any]:
    return actions.acknowledge(caller, parse_escalation_id(escalation), waker=later(tasks))
