"""The incident's doors: declare, assign and unassign a role, change status, close, replace facts, launch a
playbook, give a waiting run its inputs, finish a checklist task.

Each action takes the acting person and, in one transaction, asks the policy, changes the state and appends
the timeline event (a refusal is recorded too); after the commit it wakes the runs waiting on the incident.
The CLI, the JSON API, the console and Slack call these and nothing below them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tocsin.audit.timeline import append_event
from tocsin.core.acting import Actor, acting
from tocsin.core.errors import InvalidInput, NotFound
from tocsin.core.wakeup import Waker, wake_now
from tocsin.db.engine import session_scope
from tocsin.incidents import service
from tocsin.incidents.checklists import mark_done
from tocsin.incidents.declaring import build_declaration
from tocsin.incidents.facts import validate_facts
from tocsin.incidents.views import incident_dict
from tocsin.models import IncidentStatus
from tocsin.models.checklist import ChecklistItem
from tocsin.obligations.service import changes_dict, set_facts
from tocsin.people.authorize import Subject, authorize
from tocsin.people.directory import require_person
from tocsin.policy import Action


def _summary(session: Any, incident_id: int) -> dict[str, Any]:
    return incident_dict(service.get_incident(session, incident_id), service.roles_of(session, incident_id))


def declare(
    actor: Actor,
    *,
    title: str,
    kind: str = "breach",
    severity: str = "SEV2",
    aware_at: datetime | None = None,
    commander: str | None = None,
    facts: dict[str, Any] | None = None,
    facts_where: str = "facts",
    locale: str | None = None,
    timezone: str | None = None,
    playbook: str | None = None,
    inputs: dict[str, Any] | None = None,
    extra_event: tuple[str, dict[str, Any]] | None = None,
    waker: Waker = wake_now,
) -> dict[str, Any]:
    """Declare an incident (anyone may); with `playbook`, launch it at once as the declarer.

    Everything is checked before anything is written: the declaration, the playbook and its inputs.
    `extra_event` is a further timeline event of the declaration (Slack records where it came from)."""
    from tocsin.flows.launch import check_inputs  # the playbook loader: only when one is named

    declaration = build_declaration(
        actor=actor.handle,
        title=title,
        kind=kind,
        severity=severity,
        aware_at=aware_at,
        commander=commander,
        facts=facts,
        facts_where=facts_where,
        locale=locale,
        timezone=timezone,
    )
    if playbook:
        check_inputs(playbook, inputs or {}, actor=actor)
    with acting(actor), session_scope() as session:
        authorize(session, Action.declare, actor)
        incident = service.declare(session, declaration, actor=actor.handle)
        if extra_event is not None:
            append_event(session, incident, actor=actor.handle, action=extra_event[0], payload=extra_event[1])
        incident_id = incident.id or 0
        data = _summary(session, incident_id)
    if playbook:
        data["playbook_run"] = launch(actor, incident_id, playbook, inputs or {}, as_declarer=True)
    return data


def assign_role(
    actor: Actor,
    incident_id: int,
    role: str,
    person: str,
    *,
    expected_version: int | None = None,
    waker: Waker = wake_now,
) -> dict[str, Any]:
    with acting(actor), session_scope() as session:
        service.get_incident(session, incident_id, expected_version=expected_version)
        handle = require_person(session, person).handle
        authorize(session, Action.assign_role, actor, Subject(incident_id=incident_id, person=handle))
        service.assign(session, incident_id, role, handle, actor=actor.handle)
        data = _summary(session, incident_id)
    waker(incident_id)  # a run may be waiting for someone to hold this role
    return data


def unassign_role(
    actor: Actor, incident_id: int, role: str, person: str, *, expected_version: int | None = None
) -> dict[str, Any]:
    with acting(actor), session_scope() as session:
        service.get_incident(session, incident_id, expected_version=expected_version)
        handle = require_person(session, person).handle
        authorize(session, Action.unassign_role, actor, Subject(incident_id=incident_id, person=handle))
        service.unassign(session, incident_id, role, handle, actor=actor.handle)
        return _summary(session, incident_id)


def change_status(
    actor: Actor,
    incident_id: int,
    new_status: str,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    waker: Waker = wake_now,
) -> dict[str, Any]:
    """Move the incident along its lifecycle; closing is the `close` rule's."""
    target = service.parse_status(new_status)
    action = Action.close if target is IncidentStatus.closed else Action.change_status
    with acting(actor), session_scope() as session:
        service.get_incident(session, incident_id, expected_version=expected_version)
        authorize(session, action, actor, Subject(incident_id=incident_id))
        record = service.change_status(session, incident_id, target.value, actor=actor.handle, reason=reason)
        data = incident_dict(record)
    waker(incident_id)
    return data


def close(actor: Actor, incident_id: int, *, reason: str | None = None, waker: Waker = wake_now) -> dict[str, Any]:
    return change_status(actor, incident_id, IncidentStatus.closed.value, reason=reason, waker=waker)


def replace_facts(
    actor: Actor, incident_id: int, document: dict[str, Any], *, where: str = "facts", waker: Waker = wake_now
) -> dict[str, Any]:
    """Replace the facts document (validated like `tocsin obligations`) and recompute the obligations."""
    with acting(actor), session_scope() as session:
        incident = service.get_incident(session, incident_id)
        authorize(session, Action.replace_facts, actor, Subject(incident_id=incident_id))
        validate_facts(document, where=where)
        if incident.status == IncidentStatus.closed.value:
            raise InvalidInput(f"{incident.ref} is closed; its facts can no longer change")
        changes = changes_dict(set_facts(session, incident, document, actor=actor.handle))
    waker(incident_id)
    return changes


def launch(
    actor: Actor,
    incident_id: int,
    playbook: str,
    inputs: dict[str, Any],
    *,
    as_declarer: bool = False,
    wait: bool = False,
) -> dict[str, Any]:
    """Launch a playbook: record the run, run its urgent steps now, hand the rest to Prefect."""
    from tocsin.flows.launch import launch_and_start  # Prefect and the step handlers: only for a launch

    return launch_and_start(incident_id, playbook, inputs, actor, wait=wait, as_declarer=as_declarer)


def playbook_input(actor: Actor, run_id: int, values: dict[str, Any], *, waker: Waker = wake_now) -> int:
    """Give a run inputs it asks for (validated against its playbook); returns the incident id."""
    from tocsin.flows.launch import set_inputs  # the flows load every step handler: only when a run is touched

    incident_id = set_inputs(run_id, values, actor=actor)
    waker(incident_id)
    return incident_id


def task_done(actor: Actor, item_id: int, *, waker: Waker = wake_now) -> dict[str, Any]:
    with acting(actor), session_scope() as session:
        item = session.get(ChecklistItem, item_id)
        if item is None:
            raise NotFound(f"no checklist task {item_id}")
        authorize(session, Action.task_done, actor, Subject(incident_id=item.incident_id, task=item))
        done = mark_done(session, item_id, person=actor.handle)
        data = {"task": done.id, "incident": f"INC-{done.incident_id}", "title": done.title, "done_by": done.done_by}
        incident_id = done.incident_id
    waker(incident_id)
    return data
