"""Which channel carries each recorded message, and in what form (used by dispatch.deliver_pending).

- email: SendGrid when configured, else the outbox. SendGrid is never handed a placeholder `.invalid`
  address (the built-in playbooks' stand-in regulator address): that message is refused with the setting to
  fill in. The outbox accepts it (drills file notices there).
- chat to a person (recipient = handle): with Slack configured, a direct message to their `slack_user_id`;
  without a Slack user id, the outbox and a warning (`Route.warnings`). Without Slack: the outbox.
- chat to a channel (`#name`): with Slack, a post to that channel (`#inc-<id>` is the incident's own channel,
  `inc-<id>-<slug>`, as opened by the `open_channel` step); without Slack, the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from tocsin.core.config import Settings
from tocsin.messages.channels import email_channel, is_placeholder_address, placeholder_refusal, slack_channel
from tocsin.models import AuditEvent, Incident, OutboundMessage, Person
from tocsin.notifications.message import ChatMessage, EmailMessage, SendResult
from tocsin.notifications.slack import SlackChannel


@dataclass
class Route:
    """Rows that go out through one channel (or, with `refusal`, are refused before reaching any)."""

    channel_name: str
    rows: list[OutboundMessage] = field(default_factory=list)
    messages: list[Any] = field(default_factory=list)
    sender: Callable[[Sequence[Any]], list[SendResult]] | None = None
    refusal: str | None = None
    warnings: dict[str, str] = field(default_factory=dict)  # message id -> why it is not on the preferred channel

    def add(self, row: OutboundMessage, message: EmailMessage | ChatMessage) -> None:
        self.rows.append(row)
        self.messages.append(message)

    def send(self) -> list[SendResult]:
        assert self.sender is not None
        return self.sender(self.messages)


def chat_text(row: OutboundMessage) -> str:
    return f"*{row.subject}*\n{row.body}" if row.subject else row.body


def plan_routes(
    session: Session, rows: list[OutboundMessage], settings: Settings, slack: SlackChannel | None = None
) -> list[Route]:
    from tocsin.notifications.outbox import OutboxChannel

    routes: list[Route] = []
    outbox: OutboxChannel | None = None

    def outbox_route() -> Route:
        nonlocal outbox
        if outbox is None:
            outbox = OutboxChannel(settings.outbox_dir, from_address=settings.email_from)
        return Route("outbox", sender=outbox.send)

    emails = [row for row in rows if row.kind == "email"]
    chats = [row for row in rows if row.kind != "email"]
    if emails:
        mailer = email_channel(settings)
        mail = Route(mailer.name, sender=mailer.send)  # type: ignore[arg-type]
        for row in emails:
            if mailer.name == "sendgrid" and is_placeholder_address(row.recipient):
                routes.append(Route(mailer.name, rows=[row], refusal=placeholder_refusal(row.recipient)))
                continue
            mail.add(row, EmailMessage(message_id=row.message_id, to=row.recipient, subject=row.subject, text=row.body))
        routes.append(mail)
    if not chats:
        return [route for route in routes if route.rows]
    slack = slack or slack_channel(settings)
    kept = outbox_route()
    if slack is None:
        for row in chats:
            kept.add(row, _chat(row, channel=row.recipient) if row.recipient.startswith("#") else _chat(row))
        return [route for route in [*routes, kept] if route.rows]
    on_slack = Route(slack.name, sender=slack.send)
    handles = {row.recipient for row in chats if not row.recipient.startswith("#")}
    people = {p.handle: p for p in session.exec(select(Person).where(col(Person.handle).in_(handles)))}
    incident_channels: dict[int, str] = {}
    for row in chats:
        if row.recipient.startswith("#"):
            on_slack.add(row, _chat(row, channel=_slack_channel(session, row, incident_channels)))
            continue
        person = people.get(row.recipient)
        if person is not None and person.slack_user_id:
            on_slack.add(row, _chat(row, user=person.slack_user_id))
        else:
            kept.add(row, _chat(row))
            kept.warnings[row.message_id] = (
                f"{row.recipient} has no Slack user id: `tocsin people add {row.recipient} --slack-user U...`"
            )
    return [route for route in [*routes, on_slack, kept] if route.rows]


def _chat(row: OutboundMessage, *, channel: str | None = None, user: str | None = None) -> ChatMessage:
    """To `channel`, else to `user`, else to the recipient (a person's handle, in the outbox)."""
    if channel is None and user is None:
        user = row.recipient
    return ChatMessage(
        message_id=row.message_id,
        text=chat_text(row),
        channel=channel,
        user=user,
        blocks=tuple(dict(block) for block in row.blocks or ()),
    )


def _slack_channel(session: Session, row: OutboundMessage, cache: dict[int, str]) -> str:
    """`#inc-<id>` (how steps and alerts address an incident's channel) is the channel opened for it."""
    if row.incident_id is None or row.recipient != f"#inc-{row.incident_id}":
        return row.recipient
    if row.incident_id not in cache:
        cache[row.incident_id] = incident_channel_of(session, row.incident_id) or row.recipient
    return cache[row.incident_id]


def incident_channel_of(session: Session, incident_id: int) -> str | None:
    """`#name` of the incident's channel: the one on its timeline (`channel.opened`), else the derived name."""
    from tocsin.notifications.slack import incident_channel_name

    opened = session.exec(
        select(AuditEvent)
        .where(AuditEvent.incident_id == incident_id, AuditEvent.action == "channel.opened")
        .order_by(col(AuditEvent.seq).desc())
    ).first()
    if opened is not None and opened.payload.get("channel"):
        return f"#{opened.payload['channel']}"
    incident = session.get(Incident, incident_id)
    return f"#{incident_channel_name(str(incident_id), incident.title)}" if incident is not None else None
