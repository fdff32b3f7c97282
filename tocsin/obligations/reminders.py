"""Deadline reminders and overdue escalations, fired by the scheduler (APScheduler jobs).

Every fixed deadline gets reminders at the configured lead times (default 48, 24, 12, 4 and 1 hours
before) and an escalation when it passes unsubmitted. Each reminder is recorded in `reminder_sent`
under a unique key in the same transaction as its messages, so it goes out at most once even if
the job runs again after a crash or a restart; the messages themselves are delivered at least once
(unsent rows are retried), and channels are idempotent per message id.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import iso_utc, local_display, parse_instant, utcnow
from tocsin.core.config import get_settings
from tocsin.db.engine import session_scope
from tocsin.incidents.service import people_with_role
from tocsin.messages.queue import deliver_pending, queue_to_person
from tocsin.models import Incident, IncidentStatus, Obligation, ReminderSent, Role
from tocsin.obligations.countdown import due_reminder, reminder_times

log = logging.getLogger("tocsin.obligations.reminders")
TIMED_KINDS = ("fixed", "guidance_target")


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
        return False  # already sent by an earlier run
    with session_scope() as session:
        deliver_pending(session)
    log.info(
        "%s sent for obligation %s (%s h before %s)",
        "escalation" if lead_minutes == 0 else "reminder",
        obligation_id,
        lead_minutes / 60,
        deadline_iso,
    )
    return True


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
