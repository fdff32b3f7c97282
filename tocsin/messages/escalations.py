"""Acknowledge-or-escalate chains: page the first person of a role, wait for an ack, then the next,
then everyone in the role. Chains come from configuration (`escalation_chains`: role → handles),
falling back to the people holding the role on the incident, in the order they were assigned.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import iso_utc, utcnow
from tocsin.core.config import get_settings
from tocsin.core.errors import InvalidInput, NotFound
from tocsin.incidents.service import get_incident, people_with_role
from tocsin.messages.queue import queue_to_person
from tocsin.models.enums import Role
from tocsin.models.escalation import Escalation
from tocsin.people.directory import ensure_person


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
    """Called when the ack timeout has passed: page the next level, or mark the chain exhausted."""
    now = utcnow()
    if escalation.status != "open" or escalation.next_at is None or escalation.next_at > now:
        return escalation
    incident = get_incident(session, escalation.incident_id)
    if escalation.level + 1 < len(escalation.levels):
        escalation.level += 1
        escalation.next_at = now + timedelta(minutes=escalation.ack_timeout_minutes)
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
        escalation.status, escalation.next_at = "exhausted", None
        append_event(
            session,
            incident,
            actor="tocsin",
            action="escalation.unacknowledged",
            payload={"escalation": escalation.id, "role": escalation.role},
        )
    session.add(escalation)
    return escalation


def may_acknowledge(session: Session, escalation: Escalation, person: str) -> bool:
    """Anyone paged so far, or anyone holding the paged role on the incident."""
    paged = {h for level in escalation.levels[: escalation.level + 1] for h in level}
    holders = {p.handle for p in people_with_role(session, escalation.incident_id, Role(escalation.role))}
    return person in paged | holders


def acknowledge(session: Session, escalation_id: int, *, person: str) -> Escalation:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFound(f"no escalation {escalation_id}")
    if escalation.status == "acked":
        raise InvalidInput(f"escalation {escalation_id} was already acknowledged by {escalation.acked_by}")
    if not may_acknowledge(session, escalation, person):
        raise InvalidInput(f"{person} was not paged by escalation {escalation_id} and is not {escalation.role}")
    escalation.status, escalation.acked_by, escalation.acked_at, escalation.next_at = "acked", person, utcnow(), None
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
    statement = select(Escalation).where(Escalation.status == "open").order_by(col(Escalation.id))
    if incident_id is not None:
        statement = statement.where(Escalation.incident_id == incident_id)
    return list(session.exec(statement))


def due_escalations(session: Session, now: datetime) -> list[Escalation]:
    return [e for e in open_escalations(session) if e.next_at is not None and e.next_at <= now]
