"""Acknowledge-or-escalate chains: page the first person of a role, wait for an ack, then the next,
then everyone in the role. Chains come from configuration (`escalation_chains`: role → handles),
falling back to the people holding the role on the incident, in the order they were assigned.

A chain moves on when its ack timeout (`next_at`) passes: the scheduler's pass (`advance_due_escalations`)
moves every due chain, whether or not a playbook run waits on it (the run may have failed, or the page was
never a playbook's); a playbook's `escalate` step moves its own when its run wakes. Either may come first:
`advance` moves a chain by a conditional update, so each level is paged once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import iso_utc, utcnow
from tocsin.core.config import get_settings
from tocsin.core.errors import Conflict, InvalidInput, NotFound
from tocsin.db.engine import session_scope
from tocsin.incidents.service import get_incident, people_with_role
from tocsin.messages.queue import deliver_pending, queue_to_person
from tocsin.models import Incident, IncidentStatus
from tocsin.models.enums import EscalationStatus, Role
from tocsin.models.escalation import Escalation
from tocsin.people.directory import ensure_person

log = logging.getLogger("tocsin.messages.escalations")


def chain_levels(session: Session, incident_id: int, role: Role) -> list[list[str]]:
    """[[first], [second], ..., [everyone]]: configured chain first, then the role's holders."""
    holders = [p.handle for p in people_with_role(session, incident_id, role)]
    configured = list(get_settings().escalation_chains.get(role.value, []))
    order = configured + [h for h in holders if h not in configured]
    if not order:
        raise InvalidInput(f"nobody holds the {role.value} role on INC-{incident_id} and no chain is configured")
    everyone = sorted(set(order))
    levels = [[handle] for handle in order]
    if len(order) > 1:
        levels.append(everyone)
    return levels


def start_escalation(
    session: Session,
    incident_id: int,
    role: Role,
    *,
    subject: str,
    body: str,
    ack_timeout: timedelta,
    source: str | None = None,
) -> Escalation:
    incident = get_incident(session, incident_id)
    now = utcnow()
    escalation = Escalation(
        incident_id=incident_id,
        role=role.value,
        levels=chain_levels(session, incident_id, role),
        subject=subject,
        body=body,
        ack_timeout_minutes=ack_timeout.total_seconds() / 60,
        started_at=now,
        next_at=now + ack_timeout,
        source=source,
    )
    session.add(escalation)
    session.flush()
    _page(session, escalation)
    append_event(
        session,
        incident,
        actor="tocsin",
        action="escalation.started",
        payload={"escalation": escalation.id, "role": role.value, "paged": escalation.levels[0], "subject": subject},
    )
    return escalation


def _page(session: Session, escalation: Escalation) -> None:
    from tocsin.notifications import slack_blocks

    incident = get_incident(session, escalation.incident_id)
    # By Slack DM the page carries an Acknowledge button (answered by /slack/actions); by email, the command.
    layout = slack_blocks.escalation(
        incident_id=incident.ref,
        escalation_id=f"E-{escalation.id}",
        title=incident.title,
        severity=str(incident.severity),
        reason="\n".join(part for part in (escalation.subject, escalation.body) if part),
        step=escalation.level + 1,
        due=escalation.next_at,
    )
    for handle in escalation.levels[escalation.level]:
        person, _ = ensure_person(session, handle)
        queue_to_person(
            session,
            person,
            incident_id=escalation.incident_id,
            purpose="escalation",
            subject=escalation.subject,
            body=f"{escalation.body}\n\nAcknowledge: tocsin ack {escalation.id} --as {handle}",
            message_id=f"escalation:{escalation.id}:{escalation.level}:{handle}",
            blocks=layout.blocks,
        )


def advance(session: Session, escalation: Escalation) -> Escalation:
    """Called when the ack timeout has passed: page the next level, or mark the chain exhausted (`move_on`).
    Returns the chain as it now stands, whoever moved it."""
    move_on(session, escalation)
    return escalation


