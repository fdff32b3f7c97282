"""Sending messages to people: record first, then hand to the channel, then mark as sent.

Email goes through SendGrid when TOCSIN_SENDGRID_API_KEY is set, else to the outbox folder
($TOCSIN_HOME/outbox) as .eml; chat messages go to the outbox as JSON (Slack posts go through the
incident channel, see incident_channel.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session, col, select

from tocsin.clocks import utcnow
from tocsin.config import get_settings
from tocsin.models import OutboundMessage, Person


def queue_to_person(
    session: Session,
    person: Person,
    *,
    incident_id: int | None,
    purpose: str,
    subject: str,
    body: str,
    message_id: str | None = None,
) -> OutboundMessage:
    """Record a message for one person, by email when they have an address, else by chat."""
    return queue_to_channel(
        session,
        person.email or person.handle,
        incident_id=incident_id,
        purpose=purpose,
        subject=subject,
        body=body,
        message_id=message_id or f"{purpose}-{uuid.uuid4().hex}",
        kind="email" if person.email else "chat",
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
        created_at=utcnow(),
    )
    session.add(message)
    return message


def deliver_pending(session: Session, *, limit: int = 1000) -> int:
    """Send every recorded message that has not gone out yet; returns how many were accepted."""
    from tocsin.channels import email_channel
    from tocsin.notifications.base import Channel
    from tocsin.notifications.message import ChatMessage, EmailMessage
    from tocsin.notifications.outbox import OutboxChannel

    settings = get_settings()
    pending = list(
        session.exec(
            select(OutboundMessage)
            .where(col(OutboundMessage.sent_at).is_(None))
            .order_by(col(OutboundMessage.id))
            .limit(limit)
        )
    )
    if not pending:
        return 0
    # Email through the configured email channel (SendGrid when a key is set); chat to the outbox.
    emails = [m for m in pending if m.kind == "email"]
    chats = [m for m in pending if m.kind != "email"]
    batches: list[tuple[list[OutboundMessage], Channel, list]] = []  # type: ignore[type-arg]
    if emails:
        outgoing = [
            EmailMessage(message_id=m.message_id, to=m.recipient, subject=m.subject, text=m.body) for m in emails
        ]
        batches.append((emails, email_channel(settings), outgoing))
    if chats:
        posts = [
            ChatMessage(message_id=m.message_id, channel=m.recipient, text=f"*{m.subject}*\n{m.body}")
            if m.recipient.startswith("#")
            else ChatMessage(message_id=m.message_id, user=m.recipient, text=f"*{m.subject}*\n{m.body}")
            for m in chats
        ]
        batches.append((chats, OutboxChannel(settings.outbox_dir, from_address=settings.email_from), posts))
    accepted = 0
    now: datetime = utcnow()
    for rows, channel, outgoing in batches:
        for row, result in zip(rows, channel.send(outgoing), strict=True):
            row.channel = channel.name
            if result.accepted:
                row.sent_at, row.provider_id, row.error = now, result.provider_id, None
                accepted += 1
            else:
                row.error = result.error
            session.add(row)
    return accepted
