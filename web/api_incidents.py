"""`/api/incidents`: list, declare, show, status, roles, facts, the obligations' countdown, the timeline
and clock events. Each route is the CLI command of the same name over HTTP, calling the same services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Query
from tocsin.web.auth import Actor
from tocsin.web.background import wake_later
from tocsin.web.schemas import ClockEventBody, DeclareBody, RoleBody, StatusBody, utc

from tocsin.core.clocks import iso_utc, utcnow
from tocsin.db.engine import session_scope

router = APIRouter(prefix="/api/incidents", tags=["incidents"])


def _incident_id(incident: str) -> int:
    from tocsin.incidents.service import parse_incident_id

    return parse_incident_id(incident)


@router.get("", summary="List incidents, newest first")
def list_incidents(
    _actor: Actor,
    status: str | None = Query(None, description="Only this status."),
    kind: str | None = Query(None, description="Only breach or crisis."),
    open_only: bool = Query(False, alias="open", description="Only incidents that are not closed."),
) -> list[dict[str, Any]]:
    from tocsin.models import IncidentKind

    from tocsin.incidents.lifecycle import parse_status
    from tocsin.incidents.service import list_incidents as query
    from tocsin.incidents.service import parse_choice, roles_by_incident
    from tocsin.incidents.views import incident_dict

    status_filter = parse_status(status) if status else None
    kind_filter = parse_choice(IncidentKind, kind.strip().lower(), "kind") if kind else None
    with session_scope() as session:
        found = query(session, status=status_filter, kind=kind_filter, open_only=open_only)
        roles = roles_by_incident(session, [i.id or 0 for i in found])
        return [incident_dict(i, roles[i.id or 0]) for i in found]


@router.post("", status_code=201, summary="Declare an incident")
def declare(body: DeclareBody, actor: Actor) -> dict[str, Any]:
    from tocsin.incidents.declaring import build_declaration
    from tocsin.incidents.service import declare as declare_incident
    from tocsin.incidents.service import roles_of
    from tocsin.incidents.views import incident_dict

    declaration = build_declaration(
        actor=actor,
        title=body.title,
        kind=body.kind,
        severity=body.severity,
        aware_at=utc(body.aware_at),
        commander=body.commander,
        facts=body.facts,
        facts_where="body.facts",
        locale=body.locale,
        timezone=body.timezone,
    )
    with session_scope() as session:
        incident = declare_incident(session, declaration, actor=actor)
        return incident_dict(incident, roles_of(session, incident.id or 0))


@router.get("/{incident}", summary="An incident's summary and its people")
def show(incident: str, _actor: Actor) -> dict[str, Any]:
    from tocsin.incidents.service import get_incident, roles_of
    from tocsin.incidents.views import incident_dict

    incident_id = _incident_id(incident)
    with session_scope() as session:
        return incident_dict(get_incident(session, incident_id), roles_of(session, incident_id))


@router.get("/{incident}/timeline", summary="The incident's hash-chained timeline, oldest first")
def timeline(incident: str, _actor: Actor) -> list[dict[str, Any]]:
    from tocsin.audit.timeline import timeline as events_of
    from tocsin.incidents.service import get_incident
    from tocsin.incidents.views import event_dict

    incident_id = _incident_id(incident)
    with session_scope() as session:
        get_incident(session, incident_id)
        return [event_dict(e) for e in events_of(session, incident_id)]


@router.post("/{incident}/status", summary="Move the incident to its next status (legal transitions only)")
def change_status(incident: str, body: StatusBody, actor: Actor) -> dict[str, Any]:
    from tocsin.incidents.service import change_status as move
    from tocsin.incidents.views import incident_dict

    with session_scope() as session:
        record = move(
            session, _incident_id(incident), body.status, actor=actor, reason=body.reason,
            expected_version=body.if_version,
        )  # fmt: skip
        return incident_dict(record)


@router.post("/{incident}/roles", status_code=201, summary="Give a person a role on the incident")
def assign(incident: str, body: RoleBody, actor: Actor, tasks: BackgroundTasks) -> dict[str, Any]:
    from tocsin.incidents.service import assign as assign_role
    from tocsin.incidents.service import get_incident, roles_of
    from tocsin.incidents.views import incident_dict

    incident_id = _incident_id(incident)
    with session_scope() as session:
        assign_role(session, incident_id, body.role, body.person, actor=actor, expected_version=body.if_version)
        data = incident_dict(get_incident(session, incident_id), roles_of(session, incident_id))
    wake_later(tasks, incident_id)  # a playbook may be waiting for someone to hold this role
    return data


@router.put("/{incident}/facts", summary="Replace the facts document and recompute the obligations")
def replace_facts(incident: str, document: dict[str, Any], actor: Actor, tasks: BackgroundTasks) -> dict[str, Any]:
    from tocsin.incidents.facts import validate_facts
    from tocsin.incidents.service import get_incident
    from tocsin.obligations.service import set_facts

    incident_id = _incident_id(incident)
    validate_facts(document, where="body")
    with session_scope() as session:
        changes = set_facts(session, get_incident(session, incident_id), document, actor=actor)
    wake_later(tasks, incident_id)
    return {"added": changes.added, "changed": changes.changed, "withdrawn": changes.withdrawn}


@router.get("/{incident}/clock", summary="The live countdown of every obligation")
def clock(
    incident: str, _actor: Actor, withdrawn: bool = Query(False, description="Also obligations no longer owed.")
) -> dict[str, Any]:
    from tocsin.incidents.service import get_incident
    from tocsin.obligations.countdown import clock_rows
    from tocsin.obligations.service import obligations_of

    incident_id = _incident_id(incident)
    now = utcnow()
    with session_scope() as session:
        record = get_incident(session, incident_id)
        rows = clock_rows(obligations_of(session, incident_id, include_withdrawn=withdrawn), now)
        return {"incident": record.ref, "now": iso_utc(now), "obligations": rows}


@router.post("/{incident}/events", summary="Record a clock event or a submission, and recompute the obligations")
def record_event(incident: str, body: ClockEventBody, actor: Actor, tasks: BackgroundTasks) -> dict[str, Any]:
    from tocsin.incidents.service import get_incident
    from tocsin.obligations.service import SUBMITTED, record_submission
    from tocsin.obligations.service import record_event as record

    incident_id = _incident_id(incident)
    name = f"{SUBMITTED}{body.submitted.strip()}" if body.submitted else (body.event or "").strip()
    when = utc(body.at) or utcnow()
    with session_scope() as session:
        target = get_incident(session, incident_id)
        if body.submitted:
            changes = record_submission(session, target, body.submitted, when, actor=actor, note=body.note)
        else:
            changes = record(session, target, name, when, actor=actor, note=body.note)
    wake_later(tasks, incident_id)
    return {
        "event": name,
        "at": iso_utc(when),
        "added": changes.added,
        "changed": changes.changed,
        "withdrawn": changes.withdrawn,
    }
