"""Sending messages to people and channels: record first, then hand to the channel, then mark as sent.

Routes (message_routes.py): email through SendGrid when TOCSIN_SENDGRID_API_KEY is set, else to the outbox
folder ($TOCSIN_HOME/outbox) as .eml; chat through Slack when TOCSIN_SLACK_TOKEN is set (a person by direct
message to their `slack_user_id`, a `#channel` by a post), else to the outbox as JSON. A person without a
Slack user id gets the outbox even when Slack is on, and a `message.kept_in_outbox` warning on the timeline.

Refusals (message_attempts.py): a permanent error fails the message at once; a transient one is retried with
backoff on later passes, up to `message_max_attempts`; a message that fails gets `message.failed` on its
incident's timeline (who, what purpose, the provider's error; never the body) and stays listed by
`undelivered_messages` (`tocsin show`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, text
from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import iso_utc, utcnow
from tocsin.core.config import Settings, get_settings
from tocsin.messages.attempts import AttemptState, after_failure
from tocsin.models import Incident, OutboundMessage, Person

if TYPE_CHECKING:
    from tocsin.messages.routes import Route
    from tocsin.notifications.slack import SlackChannel

log = logging.getLogger("tocsin.messages.queue")


def queue_to_person(
    session: Session,
    person: Person,
    *,
    incident_id: int | None,
    purpose: str,
    subject: str,
    body: str,
    message_id: str | None = None,
    blocks: Sequence[Mapping[str, Any]] = (),
) -> OutboundMessage:
    """Record a message for one person, by email when they have an address, else by chat (a Slack direct
    message when Slack is configured and they have a Slack user id; `blocks` is its Block Kit layout)."""
    return queue_to_channel(
        session,
        person.email or person.handle,
        incident_id=incident_id,
        purpose=purpose,
        subject=subject,
        body=body,
        message_id=message_id or f"{purpose}-{uuid.uuid4().hex}",
        kind="email" if person.email else "chat",
        blocks=blocks,
    )


def queue_to_channel(
    session: Session,
    channel: str,
    *,
    incident_id: int | None,
    purpose: str,
    subject: str,
    body: str,
    message_id: str,
    kind: str = "chat",
    blocks: Sequence[Mapping[str, Any]] = (),
) -> OutboundMessage:
    """Record a post to a chat channel (`#name`), or with kind="email" a mail to an address."""
    message = OutboundMessage(
        message_id=message_id,
        incident_id=incident_id,
        kind=kind,
        purpose=purpose,
        recipient=channel,
        subject=subject,
        body=body,
        blocks=[dict(block) for block in blocks],
        created_at=utcnow(),
    )
    session.add(message)
    return message


def attempt_state(row: OutboundMessage) -> AttemptState:
    return AttemptState(row.attempts, row.next_attempt_at, row.failed_at is not None, row.error)


def deliver_pending(
    session: Session,
    *,
    limit: int = 1000,
    slack: SlackChannel | None = None,
    message_ids: Sequence[str] | None = None,
) -> int:
    """Send every recorded message that has not gone out, has not failed, and whose retry wait (if any) is over;
    returns how many were accepted. `slack` replaces the adapter built from settings (tests); `message_ids`
    limits the pass to these messages (a reminder delivers its own only)."""
    from tocsin.messages.routes import plan_routes

    settings = get_settings()
    _take_sqlite_write_lock(session)
    now: datetime = utcnow()
    statement = select(OutboundMessage)
    if message_ids is not None:
        statement = statement.where(col(OutboundMessage.message_id).in_(list(message_ids)))
    rows = session.exec(
        statement.where(
            col(OutboundMessage.sent_at).is_(None),
            col(OutboundMessage.failed_at).is_(None),
            or_(col(OutboundMessage.next_attempt_at).is_(None), col(OutboundMessage.next_attempt_at) <= now),
        )
        .order_by(col(OutboundMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: two passes at once never take the same rows
    )
    due = [(row, attempt_state(row)) for row in rows]
    if not due:
        return 0
    states = {row.message_id: state for row, state in due}
    accepted = 0
    for route in plan_routes(session, [row for row, _ in due], settings, slack):
        if route.refusal is not None:
            for row in route.rows:
                row.channel = route.channel_name
                _record_failure(session, row, states[row.message_id], route.refusal, False, now, settings)
            continue
        results = route.send()
        for row, result in zip(route.rows, results, strict=True):
            row.channel = route.channel_name
            if result.accepted:
                row.sent_at, row.provider_id, row.error = now, result.provider_id, None
                accepted += 1
                _warn_if_needed(session, route, row)
            else:
                _record_failure(session, row, states[row.message_id], result.error, result.retryable, now, settings)
            session.add(row)
    return accepted


def _take_sqlite_write_lock(session: Session) -> None:
    """SQLite has no row locks (`with_for_update` is ignored there), so two processes' passes (overlapping
    `tocsin scheduler run --once`, the scheduler beside the Prefect reminders deployment) would read the same
    unsent rows and hand each message over twice. A write that matches nothing takes the database's write
    lock first: another pass's same statement waits (busy timeout) until this pass's transaction, with the
    `sent_at` it records, is committed by the caller, and then reads them as sent. Other writers wait too while
    the pass talks to its channels."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"UPDATE {OutboundMessage.__tablename__} SET attempts = attempts WHERE 0"))