def move_on(session: Session, escalation: Escalation) -> bool:
    """Page the next level, or mark the chain exhausted, if its ack timeout (`next_at`) has passed; True when
    this call moved it.

    The move is a conditional update (still open, still at this level), so of two callers that both found the
    chain due (two scheduler passes, or a pass and the playbook run waiting on it) exactly one pages the next
    level; the other gets the chain as the first one left it (refreshed) and pages nobody."""
    now = utcnow()
    if escalation.status != EscalationStatus.open or escalation.next_at is None or escalation.next_at > now:
        return False
    exhausted = escalation.level + 1 >= len(escalation.levels)
    moved = session.execute(
        update(Escalation)
        .where(
            col(Escalation.id) == escalation.id,
            col(Escalation.status) == EscalationStatus.open.value,
            col(Escalation.level) == escalation.level,
        )
        .values(
            {"status": EscalationStatus.exhausted.value, "next_at": None}
            if exhausted
            else {"level": escalation.level + 1, "next_at": now + timedelta(minutes=escalation.ack_timeout_minutes)}
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(escalation)
    if moved.rowcount != 1:
        return False  # someone else moved it (or it was acknowledged) first
    incident = get_incident(session, escalation.incident_id)
    if not exhausted:
        _page(session, escalation)
        append_event(
            session,
            incident,
            actor="tocsin",
            action="escalation.escalated",
            payload={
                "escalation": escalation.id,
                "level": escalation.level,
                "paged": escalation.levels[escalation.level],
            },
        )
    else:
        append_event(
            session,
            incident,
            actor="tocsin",
            action="escalation.unacknowledged",
            payload={"escalation": escalation.id, "role": escalation.role},
        )
    return True


def acknowledge(session: Session, escalation_id: int, *, person: str) -> Escalation:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFound(f"no escalation {escalation_id}")
    if escalation.status == EscalationStatus.acked:
        raise InvalidInput(f"escalation {escalation_id} was already acknowledged by {escalation.acked_by}")
    escalation.status, escalation.acked_by = EscalationStatus.acked, person
    escalation.acked_at, escalation.next_at = utcnow(), None
    session.add(escalation)
    append_event(
        session,
        get_incident(session, escalation.incident_id),
        actor=person,
        action="escalation.acknowledged",
        payload={"escalation": escalation_id, "role": escalation.role, "after": iso_utc(escalation.started_at)},
    )
    return escalation


def open_escalations(session: Session, incident_id: int | None = None) -> list[Escalation]:
    statement = select(Escalation).where(Escalation.status == EscalationStatus.open.value).order_by(col(Escalation.id))
    if incident_id is not None:
        statement = statement.where(Escalation.incident_id == incident_id)
    return list(session.exec(statement))


def due_escalations(session: Session, now: datetime) -> list[Escalation]:
    """Open chains whose ack timeout has passed, on incidents that are not closed (nobody is paged for those)."""
    statement = (
        select(Escalation)
        .join(Incident, col(Incident.id) == Escalation.incident_id)
        .where(
            Escalation.status == EscalationStatus.open.value,
            col(Escalation.next_at).is_not(None),
            col(Escalation.next_at) <= now,
            Incident.status != IncidentStatus.closed.value,
        )
        .order_by(col(Escalation.id))
    )
    return list(session.exec(statement))


def advance_due_escalations() -> list[str]:
    """The scheduler's pass: move every due chain one level (or to exhausted), whether a playbook run waits on
    it or not, each in its own transaction (a chain moved here is committed before the next is read), then
    deliver the pages. Waiting runs are not woken here: their own wake-up (at the same `next_at`) finds the
    chain already moved and waits for the next level. Returns what was done, one line per chain."""
    with session_scope() as session:
        due = [e.id for e in due_escalations(session, utcnow()) if e.id is not None]
    done: list[str] = []
    for escalation_id in due:
        try:
            with session_scope() as session:
                escalation = session.get(Escalation, escalation_id)
                if escalation is not None and move_on(session, escalation):
                    level = escalation.level
                    paged = ", ".join(escalation.levels[level]) if escalation.status == EscalationStatus.open else "-"
                    done.append(f"E-{escalation_id}: {escalation.status} (level {level + 1}, paged {paged})")
        except Conflict:
            # The incident changed at the same moment (an ack, another writer): the next pass looks again.
            log.info("escalation %s changed concurrently; left for the next pass", escalation_id)
    if done:
        with session_scope() as session:
            deliver_pending(session)
        for line in done:
            log.info("escalation moved on: %s", line)
    return done


def escalation_dict(escalation: Escalation) -> dict[str, Any]:
    """One shape for `tocsin escalations --json`, the API and the console."""
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
