"""The incidents at a glance: each incident with its commander and its next deadline (for lists)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from tocsin.incidents.service import list_incidents, roles_by_incident
from tocsin.models import Incident, Obligation
from tocsin.obligations.countdown import countdown


@dataclass(frozen=True)
class IncidentLine:
    incident: Incident
    commander: str | None
    next_obligation: Obligation | None
    # The countdown standing of the next deadline (on-track, due-soon, overdue), or "open" without one.
    standing: str
    obligations_owed: int


def incident_lines(session: Session, *, now: datetime, open_only: bool = False) -> list[IncidentLine]:
    """Newest first; three queries whatever the number of incidents."""
    incidents = list_incidents(session, open_only=open_only)
    ids = [i.id or 0 for i in incidents]
    roles = roles_by_incident(session, ids)
    owed: dict[int, list[Obligation]] = {i: [] for i in ids}
    if ids:
        statement = select(Obligation).where(
            col(Obligation.incident_id).in_(ids), col(Obligation.active), col(Obligation.submitted_at).is_(None)
        )
        for obligation in session.exec(statement):
            owed[obligation.incident_id].append(obligation)
    lines = []
    for incident in incidents:
        pending = owed[incident.id or 0]
        timed = [o for o in pending if o.deadline_at is not None]
        upcoming = min(timed, key=lambda o: o.deadline_at) if timed else None  # type: ignore[arg-type,return-value]
        standing = "open"
        if upcoming is not None and incident.status != "closed":
            standing = countdown(
                deadline_kind=upcoming.deadline_kind, deadline_at=upcoming.deadline_at, submitted_at=None, now=now
            ).standing.value
        commander = next((p.handle for role, p in roles[incident.id or 0] if role == "commander"), None)
        lines.append(IncidentLine(incident, commander, upcoming, standing, len(pending)))
    return lines
