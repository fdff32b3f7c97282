"""`/api/incidents`: list, declare, show, status, close, roles, facts, the obligations' countdown, the timeline
and clock events. Reads call the services; every change calls its action (`tocsin.incidents.actions`,
`tocsin.obligations.actions`), which asks the role policy, records and wakes waiting runs after the response."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Query
from tocsin.models import IncidentKind
from tocsin.playbooks.loader import get_built_in
from tocsin.web.auth import Caller
from tocsin.web.background import later
from tocsin.web.schemas import ClockEventBody, CloseBody, DeclareBody, RoleBody, StatusBody, utc

from tocsin.audit.timeline import timeline as events_of
from tocsin.core.clocks import iso_utc, utcnow
from tocsin.core.ids import parse_incident_id
from tocsin.db.engine import session_scope
from tocsin.incidents import actions
from tocsin.incidents.lifecycle import parse_status
from tocsin.incidents.service import get_incident, parse_choice, roles_by_incident, roles_of
from tocsin.incidents.service import list_incidents as query
from tocsin.incidents.views import event_dict, incident_dict
from tocsin.obligations import actions as obligation_actions
from tocsin.obligations.countdown import clock_rows
from tocsin.obligations.service import obligations_of

router = APIRouter(prefix="/api/incidents", tags=["incidents"])


@router.get("", summary="List incidents, newest first")
def list_incidents(
    _caller: Caller,
    status: str | None = Query(None, description="Only this status."),
    kind: str | None = Query(None, description="Only breach or crisis."),
    open_only: bool = Query(False, alias="open", description="Only incidents that are not closed."),
) -> list[dict[str, Any]]:
    status_filter = parse_status(status) if status else None
    kind_filter = parse_choice(IncidentKind, kind.strip().lower(), "kind") if kind else None
    with session_scope() as session:
        found = query(session, status=status_filter, kind=kind_filter, open_only=open_only)
        roles = roles_by_incident(session, [i.id or 0 for i in found])
        return [incident_dict(i, roles[i.id or 0]) for i in found]


@router.post("", status_code=201, summary="Declare an incident (anyone); with `playbook`, launch it as the declarer")
def declare(body: DeclareBody, caller: Caller, tasks: BackgroundTasks) -> dict[str, Any]:
    playbook = None
    if body.playbook:
        playbook = get_built_in(body.playbook.strip()).name  # a name, never a path on the server
    return actions.declare(
        caller,
        title=body.title,
        kind=body.kind,
        severity=body.severity,
        aware_at=utc(body.aware_at),
        commander=body.commander,
        facts=body.facts,
        facts_where="body.facts",
        locale=body.locale,
        timezone=body.timezone,
        playbook=playbook,
        inputs=body.inputs,
        waker=later(tasks),
    )


@router.get("/{incident}", summary="An incident's summary and its people")
def show(incident: str, _caller: Caller) -> dict[str, Any]:
    incident_id = parse_incident_id(incident)
    with session_scope() as session:
        return incident_dict(get_incident(session, incident_id), roles_of(session, incident_id))


@router.get("/{incident}/timeline", summary="The incident's hash-chained timeline, oldest first")
def timeline(incident: str, _caller: Caller) -> list[dict[str, Any]]:
    incident_id = parse_incident_id(incident)
    with session_scope() as session:
        get_incident(session, incident_id)
        return [event_dict(e) for e in events_of(session, incident_id)]


@router.post("/{incident}/status", summary="Move the incident to its next status (commander or admin)")
def change_status(incident: str, body: StatusBody, caller: Caller, tasks: BackgroundTasks) -> dict[str, Any]:
    return actions.change_status(
        caller, parse_incident_id(incident), body.status, reason=body.reason, expected_version=body.if_version,
        waker=later(tasks),
    )  # fmt: skip


@router.post("/{incident}/close", summary="Close the incident (commander or admin)")
def close(incident: str, body: CloseBody, caller: Caller, tasks: BackgroundTasks) -> dict[str, Any]:
    return actions.close(caller, parse_incident_id(incident), reason=body.reason, waker=later(tasks))


@router.post(
    "/{incident}/roles", status_code=201, summary="Give a person a role (commander or admin; never to oneself)"
)
def assign(incident: str, body: RoleBody, caller: Caller, tasks: BackgroundTasks) -> dict[str, Any]:
    return actions.assign_role(
        caller, parse_incident_id(incident), body.role, body.person, expected_version=body.if_version,
        waker=later(tasks),
    )  # fmt: skip


@router.delete("/{incident}/roles/{role}/{person}", summary="Take a role from a person (commander or admin)")
def unassign(
    incident: str,
    role: str,
    person: str,
    caller: Caller,
    if_version: int | None = Query(None, description="Refuse unless the incident is still at this version."),
) -> dict[str, Any]:
    return actions.unassign_role(caller, parse_incident_id(incident), role, person, expected_version=if_version)


@router.put("/{incident}/facts", summary="Replace the facts document and recompute the obligations")
def replace_facts(incident: str, document: dict[str, Any], caller: Caller, tasks: BackgroundTasks) -> dict[str, Any]:
    return actions.replace_facts(caller, parse_incident_id(incident), document, where="body", waker=later(tasks))


@router.get("/{incident}/clock", summary="The live countdown of every obligation")
def clock(
    incident: str, _caller: Caller, withdrawn: bool = Query(False, description="Also obligations no longer owed.")
) -> dict[str, Any]:
    incident_id = parse_incident_id(incident)
    now = utcnow()
    with session_scope() as session:
        record = get_incident(session, incident_id)
        rows = clock_rows(obligations_of(session, incident_id, include_withdrawn=withdrawn), now)
        return {"incident": record.ref, "now": iso_utc(now), "obligations": rows}


@router.post("/{incident}/events", summary="Record a clock event or a submission (commander, legal or DPO)")
def record_event(incident: str, body: ClockEventBody, caller: Caller, tasks: BackgroundTasks) -> dict[str, Any]:
    incident_id = parse_incident_id(incident)
    when = utc(body.at)
    if body.submitted:
        return obligation_actions.record_submission(
            caller, incident_id, body.submitted, at=when, note=body.note, waker=later(tasks)
        )
    return obligation_actions.record_event(
        caller, incident_id, body.event or "", at=when, note=body.note, waker=later(tasks)
    )
