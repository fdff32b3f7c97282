"""Template variables from what Tocsin already knows: the incident, its facts document, and the people
holding roles on it. Pure: the service reads the database and hands the records in.

Inputs the facts cannot give (what happened, measures taken, likely consequences ...) come from the
person drafting (`--var`, `--vars`) and override anything derived here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from tocsin.core.clocks import iso_utc, local_display


class PersonLike(Protocol):
    handle: str
    name: str | None
    email: str | None


class IncidentLike(Protocol):
    id: int | None
    title: str
    severity: str
    status: str
    aware_at: datetime
    timezone: str
    facts: dict[str, Any]


class DeadlineLike(Protocol):
    rule: str
    recipient: str
    deadline_at: datetime | None
    deadline_kind: str


# Who is the Art. 33(3)(b) contact point: the DPO if there is one, else legal.
CONTACT_ROLES = ("dpo", "legal")
CONTACT_HINT = (
    "assign a DPO (or legal) with an email address: `tocsin assign ID dpo PERSON` and "
    "`tocsin people add PERSON --name ... --email ...`, or give --var contact_name=... --var contact_email=..."
)


def _count(mapping: Any) -> int | None:
    if isinstance(mapping, dict):
        numbers = [v for v in mapping.values() if isinstance(v, int) and not isinstance(v, bool)]
        return sum(numbers) if numbers else None
    return None


def affected_people(facts: dict[str, Any]) -> int | None:
    """Approximate number of people affected, from whichever count the facts carry."""
    for value in (
        _count(facts.get("data_subjects")),
        facts.get("total_individuals"),
        facts.get("individuals_affected"),
        _count(facts.get("residents_affected")),
    ):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _contact(roles: list[tuple[str, PersonLike]], wanted: tuple[str, ...]) -> tuple[str, PersonLike] | None:
    for role in wanted:
        for held, person in roles:
            if held == role and person.email:
                return role, person
    return None


def incident_variables(
    incident: IncidentLike,
    roles: list[tuple[str, PersonLike]],
    *,
    now: datetime,
    deadlines: list[DeadlineLike] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """(variables, hints). Hints say how to supply a variable that could not be derived."""
    document = incident.facts or {}
    entity = document.get("entity") or {}
    facts = document.get("facts") or {}
    variables: dict[str, Any] = {
        "incident_ref": f"INC-{incident.id}",
        "incident_title": incident.title,
        "severity": incident.severity,
        "incident_status": incident.status,
        "aware_at": local_display(incident.aware_at, incident.timezone),
        "aware_at_utc": iso_utc(incident.aware_at),
        "aware_on": local_display(incident.aware_at, incident.timezone)[:10],
        "hours_since_aware": int((now - incident.aware_at).total_seconds() // 3600),
    }
    hints: dict[str, str] = {
        "organisation": "set entity.name in the incident's facts, or give --var organisation=...",
        "contact_name": CONTACT_HINT,
        "contact_email": CONTACT_HINT,
        "press_contact": "assign a comms person with an email address, or give --var press_contact=...",
    }
    if isinstance(entity.get("name"), str) and entity["name"].strip():
        variables["organisation"] = entity["name"].strip()
    if (people := affected_people(facts)) is not None:
        variables["approx_data_subjects"] = people
    subjects = facts.get("data_subjects")
    if isinstance(subjects, dict) and subjects:
        variables["affected_countries"] = sorted(subjects)
    if found := _contact(roles, CONTACT_ROLES):
        role, person = found
        variables.update(contact_name=person.name or person.handle, contact_email=person.email, contact_role=role)
    if found := _contact(roles, ("comms",)):
        variables["press_contact"] = found[1].email
    commander = next((p for held, p in roles if held == "commander"), None)
    if commander is not None:
        variables["commander"] = commander.name or commander.handle
    variables["deadlines"] = [
        {
            "rule": d.rule,
            "recipient": d.recipient,
            "due": local_display(d.deadline_at, incident.timezone)
            if d.deadline_at
            else d.deadline_kind.replace("_", " "),
        }
        for d in sorted(deadlines or [], key=lambda d: (d.deadline_at is None, d.deadline_at or now))
    ]
    return variables, hints
