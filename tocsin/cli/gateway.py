"""The CLI's one way to Tocsin: a `Gateway`, chosen once per command.

- `Local` (the embedded default): the actions themselves on the configured database, as the local operator
  (`--as`, else TOCSIN_USER, else the OS user; the timeline records `via: local` and the OS user).
- `Remote` (client mode, `tocsin.cli.remote`): the JSON API of a `tocsin serve`, as the person of the stored
  token (`tocsin login`, or TOCSIN_SERVER + TOCSIN_TOKEN).

Both answer with the same plain dicts, so every command parses its input, calls one method and renders the
answer once, whichever the mode. Reads go the same way (views locally, GET requests remotely).
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from tocsin.cli.credentials import Login, current_login
from tocsin.core.errors import InvalidInput

if TYPE_CHECKING:
    from tocsin.core.acting import Actor

Row = dict[str, Any]


class Gateway(Protocol):
    """What the CLI can ask of Tocsin. Ids are parsed numbers; answers are the actions' and views' dicts."""

    mode: str  # "local" or "client"

    # Incidents
    def declare(self, **fields: Any) -> Row: ...
    def assign_role(self, incident_id: int, role: str, person: str, *, expected_version: int | None) -> Row: ...
    def unassign_role(self, incident_id: int, role: str, person: str, *, expected_version: int | None) -> Row: ...
    def change_status(
        self, incident_id: int, status: str, *, reason: str | None, expected_version: int | None
    ) -> Row: ...
    def close(self, incident_id: int, *, reason: str | None) -> Row: ...
    def replace_facts(self, incident_id: int, document: Row, *, where: str) -> Row: ...
    def record_event(self, incident_id: int, name: str, *, at: datetime | None, note: str | None) -> Row: ...
    def record_submission(self, incident_id: int, rule: str, *, at: datetime | None, note: str | None) -> Row: ...
    def launch(self, incident_id: int, playbook: str, inputs: Row, *, wait: bool) -> Row: ...
    def playbook_input(self, run_id: int, values: Row) -> Row: ...
    def task_done(self, task_id: int) -> Row: ...
    def acknowledge(self, escalation_id: int) -> Row: ...
    # Drafts
    def create_draft(
        self, incident_id: int, template: str, *, inputs: Row, locale: str | None, recipient: str | None
    ) -> Row: ...
    def edit_draft(self, draft_id: int, *, inputs: Row | None, **parts: str) -> Row: ...
    def submit_for_review(self, draft_id: int) -> Row: ...
    def approve(self, draft_id: int, *, sha256: str, comment: str | None) -> Row: ...
    def reject(self, draft_id: int, *, comment: str) -> Row: ...
    def mark_sent(self, draft_id: int, *, reference: str | None) -> Row: ...
    # The directory
    def add_person(self, handle: str, **details: Any) -> Row: ...
    def grant_admin(self, handle: str, *, admin: bool) -> Row: ...
    def check_person(self, handle: str) -> str: ...
    def set_password(self, handle: str, password: str | None) -> Row: ...
    def mint_token(self, handle: str, *, name: str) -> Row: ...
    def revoke_token(self, token_id: int) -> Row: ...
    def suppress(self, email: str, *, reason: str, note: str | None) -> Row: ...
    # Notice waves: the rows a crash left in doubt, and the decision about them
    def in_doubt(self, incident_id: int) -> Row: ...
    def resolve_in_doubt(self, incident_id: int, decision: str, *, reason: str) -> Row: ...
    # Reads
    def incidents(self, *, status: str | None, kind: str | None, open_only: bool) -> list[Row]: ...
    def incident(self, incident_id: int) -> Row: ...
    def clock(self, incident_id: int, *, withdrawn: bool) -> Row: ...
    def drafts(self, incident_id: int) -> list[Row]: ...
    def draft(self, draft_id: int, *, revision: int | None = None) -> Row: ...
    def escalations(self, incident_id: int | None) -> list[Row]: ...
    def runs(self, incident_id: int) -> list[Row]: ...
    def tasks(self, incident_id: int) -> list[Row]: ...
    def people(self) -> list[Row]: ...
    def tokens(self) -> list[Row]: ...
    def suppressions(self, *, reason: str | None) -> list[Row]: ...
    def whoami(self) -> Row: ...


def open_gateway(explicit_as: str | None = None) -> Gateway:
    """The gateway of this command: client mode when a login is stored (or TOCSIN_SERVER + TOCSIN_TOKEN are
    set), else local. `--as` names the local operator; in client mode the server knows you by your token."""
    login = current_login()
    if login is None:
        return Local(explicit_as)
    if explicit_as is not None:
        raise InvalidInput(
            f"--as works in local mode only: {login.url} knows you by your token"
            + (f" (you are {login.handle})" if login.handle else "")
        )
    from tocsin.cli.remote import Remote

    return Remote(login)


def require_local(command: str) -> None:
    """Refuse a command that works on the local database only when the CLI is a client of a server."""
    login = current_login()
    if login is not None:
        raise InvalidInput(client_mode_refusal(command, login))


def client_mode_refusal(command: str, login: Login) -> str:
    how = f"unset {login.source}" if login.from_env else "`tocsin logout`"
    return (
        f"`tocsin {command}` works on the local database only, and this CLI is a client of {login.url} "
        f"(nothing was done; {how} to use the local database)"
    )


def tell_continuing(incident_id: int) -> list[str]:
    """The local waker: wake the runs waiting on the incident now, and say on stderr (dimmed) how each went on."""
    from rich.console import Console

    from tocsin.core.wakeup import wake_now

    handed = wake_now(incident_id)
    notes = Console(stderr=True, highlight=False)
    for how in handed:
        notes.print(f"[dim]playbook continues: {how}[/]")
    return handed


class Local:
    """The actions on the configured database, as the local operator."""

    mode = "local"

    def __init__(self, explicit_as: str | None = None) -> None:
        self.explicit_as = explicit_as
        self.waker = tell_continuing

    @cached_property
    def actor(self) -> Actor:
        from tocsin.cli.output import acting_person

        return acting_person(self.explicit_as)

    # Incidents

    def declare(self, **fields: Any) -> Row:
        from tocsin.incidents import actions

        return actions.declare(self.actor, waker=self.waker, **fields)

    def assign_role(self, incident_id: int, role: str, person: str, *, expected_version: int | None) -> Row:
        from tocsin.incidents import actions

        return actions.assign_role(
            self.actor, incident_id, role, person, expected_version=expected_version, waker=self.waker
        )

    def unassign_role(self, incident_id: int, role: str, person: str, *, expected_version: int | None) -> Row:
        from tocsin.incidents import actions

        return actions.unassign_role(self.actor, incident_id, role, person, expected_version=expected_version)

    def change_status(self, incident_id: int, status: str, *, reason: str | None, expected_version: int | None) -> Row:
        from tocsin.incidents import actions

        return actions.change_status(
            self.actor, incident_id, status, reason=reason, expected_version=expected_version, waker=self.waker
        )

    def close(self, incident_id: int, *, reason: str | None) -> Row:
        from tocsin.incidents import actions

        return actions.close(self.actor, incident_id, reason=reason, waker=self.waker)

    def replace_facts(self, incident_id: int, document: Row, *, where: str) -> Row:
        from tocsin.incidents import actions

        return actions.replace_facts(self.actor, incident_id, document, where=where, waker=self.waker)

    def record_event(self, incident_id: int, name: str, *, at: datetime | None, note: str | None) -> Row:
        from tocsin.obligations import actions

        return actions.record_event(self.actor, incident_id, name, at=at, note=note, waker=self.waker)

    def record_submission(self, incident_id: int, rule: str, *, at: datetime | None, note: str | None) -> Row:
        from tocsin.obligations import actions

        return actions.record_submission(self.actor, incident_id, rule, at=at, note=note, waker=self.waker)

    def launch(self, incident_id: int, playbook: str, inputs: Row, *, wait: bool) -> Row:
        from tocsin.incidents import actions

        return actions.launch(self.actor, incident_id, playbook, inputs, wait=wait)

    def playbook_input(self, run_id: int, values: Row) -> Row:
        from tocsin.incidents import actions

        incident_id = actions.playbook_input(self.actor, run_id, values, waker=self.waker)
        return {"run": run_id, "incident": f"INC-{incident_id}"}

    def task_done(self, task_id: int) -> Row:
        from tocsin.incidents import actions

        return actions.task_done(self.actor, task_id, waker=self.waker)

    def acknowledge(self, escalation_id: int) -> Row:
        from tocsin.messages import actions

        return actions.acknowledge(self.actor, escalation_id, waker=self.waker)

    # Drafts

    def create_draft(
        self, incident_id: int, template: str, *, inputs: Row, locale: str | None, recipient: str | None
    ) -> Row:
        from tocsin.drafts import actions
        from tocsin.drafts.drafting import DraftRequest

        request = DraftRequest(
            incident_id=incident_id, template=template, inputs=inputs, locale=locale, recipient=recipient
        )
        return actions.create(self.actor, request)

    def edit_draft(self, draft_id: int, *, inputs: Row | None, **parts: str) -> Row:
        from tocsin.drafts import actions

        return actions.edit(self.actor, draft_id, inputs=inputs, **parts)

    def submit_for_review(self, draft_id: int) -> Row:
        from tocsin.drafts import actions

        return actions.submit_for_review(self.actor, draft_id)

    def approve(self, draft_id: int, *, sha256: str, comment: str | None) -> Row:
        from tocsin.drafts import actions

        return actions.approve(self.actor, draft_id, sha256=sha256, comment=comment, waker=self.waker)

    def reject(self, draft_id: int, *, comment: str) -> Row:
        from tocsin.drafts import actions

        return actions.reject(self.actor, draft_id, comment=comment, waker=self.waker)

    def mark_sent(self, draft_id: int, *, reference: str | None) -> Row:
        from tocsin.drafts import actions

        return actions.mark_sent(self.actor, draft_id, reference=reference, waker=self.waker)

    # The directory

    def add_person(self, handle: str, **details: Any) -> Row:
        from tocsin.people import actions

        return actions.add_person(self.actor, handle, **details)

    def grant_admin(self, handle: str, *, admin: bool) -> Row:
        from tocsin.people import actions

        return actions.grant_admin(self.actor, handle, admin=admin)

    def check_person(self, handle: str) -> str:
        from tocsin.people import actions

        return actions.check_person(handle)

    def set_password(self, handle: str, password: str | None) -> Row:
        from tocsin.people import actions

        return actions.set_password(self.actor, handle, password)

    def mint_token(self, handle: str, *, name: str) -> Row:
        from tocsin.people import actions

        return actions.mint_token(self.actor, handle, name=name)

    def revoke_token(self, token_id: int) -> Row:
        from tocsin.people import actions

        return actions.revoke_token(self.actor, token_id)

    def suppress(self, email: str, *, reason: str, note: str | None) -> Row:
        from tocsin.wave import actions

        return actions.suppress(self.actor, email, reason=reason, note=note)

    # Notice waves

    def in_doubt(self, incident_id: int) -> Row:
        from tocsin.wave import actions

        return actions.in_doubt(self.actor, incident_id)

    def resolve_in_doubt(self, incident_id: int, decision: str, *, reason: str) -> Row:
        from tocsin.messages.channels import email_channel
        from tocsin.models.enums import InDoubtDecision
        from tocsin.wave import actions

        chosen = InDoubtDecision(decision)
        channel = email_channel() if chosen is InDoubtDecision.resend else None
        return actions.resolve_in_doubt(
            self.actor, incident_id, chosen, reason=reason, channel=channel, where="--reason", waker=self.waker
        )

    # Reads (views on the database; nothing is written)

    def incidents(self, *, status: str | None, kind: str | None, open_only: bool) -> list[Row]:
        from tocsin.db.engine import session_scope
        from tocsin.incidents.lifecycle import parse_status
        from tocsin.incidents.service import list_incidents, parse_choice, roles_by_incident
        from tocsin.incidents.views import incident_dict
        from tocsin.models import IncidentKind

        status_filter = parse_status(status) if status else None
        kind_filter = parse_choice(IncidentKind, kind.strip().lower(), "kind") if kind else None
        with session_scope() as session:
            found = list_incidents(session, status=status_filter, kind=kind_filter, open_only=open_only)
            roles = roles_by_incident(session, [i.id or 0 for i in found])
            return [incident_dict(i, roles[i.id or 0]) for i in found]

    def incident(self, incident_id: int) -> Row:
        from tocsin.audit.timeline import timeline
        from tocsin.db.engine import session_scope
        from tocsin.flows.progress import runs_of
        from tocsin.incidents.service import get_incident, roles_of
        from tocsin.incidents.views import event_dict, incident_dict
        from tocsin.messages.queue import undelivered_messages

        with session_scope() as session:
            data = incident_dict(get_incident(session, incident_id), roles_of(session, incident_id))
            data["timeline"] = [event_dict(e) for e in timeline(session, incident_id)]
            data["playbook_runs"] = runs_of(session, incident_id)
            data["undelivered_messages"] = undelivered_messages(session, incident_id)
        return data

    def clock(self, incident_id: int, *, withdrawn: bool) -> Row:
        from tocsin.core.clocks import iso_utc, utcnow
        from tocsin.db.engine import session_scope
        from tocsin.incidents.service import get_incident
        from tocsin.obligations.countdown import clock_rows
        from tocsin.obligations.service import obligations_of

        now = utcnow()
        with session_scope() as session:
            record = get_incident(session, incident_id)
            rows = clock_rows(obligations_of(session, incident_id, include_withdrawn=withdrawn), now)
            return {"incident": record.ref, "title": record.title, "now": iso_utc(now), "obligations": rows}

    def drafts(self, incident_id: int) -> list[Row]:
        from tocsin.db.engine import session_scope
        from tocsin.drafts.drafting import list_drafts
        from tocsin.drafts.views import draft_dict

        with session_scope() as session:
            return [draft_dict(d, content=False) for d in list_drafts(session, incident_id)]

    def draft(self, draft_id: int, *, revision: int | None = None) -> Row:
        from tocsin.db.engine import session_scope
        from tocsin.drafts.review import review_data

        with session_scope() as session:
            return review_data(session, draft_id, revision)

    def escalations(self, incident_id: int | None) -> list[Row]:
        from tocsin.db.engine import session_scope
        from tocsin.messages.escalations import escalation_dict, open_escalations

        with session_scope() as session:
            return [escalation_dict(e) for e in open_escalations(session, incident_id)]

    def runs(self, incident_id: int) -> list[Row]:
        from tocsin.db.engine import session_scope
        from tocsin.flows.progress import runs_of

        with session_scope() as session:
            return runs_of(session, incident_id)

    def tasks(self, incident_id: int) -> list[Row]:
        from tocsin.core.clocks import iso_utc
        from tocsin.db.engine import session_scope
        from tocsin.incidents.checklists import items_of

        with session_scope() as session:
            return [
                {
                    "id": i.id,
                    "incident": f"INC-{i.incident_id}",
                    "title": i.title,
                    "role": i.role,
                    "due": iso_utc(i.due_at),
                    "done_at": iso_utc(i.done_at),
                    "done_by": i.done_by,
                }
                for i in items_of(session, incident_id)
            ]

    def people(self) -> list[Row]:
        from tocsin.db.engine import session_scope
        from tocsin.incidents.views import person_dict
        from tocsin.people.directory import list_people

        with session_scope() as session:
            return [person_dict(p) for p in list_people(session)]

    def tokens(self) -> list[Row]:
        from tocsin.core.clocks import iso_utc
        from tocsin.db.engine import session_scope
        from tocsin.people.tokens import list_tokens

        with session_scope() as session:
            return [
                {
                    "id": token.id,
                    "person": person.handle,
                    "name": token.name,
                    "created_at": iso_utc(token.created_at),
                    "created_by": token.created_by,
                    "revoked_at": iso_utc(token.revoked_at),
                }
                for token, person in list_tokens(session)
            ]

    def suppressions(self, *, reason: str | None) -> list[Row]:
        from tocsin.core.clocks import iso_utc
        from tocsin.db.engine import session_scope
        from tocsin.wave.deliveries import list_suppressions

        with session_scope() as session:
            return [
                {
                    "email": s.email,
                    "reason": s.reason,
                    "source": s.source,
                    "note": s.note,
                    "by": s.created_by,
                    "at": iso_utc(s.created_at),
                }
                for s in list_suppressions(session, reason=reason)
            ]

    def whoami(self) -> Row:
        from tocsin.core.config import get_settings, mask_url
        from tocsin.db.engine import session_scope
        from tocsin.people.directory import find_person

        actor = self.actor
        with session_scope() as session:
            person = find_person(session, actor.handle)
            known, admin = person is not None, bool(person is not None and person.is_admin)
        return {
            "mode": "local",
            "handle": actor.handle,
            "claimed": actor.claimed,
            "os_user": actor.os_user,
            "in_directory": known,
            "is_admin": admin,
            "database": mask_url(get_settings().resolved_database_url),
        }
