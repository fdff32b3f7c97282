"""The incident's chat channel: a Slack channel `inc-<id>-<slug>` when Slack is configured, otherwise the
same channel captured in the outbox. Opening is idempotent: the name is derived from the incident.

The brief is recorded as an `outbound_message` (`brief:<step key>`) either way: on Slack it is posted and
pinned here and recorded as sent (so a delivery pass never posts it again, and a second opening does not
repost it); without Slack it is queued for the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import utcnow
from tocsin.incidents.service import commander_of, people_with_role
from tocsin.messages.channels import slack_channel
from tocsin.messages.queue import queue_to_channel
from tocsin.models import Incident, OutboundMessage, Person
from tocsin.models.enums import Role

if TYPE_CHECKING:
    from tocsin.notifications.slack import SlackChannel


@dataclass(frozen=True)
class OpenedChannel:
    name: str
    channel_id: str
    members: list[str]
    created: bool
    via: str


def brief_text(incident: Incident, commander: str | None) -> str:
    return (
        f"{incident.severity} {incident.kind}: {incident.title}\n"
        f"Status: {incident.status}. Commander: {commander or 'unassigned'}.\n"
        f"Aware since {incident.aware_at.isoformat()}. Run `tocsin clock {incident.id}` for every deadline."
    )


def open_incident_channel(session: Session, incident: Incident, roles: list[Role], *, key: str) -> OpenedChannel:
    from tocsin.notifications.slack import incident_channel_name

    assert incident.id is not None
    members: dict[str, Person] = {}
    for role in roles:
        for person in people_with_role(session, incident.id, role):
            members.setdefault(person.handle, person)
    commander = commander_of(session, incident.id)
    brief = brief_text(incident, commander)
    slack = slack_channel()
    if slack is not None:
        opened = _open_on_slack(session, slack, incident, list(members.values()), brief, commander, key=key)
    else:
        name = incident_channel_name(str(incident.id), incident.title)
        queue_to_channel(
            session,
            f"#{name}",
            incident_id=incident.id,
            purpose="brief",
            subject=f"Incident channel for {incident.ref} (members: {', '.join(sorted(members)) or 'none'})",
            body=brief,
            message_id=f"brief:{key}",
        )
        opened = OpenedChannel(name=name, channel_id=f"#{name}", members=sorted(members), created=True, via="outbox")
    append_event(
        session,
        incident,
        actor="playbook",
        action="channel.opened",
        payload={"channel": opened.name, "members": opened.members, "via": opened.via, "created": opened.created},
    )
    return opened


def _open_on_slack(
    session: Session,
    slack: SlackChannel,
    incident: Incident,
    people: list[Person],
    brief: str,
    commander: str | None,
    *,
    key: str,
) -> OpenedChannel:
    from tocsin.notifications.slack_blocks import incident_brief

    channel = slack.open_incident_channel(str(incident.id), incident.title)
    user_ids = [p.slack_user_id or slack.lookup_user_id(p.email or "") for p in people if p.slack_user_id or p.email]
    slack.invite(channel.id, [u for u in user_ids if u])
    message_id = f"brief:{key}"
    record = session.exec(select(OutboundMessage).where(OutboundMessage.message_id == message_id)).first()
    if record is None or record.sent_at is None:
        message = incident_brief(
            incident_id=incident.ref,
            title=incident.title,
            severity=incident.severity,
            status=incident.status,
            summary=brief,
            declared_at=incident.declared_at,
            commander=commander,
        )
        posted = slack.post(channel.id, message.text, message.blocks)
        slack.pin(channel.id, posted.ts)
        record = record or queue_to_channel(
            session,
            f"#{channel.name}",
            incident_id=incident.id,
            purpose="brief",
            subject=f"Incident brief for {incident.ref}",
            body=brief,
            message_id=message_id,
        )
        record.channel, record.sent_at, record.provider_id = slack.name, utcnow(), f"{posted.channel}:{posted.ts}"
        session.add(record)
    return OpenedChannel(channel.name, channel.id, sorted(p.handle for p in people), channel.created, "slack")
