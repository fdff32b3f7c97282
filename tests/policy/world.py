"""A fresh incident with one person per role, and what each action needs to act on, made through the services
(setting the scene is Tocsin's own doing, not a door under test).

The cast (handles): cmd commander, leg legal, com comms, itp it, dpo dpo, obs observer, nob no role, adm a
directory admin with no role, aut legal who wrote the drafts; `newbie` is a person in the directory with no role,
the target of role, password and token actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tocsin.models import IncidentKind, Severity
from tocsin.models.checklist import ChecklistItem
from tocsin.models.enums import Role
from tocsin.models.playbook_run import PlaybookRun
from tocsin.playbooks.loader import get_playbook
from tocsin.templates.loader import load_template

from tocsin.core.clocks import utcnow
from tocsin.db.engine import session_scope
from tocsin.drafts import approvals, drafting
from tocsin.incidents import service
from tocsin.messages.escalations import start_escalation
from tocsin.people import passwords, tokens
from tocsin.people.directory import upsert_person

CAST = {
    "commander": "cmd",
    "legal": "leg",
    "comms": "com",
    "it": "itp",
    "dpo": "dpo",
    "observer": "obs",
    "no role": "nob",
    "admin": "adm",
    "author": "aut",
}
ROLES_HELD = {"cmd": Role.commander, "leg": Role.legal, "com": Role.comms, "itp": Role.it, "dpo": Role.dpo}
PASSWORD = "correct horse battery staple"
GDPR_FACTS: dict[str, Any] = {
    "entity": {"name": "Boutique SAS", "roles": ["controller"], "main_establishment": "FR", "timezone": "Europe/Paris"},
    "facts": {"personal_data_breach": True, "likely_high_risk_to_individuals": True, "data_subjects": {"FR": 1200}},
    "events": {"aware_personal_data_breach": "2026-11-30T09:00:00+01:00"},
}
SUBMITTED_RULE = "eu.gdpr.art33"  # a prefix: the world picks the exact rule id the clock computes
TEMPLATE_OF = {
    "regulator": "regulator_notice",
    "individuals": "customer_notice",
    "public": "holding_statement",
    "internal": "status_update",
}


def ensure_cast(*, logins: bool = False) -> None:
    """Everyone in the directory (once per database); `adm` is an admin; with `logins`, console passwords."""
    with session_scope() as session:
        for handle in [*CAST.values(), "newbie"]:
            upsert_person(session, handle, email=f"{handle}@example.org", slack_user_id=f"U{handle.upper()}")
        passwords.set_admin(session, "adm", True)
        if logins:
            for handle in CAST.values():
                passwords.set_password(session, handle, PASSWORD)


def api_token(handle: str) -> str:
    with session_scope() as session:
        return tokens.create_token(session, handle, name="matrix", actor="matrix").token


@dataclass
class World:
    incident_id: int
    drafts: dict[str, int] = field(default_factory=dict)  # "state:audience" → draft id
    hashes: dict[str, str] = field(default_factory=dict)  # "state:audience" → its content's sha256
    escalation_id: int = 0
    task_id: int = 0
    run_id: int = 0
    rule: str = ""
    token_id: int = 0  # newbie's token


def _examples(template: str) -> dict[str, Any]:
    loaded = load_template(template)
    return {name: v.example for name, v in loaded.manifest.variables.items() if v.example is not None}


def make_world(needs: frozenset[str] = frozenset()) -> World:
    """A fresh incident declared by cmd with every role held, and what the action under test acts on:
    `facts` (a GDPR breach, so Art. 33 is owed), `<state>:<audience>` drafts written by aut (state drafted,
    in_review or approved by leg), `escalation` (paging it), `task` (for it), `run` (a finished run whose inputs
    can be given), `token` (newbie's)."""
    with session_scope() as session:
        declaration = service.Declaration(
            kind=IncidentKind.breach,
            title="Matrix",
            severity=Severity.SEV2,
            aware_at=utcnow() - timedelta(hours=1),
            commander="cmd",
            facts=GDPR_FACTS if "facts" in needs else {},
            timezone="Europe/Paris",
        )
        incident = service.declare(session, declaration, actor="cmd")
        incident_id = incident.id or 0
        for handle, role in ROLES_HELD.items():
            if role is not Role.commander:
                service.assign(session, incident_id, role.value, handle, actor="cmd")
        service.assign(session, incident_id, Role.observer.value, "obs", actor="cmd")
        service.assign(session, incident_id, Role.legal.value, "aut", actor="cmd")
        world = World(incident_id)
        for need in sorted(n for n in needs if ":" in n):
            state, audience = need.split(":")
            template = TEMPLATE_OF[audience]
            request = drafting.DraftRequest(incident_id, template, inputs=_examples(template))
            draft = drafting.create_draft(session, request, actor="aut").draft
            if state in ("in_review", "approved"):
                drafting.submit_for_review(session, draft.id or 0, actor="aut")
            if state == "approved":
                approvals.approve(session, draft.id or 0, approver="leg", expected_sha256=draft.content_sha256)
            world.drafts[need], world.hashes[need] = draft.id or 0, draft.content_sha256
        if "escalation" in needs:
            world.escalation_id = (
                start_escalation(
                    session, incident_id, Role.it, subject="Contain it", body="Now.", ack_timeout=timedelta(minutes=30)
                ).id
                or 0
            )
        if "task" in needs:
            item = ChecklistItem(
                incident_id=incident_id, source=f"matrix {incident_id}", number=1, title="Pull the logs", role="it"
            )
            session.add(item)
            session.flush()
            world.task_id = item.id or 0
        if "run" in needs:
            playbook = get_playbook("data-breach")
            run = PlaybookRun(
                incident_id=incident_id,
                playbook=playbook.name,
                playbook_version=playbook.version,
                definition=playbook.model_dump(mode="json", by_alias=True, exclude_none=True),
                status="completed",  # never woken by the actions under test
                started_at=utcnow(),
                launched_by="cmd",
            )
            session.add(run)
            session.flush()
            world.run_id = run.id or 0
        if "facts" in needs:
            from tocsin.obligations.service import obligations_of

            owed = [o.rule for o in obligations_of(session, incident_id) if o.rule.startswith(SUBMITTED_RULE)]
            world.rule = owed[0]
        if "token" in needs:
            world.token_id = tokens.create_token(session, "newbie", name="victim", actor="newbie").id
    return world