def _record_failure(
    session: Session,
    row: OutboundMessage,
    previous: AttemptState,
    error: str | None,
    retryable: bool,
    now: datetime,
    settings: Settings,
) -> None:
    state = after_failure(
        previous,
        error,
        retryable=retryable,
        now=now,
        max_attempts=settings.message_max_attempts,
        base_seconds=settings.message_retry_seconds,
    )
    row.attempts, row.next_attempt_at, row.error = state.attempts, state.next_at, state.last_error
    row.failed_at = now if state.failed else None
    session.add(row)
    described = state.describe(settings.message_max_attempts)
    if not state.failed:
        log.info("message %s to %s: %s", row.message_id, row.recipient, described)
        return
    log.warning("message %s to %s via %s %s", row.message_id, row.recipient, row.channel, described)
    _note_on_incident(
        session,
        row,
        "message.failed",
        {
            "message_id": row.message_id,
            "purpose": row.purpose,
            "kind": row.kind,
            "to": row.recipient,
            "channel": row.channel,
            "attempts": state.attempts,
            "permanent": not retryable,
            "error": state.last_error,
        },
    )


def _note_on_incident(session: Session, row: OutboundMessage, action: str, payload: dict[str, Any]) -> None:
    """What happened to a message, on its incident's timeline (messages without an incident: the log only)."""
    incident = session.get(Incident, row.incident_id) if row.incident_id is not None else None
    if incident is not None:
        append_event(session, incident, actor="tocsin", action=action, payload=payload)


def _warn_if_needed(session: Session, route: Route, row: OutboundMessage) -> None:
    reason = route.warnings.get(row.message_id)
    if reason is None:
        return
    log.warning("message %s to %s kept in the outbox: %s", row.message_id, row.recipient, reason)
    _note_on_incident(
        session,
        row,
        "message.kept_in_outbox",
        {"message_id": row.message_id, "purpose": row.purpose, "to": row.recipient, "reason": reason},
    )


def undelivered_messages(session: Session, incident_id: int | None = None) -> list[dict[str, Any]]:
    """Messages not sent yet: pending, waiting to be retried, or failed (never the body)."""
    statement = select(OutboundMessage).where(col(OutboundMessage.sent_at).is_(None)).order_by(col(OutboundMessage.id))
    if incident_id is not None:
        statement = statement.where(OutboundMessage.incident_id == incident_id)
    listed = []
    for row in session.exec(statement):
        state = attempt_state(row)
        listed.append(
            {
                "message_id": row.message_id,
                "incident_id": row.incident_id,
                "purpose": row.purpose,
                "kind": row.kind,
                "to": row.recipient,
                "channel": row.channel,
                "state": state.state,
                "attempts": state.attempts,
                "next_attempt_at": iso_utc(state.next_at),
                "error": state.last_error,
                "created_at": iso_utc(row.created_at),
            }
        )
    return listed


def deliver_due() -> int:
    """One delivery pass in its own transaction (the scheduler's retry job)."""
    from tocsin.db.engine import session_scope

    with session_scope() as session:
        return deliver_pending(session)
