"""The clock's doors: record a clock event, record a submission. Both start and stop regulators' deadlines, so
they are the commander's, legal's or the DPO's word (see `tocsin.policy`); after the commit the runs waiting
on the incident (a `wait_until` event, a chained report) are woken."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tocsin.core.acting import Actor, acting
from tocsin.core.clocks import iso_utc, utcnow
from tocsin.core.errors import InvalidInput
from tocsin.core.wakeup import Waker, wake_now
from tocsin.db.engine import session_scope
from tocsin.incidents.service import get_incident
from tocsin.models import IncidentStatus
from tocsin.obligations import service
from tocsin.people.authorize import Subject, authorize
from tocsin.policy import Action


def record_event(
    actor: Actor,
    incident_id: int,
    name: str,
    *,
    at: datetime | None = None,
    note: str | None = None,
    waker: Waker = wake_now,
) -> dict[str, Any]:
    """A clock event (e.g. `materiality_determined`); `submitted:<rule>` is a submission (its own rule)."""
    name = name.strip()
    if name.startswith(service.SUBMITTED):
        return record_submission(
            actor, incident_id, name.removeprefix(service.SUBMITTED), at=at, note=note, waker=waker
        )
    when = at or utcnow()
    with acting(actor), session_scope() as session:
        incident = get_incident(session, incident_id)
        authorize(session, Action.record_event, actor, Subject(incident_id=incident_id))
        _refuse_closed(incident)
        changes = service.record_event(session, incident, name, when, actor=actor.handle, note=note)
    waker(incident_id)
    return {"event": name, "at": iso_utc(when), **service.changes_dict(changes)}


def record_submission(
    actor: Actor,
    incident_id: int,
    rule: str,
    *,
    at: datetime | None = None,
    note: str | None = None,
    waker: Waker = wake_now,
) -> dict[str, Any]:
    """The notification an obligation asks for went out (starts any report chained to it, stops reminders)."""
    when = at or utcnow()
    with acting(actor), session_scope() as session:
        incident = get_incident(session, incident_id)
        authorize(session, Action.record_submission, actor, Subject(incident_id=incident_id))
        _refuse_closed(incident)
        changes = service.record_submission(session, incident, rule, when, actor=actor.handle, note=note)
    waker(incident_id)
    return {"event": f"{service.SUBMITTED}{rule.strip()}", "at": iso_utc(when), **service.changes_dict(changes)}


def _refuse_closed(incident: Any) -> None:
    if incident.status == IncidentStatus.closed.value:
        raise InvalidInput(f"{incident.ref} is closed; its clock no longer runs")
