"""The incident service: every change to an incident goes through here (CLI, web and Slack alike).

Each change is validated first, then written together with its audit event in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import iso_utc, to_utc, utcnow, zone
from tocsin.core.errors import Conflict, InvalidInput, NotFound
from tocsin.incidents.lifecycle import check_transition, parse_status
from tocsin.models import Incident, IncidentKind, IncidentRole, IncidentStatus, Person, Role, Severity
from tocsin.obligations.service import recompute
from tocsin.people.directory import ensure_person, require_person


def parse_choice(enum: type, value: str, what: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidInput(f"unknown {what} {value!r}; one of: {allowed}") from None


@dataclass(frozen=True)
class Declaration:
    kind: IncidentKind
    title: str
    severity: Severity
    aware_at: datetime
    commander: str
    facts: dict[str, Any]
    locale: str = "en"
    timezone: str = "UTC"


def validate_declaration(declaration: Declaration, now: datetime) -> None:
    title = declaration.title.strip()
    if not title:
        raise InvalidInput("title is empty")
    if len(title) > 200:
        raise InvalidInput(f"title is {len(title)} characters long; at most 200")
    aware_at = to_utc(declaration.aware_at)
    if aware_at > now:
        raise InvalidInput(
            f"aware-at {iso_utc(aware_at)} is in the future (now is {iso_utc(now)}); "
            "give the moment the organisation became aware"
        )
    zone(declaration.timezone)


def declare(session: Session, declaration: Declaration, *, actor: str) -> Incident:
    now = utcnow()
    validate_declaration(declaration, now)
    incident = Incident(
        kind=declaration.kind.value,
        title=declaration.title.strip(),
        severity=declaration.severity.value,
        status=IncidentStatus.declared.value,
        aware_at=to_utc(declaration.aware_at),
        declared_at=now,
        updated_at=now,
        facts=declaration.facts,
        locale=declaration.locale,
        timezone=declaration.timezone,
    )
    session.add(incident)
    session.flush()
    append_event(
        session,
        incident,
        actor=actor,
        action="incident.declared",
        payload={
            "kind": incident.kind,
            "title": incident.title,
            "severity": incident.severity,
            "aware_at": iso_utc(incident.aware_at),
            "facts": incident.facts,
        },
    )
    # The declarer may name themselves before anyone entered them in the directory (the local operator on a
    # fresh install); anyone else named commander must already be there.
    if declaration.commander == actor:
        commander, created = ensure_person(session, declaration.commander)
    else:
        commander, created = require_person(session, declaration.commander), False
    _add_role(session, incident, Role.commander, commander, actor=actor, new_person=created)

    if declaration.facts:
        recompute(session, incident, actor=actor)
    return incident


def get_incident(session: Session, incident_id: int, *, expected_version: int | None = None) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident INC-{incident_id}")
    if expected_version is not None and incident.version != expected_version:
        raise Conflict(
            f"INC-{incident_id} is at version {incident.version}, not {expected_version}: "
            "someone else changed it; reload and try again"
        )
    return incident


def list_incidents(
    session: Session,
    *,
    status: IncidentStatus | None = None,
    kind: IncidentKind | None = None,
    open_only: bool = False,
) -> list[Incident]:
    statement = select(Incident).order_by(col(Incident.id).desc())
    if status is not None:
        statement = statement.where(Incident.status == status.value)
    if kind is not None:
        statement = statement.where(Incident.kind == kind.value)
    if open_only:
        statement = statement.where(Incident.status != IncidentStatus.closed.value)
    return list(session.exec(statement))


def change_status(
    session: Session,
    incident_id: int,
    new_status: str,
    *,
    actor: str,
    reason: str | None = None,
    expected_version: int | None = None,
) -> Incident:
    """Move the incident to `new_status` (who may is the action's question: `tocsin.incidents.actions`)."""
    incident = get_incident(session, incident_id, expected_version=expected_version)
    target = parse_status(new_status)
    check_transition(incident.status, target)
    previous = incident.status
    incident.status = target.value
    if target is IncidentStatus.closed:
        incident.closed_at = utcnow()
    append_event(
        session,
        incident,
        actor=actor,
        action="incident.status_changed",
        payload={"from": previous, "to": target.value, "reason": reason},
    )
    return incident


def assign(
    session: Session,
    incident_id: int,
    role: str,
    person: str,
    *,
    actor: str,
    expected_version: int | None = None,
) -> IncidentRole:
    """Give a person in the directory a role (an unknown handle is refused, never created)."""
    incident = get_incident(session, incident_id, expected_version=expected_version)
    if incident.status == IncidentStatus.closed.value:
        raise InvalidInput(f"INC-{incident_id} is closed; roles can no longer change")
    return _add_role(session, incident, parse_role(role), require_person(session, person), actor=actor)


def unassign(
    session: Session, incident_id: int, role: str, person: str, *, actor: str, expected_version: int | None = None
) -> None:
    """Take a role away. The last commander stays until another is assigned: an incident always has one."""
    incident = get_incident(session, incident_id, expected_version=expected_version)
    if incident.status == IncidentStatus.closed.value:
        raise InvalidInput(f"INC-{incident_id} is closed; roles can no longer change")
    held = parse_role(role)
    holder = require_person(session, person)
    assignment = session.exec(
        select(IncidentRole).where(
            IncidentRole.incident_id == incident_id,
            IncidentRole.person_id == holder.id,
            IncidentRole.role == held.value,
        )
    ).first()
    if assignment is None:
        raise InvalidInput(f"{holder.handle} is not {held.value} on INC-{incident_id}")
    if held is Role.commander and len(people_with_role(session, incident_id, Role.commander)) == 1:
        raise InvalidInput(
            f"{holder.handle} is the only commander of INC-{incident_id}; assign another commander first"
        )
    session.delete(assignment)
    append_event(
        session, incident, actor=actor, action="role.unassigned", payload={"role": held.value, "person": holder.handle}
    )


def parse_role(role: str) -> Role:
    return parse_choice(Role, role.strip().lower(), "role")


def _add_role(
    session: Session, incident: Incident, role: Role, person: Person, *, actor: str, new_person: bool = False
) -> IncidentRole:
    existing = session.exec(
        select(IncidentRole).where(
            IncidentRole.incident_id == incident.id,
            IncidentRole.person_id == person.id,
            IncidentRole.role == role.value,
        )
    ).first()
    if existing is not None:
        raise InvalidInput(f"{person.handle} is already {role.value} on INC-{incident.id}")
    assert incident.id is not None and person.id is not None
    assignment = IncidentRole(
        incident_id=incident.id,
        person_id=person.id,
        role=role.value,
        assigned_at=utcnow(),
        assigned_by=actor,
    )
    session.add(assignment)
    payload = {"role": role.value, "person": person.handle, "new_person": new_person}
    append_event(session, incident, actor=actor, action="role.assigned", payload=payload)
    return assignment


def roles_of(session: Session, incident_id: int) -> list[tuple[str, Person]]:
    rows = session.exec(
        select(IncidentRole, Person)
        .join(Person, col(Person.id) == IncidentRole.person_id)
        .where(IncidentRole.incident_id == incident_id)
        .order_by(col(IncidentRole.id))
    )
    return [(assignment.role, person) for assignment, person in rows]


def roles_by_incident(session: Session, incident_ids: list[int]) -> dict[int, list[tuple[str, Person]]]:
    """Roles of many incidents in one query (for lists)."""
    grouped: dict[int, list[tuple[str, Person]]] = {i: [] for i in incident_ids}
    if not incident_ids:
        return grouped
    rows = session.exec(
        select(IncidentRole, Person)
        .join(Person, col(Person.id) == IncidentRole.person_id)
        .where(col(IncidentRole.incident_id).in_(incident_ids))
        .order_by(col(IncidentRole.id))
    )
    for assignment, person in rows:
        grouped[assignment.incident_id].append((assignment.role, person))
    return grouped


def people_with_role(session: Session, incident_id: int, role: Role) -> list[Person]:
    return [person for held, person in roles_of(session, incident_id) if held == role.value]


def commander_of(session: Session, incident_id: int) -> str | None:
    commanders = people_with_role(session, incident_id, Role.commander)
    return commanders[0].handle if commanders else None
