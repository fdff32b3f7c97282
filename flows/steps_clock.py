"""Step handlers for the clock and the incident's state: compute_obligations, set_status, wait_until,
checklist."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from tocsin.flows.step_types import Outcome, StepContext, handles
from tocsin.models import IncidentStatus, Role
from tocsin.models.checklist import ChecklistItem
from tocsin.playbooks.logic import resolve
from tocsin.playbooks.schema import ChecklistStep, SetStatusStep, Timing, WaitUntilStep

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import iso_utc, local_display
from tocsin.incidents.lifecycle import TRANSITIONS
from tocsin.incidents.service import change_status, people_with_role
from tocsin.messages.queue import queue_to_person
from tocsin.obligations.service import obligations_of, recompute


def deadlines(context: StepContext) -> dict[str, datetime | None]:
    found: dict[str, datetime | None] = {}
    for obligation in obligations_of(context.session, context.incident.id or 0):
        found.setdefault(obligation.rule, obligation.deadline_at)
    return found


def when(context: StepContext, timing: Timing) -> datetime | None:
    return resolve(
        timing,
        aware_at=context.incident.aware_at,
        declared_at=context.incident.declared_at,
        deadlines=deadlines(context),
    )


@handles("compute_obligations")
def compute_obligations(context: StepContext, _step: object) -> Outcome:
    changes = recompute(context.session, context.incident, actor="playbook")
    owed = obligations_of(context.session, context.incident.id or 0)
    fixed = [o for o in owed if o.deadline_at is not None and o.submitted_at is None]
    earliest = min(fixed, key=lambda o: o.deadline_at) if fixed else None  # type: ignore[arg-type,return-value]
    note = f"{len(owed)} obligation(s)"
    if earliest is not None and earliest.deadline_at is not None:
        note += f"; earliest {earliest.rule} by {iso_utc(earliest.deadline_at)}"
    return Outcome.done(note, owed=[o.rule for o in owed], added=changes.added)


@handles("set_status")
def set_status(context: StepContext, step: SetStatusStep) -> Outcome:
    current = IncidentStatus(context.incident.status)
    if current == step.status:
        return Outcome.skipped(f"already {step.status.value}")
    if step.status not in TRANSITIONS[current]:
        return Outcome.skipped(f"{current.value} → {step.status.value} is not a legal transition here")
    change_status(
        context.session,
        context.incident.id or 0,
        step.status.value,
        actor="playbook",
        reason=f"playbook {context.run.playbook}, step {step.id}",
    )  # not a person's request: the playbook's launcher (commander or admin) chose this step
    return Outcome.done(f"status {step.status.value}")


@handles("wait_until")
def wait_until(context: StepContext, step: WaitUntilStep) -> Outcome:
    if step.event is not None:
        happened = ((context.incident.facts or {}).get("events") or {}).get(step.event)
        if happened:
            return Outcome.done(f"{step.event} at {happened}")
        return Outcome.waiting(f"waiting for the event {step.event} (record it with `tocsin event`)")
    assert step.at is not None
    target = when(context, step.at)
    if target is None:
        return Outcome.waiting("waiting for the deadline it counts from to be fixed")
    if context.now >= target:
        return Outcome.done(f"reached {iso_utc(target)}")
    return Outcome.waiting(f"until {iso_utc(target)}", wake_at=target)


@handles("checklist")
def checklist(context: StepContext, step: ChecklistStep) -> Outcome:
    session, incident = context.session, context.incident
    existing = {i.number for i in session.exec(select(ChecklistItem).where(ChecklistItem.source == context.key))}
    zone = incident.timezone or "UTC"
    for number, task in enumerate(step.tasks, start=1):
        if number in existing:
            continue
        due = when(context, task.due) if task.due else None
        item = ChecklistItem(
            incident_id=incident.id or 0,
            source=context.key,
            number=number,
            title=task.title,
            role=task.role.value,
            due_at=due,
        )
        session.add(item)
        session.flush()
        for person in people_with_role(session, incident.id or 0, Role(task.role)):
            due_text = f" by {local_display(due, zone)}" if due else ""
            queue_to_person(
                session,
                person,
                incident_id=incident.id,
                purpose="task",
                subject=f"[{incident.ref}] Task for {task.role.value}: {task.title}{due_text}",
                body=f"{step.title or step.id}\n\n{task.title}{due_text}\nMark it done: tocsin task done {item.id}",
                message_id=f"task:{context.key}:{number}:{person.handle}",
            )
    append_event(
        session,
        incident,
        actor="playbook",
        action="checklist.assigned",
        payload={"step": step.id, "tasks": [{"title": t.title, "role": t.role.value} for t in step.tasks]},
    )
    return Outcome.done(f"{len(step.tasks)} task(s) assigned", checklist=context.key)
