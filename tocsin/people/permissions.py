"""Who may steer an incident: only its commander or an admin launches a playbook on it or closes it.

One check for every entry point (CLI, JSON API, web console, Slack): the services call it. A refused
attempt is committed to the incident's timeline on its own, then Forbidden is raised. Tocsin's own
steps (a playbook step changing the status, a Prefect deployment launching a playbook) pass
`system=True` to the services and are not checked here.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.errors import Forbidden
from tocsin.incidents.service import get_incident, people_with_role
from tocsin.models import AuditEvent, Role
from tocsin.people.passwords import is_admin


def declared_by(session: Session, incident_id: int) -> str | None:
    statement = (
        select(AuditEvent.actor)
        .where(AuditEvent.incident_id == incident_id, AuditEvent.action == "incident.declared")
        .order_by(col(AuditEvent.id))
        .limit(1)
    )
    return session.exec(statement).first()


def may_steer(session: Session, incident_id: int, actor: str) -> bool:
    """True for the incident's commander and for admins."""
    commanders = {p.handle for p in people_with_role(session, incident_id, Role.commander)}
    return actor in commanders or is_admin(session, actor)


def refuse(session: Session, incident_id: int, *, actor: str, action: str, payload: dict[str, Any]) -> Forbidden:
    """Commit the refused attempt to the timeline on its own (the caller's transaction is rolled back
    first: it is failing anyway), and return the Forbidden to raise."""
    session.rollback()
    append_event(session, get_incident(session, incident_id), actor=actor, action=action, payload=payload)
    session.commit()
    return Forbidden(str(payload["reason"]))


def _reason(session: Session, incident_id: int, actor: str, what: str) -> str:
    commanders = ", ".join(sorted(p.handle for p in people_with_role(session, incident_id, Role.commander)))
    return (
        f"{actor} is neither the commander of INC-{incident_id} ({commanders or 'nobody yet'}) nor an admin "
        f"and cannot {what}"
    )


def authorize_launch(
    session: Session, incident_id: int, *, actor: str, playbook: str, as_declarer: bool = False
) -> None:
    """The commander or an admin launches; with `as_declarer`, also the person who declared the incident,
    while no playbook has been launched on it yet (`tocsin declare --playbook`)."""
    if may_steer(session, incident_id, actor):
        return
    first_launch = get_incident(session, incident_id).playbook is None
    if as_declarer and first_launch and declared_by(session, incident_id) == actor:
        return
    reason = _reason(session, incident_id, actor, f"launch the playbook {playbook} on it")
    raise refuse(
        session,
        incident_id,
        actor=actor,
        action="playbook.launch_refused",
        payload={"playbook": playbook, "reason": reason},
    )


def authorize_close(session: Session, incident_id: int, *, actor: str) -> None:
    if may_steer(session, incident_id, actor):
        return
    reason = _reason(session, incident_id, actor, "close it")
    raise refuse(session, incident_id, actor=actor, action="incident.close_refused", payload={"reason": reason})
