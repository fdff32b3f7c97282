"""An incident's obligations: recomputed by the clock whenever its facts or events change, and stored.

New obligations, changed deadlines and obligations the facts no longer trigger each land on the
timeline with the clock's explanation, so the history of why is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import iso_utc, parse_instant, utcnow
from tocsin.core.errors import InvalidInput
from tocsin.models import Incident, Obligation

SUBMITTED = "submitted:"


def compute_report(document: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The clock's output contract for a facts document ({"obligations": [...], "not_triggered": [...]})."""
    from tocsin.clock import evaluate, parse_input

    if not document:
        return {"obligations": [], "not_triggered": []}
    return evaluate(parse_input(document), now=now).to_dict()


@dataclass
class ObligationChanges:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.withdrawn)


def changes_dict(changes: ObligationChanges) -> dict[str, list[str]]:
    return {"added": changes.added, "changed": changes.changed, "withdrawn": changes.withdrawn}


def _label(rule: str, recipient: str) -> str:
    return f"{rule} → {recipient}" if recipient else rule


def _deadline(item: dict[str, Any]) -> datetime | None:
    value = item.get("deadline_utc")
    return parse_instant(value) if value else None


def recompute(session: Session, incident: Incident, *, actor: str) -> ObligationChanges:
    """Bring the stored obligations in line with the incident's current facts document."""
    assert incident.id is not None
    now = utcnow()
    report = compute_report(incident.facts, now)
    events = (incident.facts or {}).get("events") or {}
    reasons = {entry["rule"]: entry["reason"] for entry in report["not_triggered"]}
    stored = {
        (o.rule, o.recipient): o for o in session.exec(select(Obligation).where(Obligation.incident_id == incident.id))
    }
    changes = ObligationChanges()
    seen: set[tuple[str, str]] = set()
    for item in report["obligations"]:
        key = (item["rule"], item.get("recipient") or "")
        seen.add(key)
        deadline = _deadline(item)
        submitted = events.get(SUBMITTED + item["rule"])
        submitted_at = parse_instant(submitted) if submitted else None
        row = stored.get(key)
        if row is None:
            row = Obligation(
                incident_id=incident.id,
                rule=key[0],
                recipient=key[1],
                deadline_kind=item["deadline_kind"],
                deadline_at=deadline,
                citation=item.get("citation", ""),
                explanation=item.get("explanation", ""),
                details=item,
                submitted_at=submitted_at,
                computed_at=now,
            )
            session.add(row)
            changes.added.append(_label(*key))
            append_event(
                session,
                incident,
                actor=actor,
                action="obligation.added",
                payload={
                    "rule": key[0],
                    "recipient": key[1],
                    "deadline_kind": item["deadline_kind"],
                    "deadline_utc": item.get("deadline_utc"),
                    "citation": item.get("citation"),
                    "explanation": item.get("explanation"),
                },
            )
            continue
        before = (row.active, row.deadline_kind, row.deadline_at)
        row.details, row.citation, row.explanation = (
            item,
            item.get("citation", ""),
            item.get("explanation", ""),
        )
        row.submitted_at, row.computed_at = submitted_at, now
        if before != (True, item["deadline_kind"], deadline):
            payload = {
                "rule": key[0],
                "recipient": key[1],
                "was": {"active": before[0], "deadline_kind": before[1], "deadline_utc": iso_utc(before[2])},
                "now": {"deadline_kind": item["deadline_kind"], "deadline_utc": item.get("deadline_utc")},
                "explanation": item.get("explanation"),
            }
            row.active, row.withdrawn_reason = True, None
            row.deadline_kind, row.deadline_at = item["deadline_kind"], deadline
            changes.changed.append(_label(*key))
            append_event(session, incident, actor=actor, action="obligation.changed", payload=payload)
        session.add(row)
    for key, row in stored.items():
        if key in seen or not row.active:
            continue
        reason = reasons.get(row.rule, "no longer triggered by the facts")
        row.active, row.withdrawn_reason, row.computed_at = False, reason, now
        session.add(row)
        changes.withdrawn.append(_label(*key))
        append_event(
            session,
            incident,
            actor=actor,
            action="obligation.withdrawn",
            payload={"rule": row.rule, "recipient": row.recipient, "reason": reason},
        )
    return changes


def obligations_of(session: Session, incident_id: int, *, include_withdrawn: bool = False) -> list[Obligation]:
    statement = select(Obligation).where(Obligation.incident_id == incident_id)
    if not include_withdrawn:
        statement = statement.where(col(Obligation.active).is_(True))
    rows = list(session.exec(statement))
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(rows, key=lambda o: (not o.active, o.deadline_at or far, o.rule, o.recipient))


def set_facts(session: Session, incident: Incident, document: dict[str, Any], *, actor: str) -> ObligationChanges:
    """Replace the facts document (already validated) and recompute."""
    previous = incident.facts or {}
    incident.facts = document
    append_event(
        session,
        incident,
        actor=actor,
        action="facts.changed",
        payload={"changed_keys": _changed_keys(previous, document), "facts": document},
    )
    return recompute(session, incident, actor=actor)


def record_event(
    session: Session, incident: Incident, name: str, at: datetime, *, actor: str, note: str | None = None
) -> ObligationChanges:
    """Record a clock event (e.g. `materiality_determined`, or `submitted:<rule>`) and recompute."""
    from tocsin.incidents.facts import validate_facts

    if at > utcnow():
        raise InvalidInput(f"{name} at {iso_utc(at)} is in the future; record events when they happen")
    document = {**(incident.facts or {})}
    events = {**(document.get("events") or {})}
    events[name] = iso_utc(at)
    document["events"] = events
    validate_facts(document, where=f"INC-{incident.id} events")
    incident.facts = document
    append_event(
        session,
        incident,
        actor=actor,
        action="obligation.submitted" if name.startswith(SUBMITTED) else "clock.event",
        payload={"event": name, "at": iso_utc(at), "note": note},
    )
    return recompute(session, incident, actor=actor)


def record_submission(
    session: Session, incident: Incident, rule: str, at: datetime, *, actor: str, note: str | None = None
) -> ObligationChanges:
    """Record that the notification an obligation asks for went out (`submitted:<rule>`), if it is owed."""
    rule = rule.strip()
    if rule not in {o.rule for o in obligations_of(session, incident.id or 0)}:
        raise InvalidInput(
            f"{incident.ref} owes no {rule!r}; see its clock (`tocsin clock {incident.id}`) for its rules"
        )
    return record_event(session, incident, SUBMITTED + rule, at, actor=actor, note=note)


def _changed_keys(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    keys: list[str] = []
    for section in sorted(set(before) | set(after)):
        old, new = before.get(section), after.get(section)
        if isinstance(old, dict) and isinstance(new, dict):
            keys += [f"{section}.{k}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        elif old != new:
            keys.append(section)
    return keys
