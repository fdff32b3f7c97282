"""What Tocsin does when someone clicks a button or types `/tocsin ...` in Slack: the Slack door.

The web app hands the raw request to `handle_slack_interaction` / `handle_slack_command`: the request's
signature and age are checked first (a forged or replayed request raises `ForgedSlackRequest`, HTTP 401),
then the Slack user is mapped to a Tocsin person by `Person.slack_user_id`. An unknown Slack user is
refused with an ephemeral message, and the refusal is written to the incident's timeline (`slack.refused`).

A known person acts as `Actor(handle, Via.slack, slack_user=<Slack id>)` through the same actions as every
other door, which ask the policy (a refusal is on the timeline, `<action>_refused`), change the state and
wake the waiting playbook runs (these handlers already run after Slack got its answer, so they wake at once):

- Acknowledge → `tocsin.messages.actions.acknowledge`
- Approve → `tocsin.drafts.actions.approve` with the SHA-256 the review card carries (a card without one is
  out of date: refused); Reject → `tocsin.drafts.actions.reject`
- `/tocsin declare` → `tocsin.incidents.actions.declare`, the caller as commander, with the
  `incident.declared_from_slack` event
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlmodel import Session, select
from tocsin.models import Incident, Person
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
from tocsin.web.background import wake_runs

from tocsin.audit.timeline import append_event
from tocsin.core.acting import Actor, Via, acting
from tocsin.core.config import get_settings
from tocsin.core.errors import InvalidInput, TocsinError
from tocsin.core.ids import parse_draft_id, parse_escalation_id, parse_incident_id
from tocsin.db.engine import session_scope
from tocsin.drafts.actions import approve, reject
from tocsin.incidents.actions import declare
from tocsin.messages.actions import acknowledge

SLACK_REJECTION_COMMENT = "Rejected with the Slack button; the reviewer will say what must change."
OUT_OF_DATE = "this card is out of date; open the draft"


def person_for_slack_user(session: Session, slack_user_id: str) -> Person | None:
    return session.exec(select(Person).where(Person.slack_user_id == slack_user_id)).first()


def slack_actor(person: Person, slack_user_id: str) -> Actor:
    """The person acting through Slack (recorded on every event: `via: slack`, `slack_user`)."""
    return Actor(person.handle, Via.slack, slack_user=slack_user_id)


def _signing_secret() -> str:
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


def _incident_of(action: SlackAction) -> int | None:
    """The incident a button is about (for recording a refusal), if it names one."""
    try:
        return parse_incident_id(action.ids.get("incident_id") or "")
    except TocsinError:
        return None


def _id_on_button(action: SlackAction, key: str, parse: Callable[[str], int], what: str) -> int:
    value = action.ids.get(key)
    if not value:
        raise InvalidInput(f"the button carries no {what} id")
    return parse(value)


def refuse_unknown_user(slack_user_id: str, incident_id: int | None, what: str) -> str:
    """Write the refusal to the timeline (in its own transaction) and return the message for the user."""
    if incident_id is not None:
        stranger = Actor(f"slack:{slack_user_id}", Via.slack, slack_user=slack_user_id)
        with acting(stranger), session_scope() as session:
            incident = session.get(Incident, incident_id)
            if incident is not None:
                append_event(
                    session,
                    incident,
                    actor=stranger.handle,
                    action="slack.refused",
                    payload={"slack_user": slack_user_id, "attempted": what, "reason": "unknown Slack user"},
                )
    return (
        f"Refused: your Slack account ({slack_user_id}) is not linked to a Tocsin person. "
        "Ask an admin to set your Slack user id (`tocsin people add HANDLE --slack-user ID`)."
    )


def _as_person(slack_user_id: str, incident_id: int | None, what: str, run: Callable[[Actor, Person], str]) -> str:
    """Run `run` as the person linked to the Slack user; an unknown user or a refusal is answered in words."""
    with session_scope() as session:
        person = person_for_slack_user(session, slack_user_id)
    if person is None:
        return refuse_unknown_user(slack_user_id, incident_id, what)
    try:
        return run(slack_actor(person, slack_user_id), person)
    except TocsinError as error:
        return f"Could not {what}: {error}"


@on_action(ACK_ACTION)
def acknowledge_button(action: SlackAction) -> str:
    def run(actor: Actor, person: Person) -> str:
        escalation_id = _id_on_button(action, "escalation_id", parse_escalation_id, "escalation")
        acked = acknowledge(actor, escalation_id, waker=wake_runs)
        return f"Acknowledged escalation {acked['escalation']} ({acked['incident']}) as {actor.handle}."

    return _as_person(action.slack_user_id, _incident_of(action), "acknowledge", run)


@on_action(APPROVE_DRAFT_ACTION)
def approve_button(action: SlackAction) -> str:
    def run(actor: Actor, person: Person) -> str:
        draft_id = _id_on_button(action, "draft_id", parse_draft_id, "draft")
        reviewed = (action.ids.get("sha256") or "").strip()
        if not reviewed:  # a card from before cards carried the content's hash: it approves nothing
            raise InvalidInput(f"{OUT_OF_DATE} (D-{draft_id}) and approve the content you read")
        decided = approve(actor, draft_id, sha256=reviewed, waker=wake_runs)
        return (
            f"Approved D-{draft_id} (sha256 {decided['sha256'][:12]}) as {actor.handle}: only this content may be sent."
        )

    return _as_person(action.slack_user_id, _incident_of(action), "approve", run)


@on_action(REJECT_DRAFT_ACTION)
def reject_button(action: SlackAction) -> str:
    def run(actor: Actor, person: Person) -> str:
        draft_id = _id_on_button(action, "draft_id", parse_draft_id, "draft")
        reject(actor, draft_id, comment=SLACK_REJECTION_COMMENT, waker=wake_runs)
        return (
            f"Rejected D-{draft_id} as {actor.handle}. Say what must change with "
            f"`tocsin draft comment` or in the thread; edit with `tocsin draft edit {draft_id}`."
        )

    return _as_person(action.slack_user_id, _incident_of(action), "reject", run)


@on_command("declare")
def declare_command(command: DeclareCommand, request: SlashCommand) -> str:
    def run(actor: Actor, person: Person) -> str:
        declared = declare(
            actor,
            title=command.title,
            kind="crisis" if command.kind == "crisis" else "breach",
            severity=command.severity,
            commander=actor.handle,
            locale=person.locale,  # else the configured default
            extra_event=(
                "incident.declared_from_slack",
                {
                    "slack_user": request.user_id,
                    "channel": request.channel_id,
                    "summary": command.summary,
                    "kind_given": command.kind,
                    "drill": command.drill,
                },
            ),
            waker=wake_runs,
        )
        return f"{declared['ref']} declared: {declared['title']} ({declared['severity']}). Commander: {actor.handle}."

    return _as_person(request.user_id, None, "declare", run)
