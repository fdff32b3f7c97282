"""Deadline reminders and overdue escalations, fired by the scheduler (APScheduler jobs).

Every fixed deadline gets reminders at the configured lead times (default 48, 24, 12, 4 and 1 hours
before) and an escalation when it passes unsubmitted. Exactly once, across restarts and kill -9:

1. claim: the reminder is recorded in `reminder_sent` under a unique key in the same transaction as its
   messages (one per person, message id `<job id>:<handle>`); a second firing fails on the key and stops;
2. deliver: only this reminder's messages are handed to their channels (never another job's: two jobs
   firing at once after a restart used to deliver each other's messages too), then `delivered_at` is
   recorded. Two passes never hand the same message over: across processes (overlapping `scheduler run
   --once` passes, the scheduler beside the Prefect reminders deployment) the pass locks what it reads
   until it has committed what it sent (PostgreSQL: the rows, FOR UPDATE SKIP LOCKED; SQLite: the
   database's write lock; tocsin.messages.queue.deliver_pending), and within a process `DELIVERY_LOCK`
   keeps its threads from queueing up on that lock;
3. a reminder claimed but not recorded delivered (killed in between, or a channel that refused for now) is
   delivered by the next pass (`deliver_claimed`); the outbox writes each message id once (a second write
   is a no-op, across processes), so at worst a message whose provider took it in the instant before
   the kill is handed over again.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import iso_utc, local_display, parse_instant, utcnow
from tocsin.core.config import get_settings
from tocsin.db.engine import session_scope
from tocsin.incidents.service import people_with_role
from tocsin.messages.queue import deliver_pending, queue_to_person
from tocsin.models import Incident, IncidentStatus, Obligation, OutboundMessage, ReminderSent, Role
from tocsin.obligations.countdown import due_reminder, reminder_times

log = logging.getLogger("tocsin.obligations.reminders")
TIMED_KINDS = ("fixed", "guidance_target")
# One delivery pass at a time in this process; across processes the database keeps passes apart
# (deliver_pending locks what it reads until its transaction commits).
DELIVERY_LOCK = threading.Lock()


def job_id(obligation_id: int, lead_minutes: int, deadline_at: datetime) -> str:
    return f"reminder:{obligation_id}:{lead_minutes}:{int(deadline_at.timestamp())}"


def watched_obligations(session: Session) -> list[tuple[Obligation, Incident]]:
    """Active, unsubmitted obligations with a deadline, on incidents that are not closed."""
    rows = session.exec(
        select(Obligation, Incident)
        .join(Incident, col(Incident.id) == Obligation.incident_id)
        .where(
            col(Obligation.active).is_(True),
            col(Obligation.submitted_at).is_(None),
            col(Obligation.deadline_at).is_not(None),
            col(Obligation.deadline_kind).in_(TIMED_KINDS),
            Incident.status != IncidentStatus.closed.value,
        )
    )
    return list(rows)


def desired_jobs(now: datetime) -> dict[str, tuple[int, int, datetime, datetime]]:
    """job id → (obligation id, lead minutes, deadline, run at) for every reminder still to fire.

    Future reminders are scheduled at their time; of those already past, only the latest (the one
    that matters now) is kept, and only if it was not sent: it fires at once (catch-up).
    """
    lead_hours = get_settings().reminder_lead_hours
    wanted: dict[str, tuple[int, int, datetime, datetime]] = {}
    with session_scope() as session:
        sent = {(r.obligation_id, r.lead_minutes, r.deadline_at) for r in session.exec(select(ReminderSent))}
        for obligation, _incident in watched_obligations(session):
            assert obligation.id is not None and obligation.deadline_at is not None
            deadline = obligation.deadline_at
            for lead, when in reminder_times(deadline, lead_hours):
                if when > now:
                    wanted[job_id(obligation.id, lead, deadline)] = (obligation.id, lead, deadline, when)
            latest = due_reminder(deadline, lead_hours, now)
            if latest and (obligation.id, latest[0], deadline) not in sent:
                wanted[job_id(obligation.id, latest[0], deadline)] = (obligation.id, latest[0], deadline, now)
    return wanted


def fire_reminder(obligation_id: int, lead_minutes: int, deadline_iso: str) -> bool:
    """The APScheduler job: send one reminder (or the overdue escalation) unless it no longer applies.

    Returns True when it sent, False when it was skipped (already sent, submitted, withdrawn,
    deadline moved, incident closed, or superseded by a later reminder that is also due).
    """
    deadline = parse_instant(deadline_iso)
    now = utcnow()
    try:
        with session_scope() as session:
            obligation = session.get(Obligation, obligation_id)
            incident = session.get(Incident, obligation.incident_id) if obligation else None
            if obligation is None or incident is None or not _still_due(obligation, incident, deadline):
                return False
            latest = due_reminder(deadline, get_settings().reminder_lead_hours, now)
            if latest is None or latest[0] != lead_minutes:
                return False  # a later reminder is due as well: send only that one
            people = _recipients(session, incident, overdue=lead_minutes == 0)
            session.add(
                ReminderSent(
                    obligation_id=obligation_id,
                    lead_minutes=lead_minutes,
                    deadline_at=deadline,
                    sent_at=now,
                    recipients=[p.handle for p in people],
                )
            )
            session.flush()  # the unique key refuses a second send here
            subject, body = _wording(obligation, incident, lead_minutes, deadline, now)
            for person in people:
                queue_to_person(
                    session,
                    person,
                    incident_id=incident.id,
                    purpose="escalation" if lead_minutes == 0 else "reminder",
                    subject=subject,
                    body=body,
                    message_id=f"{job_id(obligation_id, lead_minutes, deadline)}:{person.handle}",
                )
            append_event(
                session,
                incident,
                actor="tocsin",
                action="obligation.overdue" if lead_minutes == 0 else "reminder.sent",
                payload={
                    "rule": obligation.rule,
                    "recipient": obligation.recipient,
                    "deadline_utc": iso_utc(deadline),
                    "lead_hours": lead_minutes / 60,
                    "to": [p.handle for p in people],
                },
            )
    except IntegrityError:
        return False  # already claimed by an earlier run (and delivered, or delivered by `deliver_claimed`)
    deliver_reminder(obligation_id, lead_minutes, deadline)
    log.info(
        "%s sent for obligation %s (%s h before %s)",
        "escalation" if lead_minutes == 0 else "reminder",
        obligation_id,
        lead_minutes / 60,
        deadline_iso,
    )
    return True


def deliver_reminder(obligation_id: int, lead_minutes: int, deadline: datetime) -> bool:
    """Hand a claimed reminder's messages (only its own) to their channels and, once none is left waiting,
    record it delivered; True when it is."""
    prefix = f"{job_id(obligation_id, lead_minutes, deadline)}:"
    mine = col(OutboundMessage.message_id).startswith(prefix, autoescape=True)
    with DELIVERY_LOCK, session_scope() as session:
        ids = list(session.exec(select(OutboundMessage.message_id).where(mine)))
        if ids:
            deliver_pending(session, message_ids=ids)
    with session_scope() as session:
        waiting = session.exec(
            select(func.count()).where(
                mine, col(OutboundMessage.sent_at).is_(None), col(OutboundMessage.failed_at).is_(None)
            )
        ).one()
        if waiting:
            return False  # a transient refusal: retried by the next pass
        session.connection().execute(
            update(ReminderSent)
            .where(
                ReminderSent.obligation_id == obligation_id,
                ReminderSent.lead_minutes == lead_minutes,
                ReminderSent.deadline_at == deadline,
                col(ReminderSent.delivered_at).is_(None),
            )
            .values(delivered_at=utcnow())
        )
    return True


def deliver_claimed() -> int:
    """Reminders claimed and not recorded delivered (the process died in between, or a channel refused for
    now): deliver them; returns how many are now delivered."""
    with session_scope() as session:
        claimed = session.exec(select(ReminderSent).where(col(ReminderSent.delivered_at).is_(None))).all()
        keys = [(r.obligation_id, r.lead_minutes, r.deadline_at) for r in claimed]
    return sum(deliver_reminder(*key) for key in keys)


def _still_due(obligation: Obligation, incident: Incident, deadline: datetime) -> bool:
    return (
        obligation.active
        and obligation.submitted_at is None
        and obligation.deadline_at == deadline
        and incident.status != IncidentStatus.closed.value
    )


def _recipients(session: Session, incident: Incident, *, overdue: bool) -> list:
    assert incident.id is not None
    roles = [Role.legal, Role.commander] + ([Role.dpo] if overdue else [])
    seen: dict[str, object] = {}
    for role in roles:
        for person in people_with_role(session, incident.id, role):
            seen.setdefault(person.handle, person)
    return list(seen.values())


def _wording(
    obligation: Obligation, incident: Incident, lead_minutes: int, deadline: datetime, now: datetime
) -> tuple[str, str]:
    local = local_display(deadline, incident.timezone or "UTC")
    what = f"{obligation.rule}" + (f" to {obligation.recipient}" if obligation.recipient else "")
    if lead_minutes == 0:
        subject = f"[{incident.ref}] OVERDUE: {what} was due {local}"
    else:
        subject = f"[{incident.ref}] {what} due in {lead_minutes / 60:g} h ({local})"
    body = (
        f"Incident {incident.ref}: {incident.title}\n"
        f"Obligation: {obligation.details.get('obligation', obligation.rule)}\n"
        f"Recipient: {obligation.recipient or '-'}\n"
        f"Deadline: {local} ({iso_utc(deadline)})\n"
        f"Citation: {obligation.citation}\n"
        f"How it was counted: {obligation.explanation}\n\n"
        f"When it is filed, record it: tocsin submit {incident.id} {obligation.rule} --at <time>\n"
    )
    return subject, body
