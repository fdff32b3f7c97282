"""What Tocsin does when someone clicks a button or types `/tocsin ...` in Slack (service level, no web).

The web app hands the raw request to `handle_slack_interaction` / `handle_slack_command`: the request's
signature and age are checked first (a forged or replayed request raises `ForgedSlackRequest`, HTTP 401),
then the Slack user is mapped to a Tocsin person by `Person.slack_user_id`. An unknown Slack user is
refused with an ephemeral message, and the refusal is written to the incident's timeline. Buttons:
Acknowledge (`tocsin.messages.escalations.acknowledge`), Approve / Reject a draft (`tocsin.drafts.approvals`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlmodel import Session, select
from tocsin.models import Person
from tocsin.notifications.slack_blocks import ACK_ACTION, APPROVE_DRAFT_ACTION, REJECT_DRAFT_ACTION
from tocsin.notifications.slack_command import DeclareCommand
from tocsin.notifications.slack_inbound import (
    SlackAction,
    SlashCommand,
    handle_interaction,
    handle_slash_command,
    on_action,
    on_command,
    registry,
)

from tocsin.core.errors import InvalidInput, TocsinError

SLACK_REJECTION_COMMENT = "Rejected with the Slack button; the reviewer will say what must change."


def person_for_slack_user(session: Session, slack_user_id: str) -> Person | None:
    return session.exec(select(Person).where(Person.slack_user_id == slack_user_id)).first()


def _signing_secret() -> str:
    from tocsin.core.config import get_settings

    secret = get_settings().slack_signing_secret
    if secret is None or not secret.get_secret_value():
        raise InvalidInput("Slack is not configured (TOCSIN_SLACK_SIGNING_SECRET is not set)")
    return secret.get_secret_value()


def handle_slack_interaction(
    body: bytes, headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> dict[str, Any]:
    """Entry point for Slack's interactivity URL: verify, dispatch the click, return the JSON reply."""
    return handle_interaction(body, headers, _signing_secret(), handlers=registry, now=now)


def handle_slack_command(
    body: bytes, headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> dict[str, Any]:
    """Entry point for the `/tocsin` slash command URL."""
    return handle_slash_command(body, headers, _signing_secret(), handlers=registry, now=now)


def _incident_id(value: str | None) -> int | None:
    from tocsin.incidents.service import parse_incident_id

    if not value:
        return None
    try:
        return parse_incident_id(value)
    except InvalidInput:
        return None


def _plain_id(value: str | None, prefixes: tuple[str, ...], what: str) -> int:
    raw = (value or "").strip()
    for prefix in prefixes:
        if raw.upper().startswith(prefix):
            raw = raw[len(prefix) :]
    if not raw.isdigit():
        raise InvalidInput(f"the button carries no {what} id")
    return int(raw)


def refuse_unknown_user(slack_user_id: str, incident_id: int | None, what: str) -> str:
    """Write the refusal to the timeline (in its own transaction) and return the message for the user."""
    from tocsin.models import Incident

    from tocsin.audit.timeline import append_event
    from tocsin.db.engine import session_scope

    if incident_id is not None:
        with session_scope() as session:
            incident = session.get(Incident, incident_id)
            if incident is not None:
                append_event(
                    session,
                    incident,
                    actor=f"slack:{slack_user_id}",
                    action="slack.refused",
                    payload={"slack_user": slack_user_id, "attempted": what, "reason": "unknown Slack user"},
                )
    return (
        f"Refused: your Slack account ({slack_user_id}) is not linked to a Tocsin person. "
        "Ask an admin to set your Slack user id (`tocsin people add HANDLE --slack-user ID`)."
    )


def _as_person(action: SlackAction, what: str, run: Callable[[Session, Person], str]) -> str:
    from tocsin.db.engine import session_scope

    incident_id = _incident_id(action.ids.get("incident_id"))
    with session_scope() as session:
        person = person_for_slack_user(session, action.slack_user_id)
    if person is None:
        return refuse_unknown_user(action.slack_user_id, incident_id, what)
    try:
        with session_scope() as session:
            return run(session, person)
    except TocsinError as error:
        return f"Could not {what}: {error}"


@on_action(ACK_ACTION)
def acknowledge_button(action: SlackAction) -> str:
    def run(session: Session, person: Person) -> str:
        from tocsin.messages.escalations import acknowledge

        escalation_id = _plain_id(action.ids.get("escalation_id"), ("E-",), "escalation")
        escalation = acknowledge(session, escalation_id, person=person.handle)
        return f"Acknowledged escalation {escalation.id} (INC-{escalation.incident_id}) as {person.handle}."

    return _as_person(action, "acknowledge", run)


@on_action(APPROVE_DRAFT_ACTION)
def approve_button(action: SlackAction) -> str:
    def run(session: Session, person: Person) -> str:
        from tocsin.drafts.approvals import approve

        draft_id = _plain_id(action.ids.get("draft_id"), ("D-",), "draft")
        approve(session, draft_id, approver=person.handle)
        return f"Approved D-{draft_id} as {person.handle}."

    return _as_person(action, "approve", run)


@on_action(REJECT_DRAFT_ACTION)
def reject_button(action: SlackAction) -> str:
    def run(session: Session, person: Person) -> str:
        from tocsin.drafts.approvals import reject

        draft_id = _plain_id(action.ids.get("draft_id"), ("D-",), "draft")
        reject(session, draft_id, approver=person.handle, comment=SLACK_REJECTION_COMMENT)
        return (
            f"Rejected D-{draft_id} as {person.handle}. Say what must change with "
            f"`tocsin draft comment` or in the thread; edit with `tocsin draft edit {draft_id}`."
        )

    return _as_person(action, "reject", run)


@on_command("declare")
def declare_command(command: DeclareCommand, request: SlashCommand) -> str:
    from tocsin.models import IncidentKind, Severity

    from tocsin.audit.timeline import append_event
    from tocsin.core.clocks import utcnow
    from tocsin.core.config import get_settings
    from tocsin.db.engine import session_scope
    from tocsin.incidents.service import Declaration, declare, parse_choice

    with session_scope() as session:
        person = person_for_slack_user(session, request.user_id)
    if person is None:
        return refuse_unknown_user(request.user_id, None, "declare")
    kind = "crisis" if command.kind == "crisis" else "breach"
    try:
        with session_scope() as session:
            incident = declare(
                session,
                Declaration(
                    kind=parse_choice(IncidentKind, kind, "kind"),
                    title=command.title,
                    severity=parse_choice(Severity, command.severity, "severity"),
                    aware_at=utcnow(),
                    commander=person.handle,
                    facts={},
                    locale=person.locale or get_settings().default_locale,
                ),
                actor=person.handle,
            )
            append_event(
                session,
                incident,
                actor=person.handle,
                action="incident.declared_from_slack",
                payload={
                    "slack_user": request.user_id,
                    "channel": request.channel_id,
                    "summary": command.summary,
                    "kind_given": command.kind,
                    "drill": command.drill,
                },
            )
            ref, title, severity = incident.ref, incident.title, incident.severity
    except TocsinError as error:
        return f"Could not declare: {error}"
    return f"{ref} declared: {title} ({severity}). Commander: {person.handle}."
