"""Checklist tasks assigned by playbooks: list them, mark them done (on the timeline)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import iso_utc, utcnow
from tocsin.core.errors import InvalidInput, NotFound
from tocsin.incidents.service import get_incident
from tocsin.models.checklist import ChecklistItem


def items_of(session: Session, incident_id: int) -> list[ChecklistItem]:
    statement = select(ChecklistItem).where(ChecklistItem.incident_id == incident_id)
    return list(session.exec(statement.order_by(col(ChecklistItem.id))))


def mark_done(session: Session, item_id: int, *, person: str) -> ChecklistItem:
    """Record the task done by `person`. Who may is the `task.done` rule's question (the task's role, or the
    commander), asked by the action (`tocsin.incidents.actions.task_done`) before this is called."""
    item = session.get(ChecklistItem, item_id)
    if item is None:
        raise NotFound(f"no checklist task {item_id}")
    if item.done_at is not None:
        raise InvalidInput(f"task {item_id} was already done by {item.done_by} at {iso_utc(item.done_at)}")
    now = utcnow()
    item.done_at, item.done_by = now, person
    session.add(item)
    append_event(
        session,
        get_incident(session, item.incident_id),
        actor=person,
        action="checklist.done",
        payload={
            "task": item_id,
            "title": item.title,
            "role": item.role,
            "due": iso_utc(item.due_at),
            "late": bool(item.due_at and now > item.due_at),
        },
    )
    return item
