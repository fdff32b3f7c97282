"""Applying the role policy (`tocsin.policy`) to a person about to act: one check for every door.

`authorize` refuses with `Forbidden`, naming the rule, after committing the refused attempt to the incident's
timeline on its own (the caller's transaction is rolled back first: it is failing anyway). Refusals of
directory actions (people, admins, tokens, suppressions), which belong to no incident, go to the log.
`refusal` answers the same question without recording anything, for pages that offer a button only to those
who may press it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.acting import Actor, Via, acting
from tocsin.core.errors import Forbidden
from tocsin.models import AuditEvent, Draft, DraftRevision, Incident, IncidentRole, IncidentStatus, Person
from tocsin.models.checklist import ChecklistItem
from tocsin.models.enums import Role
from tocsin.models.escalation import Escalation
from tocsin.policy import POLICY, Action, Condition, Rule

log = logging.getLogger("tocsin.policy")


@dataclass(frozen=True)
class Subject:
    """What the action is on (each action fills what its rule reads)."""

    incident_id: int | None = None
    draft: Draft | None = None
    escalation: Escalation | None = None
    task: ChecklistItem | None = None
    person: str | None = None  # whom a role, a password or a token is for
    as_declarer: bool = False  # launching the first playbook while declaring

    def details(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.draft is not None:
            data["draft"] = self.draft.ref
            data["revision"] = self.draft.revision
            data["sha256"] = self.draft.content_sha256
        if self.escalation is not None:
            data["escalation"] = self.escalation.id
        if self.task is not None:
            data["task"] = self.task.id
        if self.person is not None:
            data["person"] = self.person
        return data


def held_roles(session: Session, incident_id: int, handle: str) -> set[Role]:
    rows = session.exec(
        select(IncidentRole.role)
        .join(Person, col(Person.id) == IncidentRole.person_id)
        .where(IncidentRole.incident_id == incident_id, Person.handle == handle)
    )
    return {Role(r) for r in rows}


def is_admin(session: Session, handle: str) -> bool:
    person = session.exec(select(Person).where(Person.handle == handle)).first()
    return bool(person is not None and person.is_admin)


def directory_has_admin(session: Session) -> bool:
    return session.exec(select(Person.id).where(col(Person.is_admin)).limit(1)).first() is not None


def held_anywhere(session: Session, handle: str, roles: frozenset[Role]) -> bool:
    """Holds one of `roles` on an incident that is not closed (for directory-wide actions)."""
    row = session.exec(
        select(IncidentRole.id)
        .join(Person, col(Person.id) == IncidentRole.person_id)
        .join(Incident, col(Incident.id) == IncidentRole.incident_id)
        .where(
            Person.handle == handle,
            col(IncidentRole.role).in_([r.value for r in roles]),
            Incident.status != IncidentStatus.closed.value,
        )
        .limit(1)
    ).first()
    return row is not None


def draft_authors(session: Session, draft: Draft) -> set[str]:
    revisions = session.exec(select(DraftRevision.created_by).where(DraftRevision.draft_id == draft.id))
    return {draft.drafted_by, *revisions}


def declared_by(session: Session, incident_id: int) -> str | None:
    statement = (
        select(AuditEvent.actor)
        .where(AuditEvent.incident_id == incident_id, AuditEvent.action == "incident.declared")
        .order_by(col(AuditEvent.id))
        .limit(1)
    )
    return session.exec(statement).first()


def _bootstrapping(session: Session, actor: Actor) -> bool:
    """A fresh install: nobody administers the directory yet, and the operator works on the database itself."""
    return actor.via is Via.local and not directory_has_admin(session)


def _holder_refusal(session: Session, rule: Rule, actor: Actor, subject: Subject) -> str | None:
    """None when the actor is among those the rule names (roles, admin, anyone); else why not."""
    handle = actor.handle
    if rule.anyone:
        return None
    if rule.admin and is_admin(session, handle):
        return None
    if Condition.bootstrap in rule.conditions and _bootstrapping(session, actor):
        return None
    if rule.roles:
        if rule.incident and subject.incident_id is not None:
            if held_roles(session, subject.incident_id, handle) & rule.roles:
                return None
            where = f"on INC-{subject.incident_id}"
        elif held_anywhere(session, handle, rule.roles):
            return None
        else:
            where = "on any open incident"
        if Condition.declarer_first_launch in rule.conditions and _declarer_launch(session, actor, subject):
            return None
        names = [r.value for r in Role if r in rule.roles] + (["an admin"] if rule.admin else [])
        needed = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
        return f"{handle} is not {needed} {where}"
    return f"{handle} is not an admin"


def _declarer_launch(session: Session, actor: Actor, subject: Subject) -> bool:
    if not subject.as_declarer or subject.incident_id is None:
        return False
    incident = session.get(Incident, subject.incident_id)
    first = incident is not None and incident.playbook is None
    return first and declared_by(session, subject.incident_id) == actor.handle


def _condition_refusal(session: Session, rule: Rule, actor: Actor, subject: Subject) -> str | None:
    handle = actor.handle
    for condition in rule.conditions:
        if condition is Condition.not_author and subject.draft is not None:
            if handle in draft_authors(session, subject.draft):
                return f"{handle} wrote {subject.draft.ref} (or a revision of it) and cannot approve it: four-eyes rule"
        elif condition is Condition.not_self_grant and subject.person == handle:
            return f"{handle} cannot give themselves a role: another commander or an admin must"
        elif condition is Condition.self_or_admin and subject.person not in (None, handle):
            if not is_admin(session, handle) and not _bootstrapping(session, actor):
                return f"{handle} acts for themselves only; an admin acts for {subject.person}"
        elif condition is Condition.paged and subject.escalation is not None:
            escalation = subject.escalation
            paged = {h for level in escalation.levels[: escalation.level + 1] for h in level}
            if handle not in paged:
                return f"{handle} was not paged by escalation {escalation.id}"
        elif condition is Condition.task_role and subject.task is not None:
            roles = held_roles(session, subject.task.incident_id, handle)
            if Role(subject.task.role) not in roles and Role.commander not in roles:
                return f"{handle} holds neither the {subject.task.role} role nor the commander's on the task's incident"
    return None


def refusal(session: Session, action: Action, actor: Actor, subject: Subject | None = None) -> str | None:
    """Why `actor` may not take `action` on `subject`, or None when they may. Records nothing."""
    if not actor.checked:
        return None
    rule = POLICY[action]
    subject = subject or Subject()
    return _holder_refusal(session, rule, actor, subject) or _condition_refusal(session, rule, actor, subject)


def authorize(session: Session, action: Action, actor: Actor, subject: Subject | None = None) -> None:
    """Let the action go on, or record the refused attempt and raise Forbidden naming the rule."""
    subject = subject or Subject()
    reason = refusal(session, action, actor, subject)
    if reason is None:
        return
    rule = POLICY[action]
    message = f"{reason} (policy {action.value}: {rule.who()})"
    payload = {"action": action.value, "rule": rule.who(), "reason": message, **subject.details()}
    if action in (Action.approve, Action.reject):  # the console's timeline reads what was attempted
        payload["attempted"] = "approve" if action is Action.approve else "reject"
    incident_id = subject.incident_id
    if incident_id is None and subject.draft is not None:
        incident_id = subject.draft.incident_id
    session.rollback()
    incident = session.get(Incident, incident_id) if incident_id is not None else None
    if incident is None:
        log.warning("refused: %s by %s via %s: %s", action.value, actor.handle, actor.via.value, message)
        raise Forbidden(message)
    with acting(actor):
        append_event(session, incident, actor=actor.handle, action=f"{action.value}_refused", payload=payload)
    session.commit()
    raise Forbidden(message)
