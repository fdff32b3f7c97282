"""Legal's review card: when a draft goes to review, each person holding legal on its incident who did not write
it (four-eyes) gets a chat message with the draft's excerpt and Approve / Reject buttons.

The card is queued like every chat message to a person (`tocsin.messages.queue`): with Slack configured it is a
direct message to their Slack user id, and its buttons (answered by /slack/actions) carry the SHA-256 of the
content the card shows, so an approval from Slack covers exactly that content; without Slack, or for someone
without a Slack user id, it goes to the outbox. One card per reviewer and revision (message id
`review-card:<draft>:<revision>:<handle>`): sending the same revision to review again queues nothing twice.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from tocsin.incidents.service import get_incident, people_with_role
from tocsin.messages.queue import queue_to_channel
from tocsin.models import Draft, OutboundMessage
from tocsin.models.enums import Role
from tocsin.people.authorize import draft_authors

EXCERPT_CHARS = 1_500
PURPOSE = "draft_review"


def card_message_id(draft: Draft, handle: str) -> str:
    return f"review-card:{draft.id}:{draft.revision}:{handle}"


def excerpt(draft: Draft) -> str:
    """The subject, then the start of the text (the card says where to read it whole)."""
    body = draft.text if len(draft.text) <= EXCERPT_CHARS else draft.text[:EXCERPT_CHARS].rstrip() + " …"
    return f"*{draft.subject}*\n{body}" if draft.subject else body


def queue_review_cards(session: Session, draft: Draft, *, requested_by: str) -> list[str]:
    """Queue the review card of `draft` (in review, in the caller's transaction) to every legal reviewer on its
    incident who is not one of its authors; returns the handles it was queued for."""
    from tocsin.notifications import slack_blocks

    incident = get_incident(session, draft.incident_id)
    authors = draft_authors(session, draft)
    reviewers = [p for p in people_with_role(session, draft.incident_id, Role.legal) if p.handle not in authors]
    wanted = {card_message_id(draft, p.handle): p for p in reviewers}
    if not wanted:
        return []
    queued_before = set(
        session.exec(select(OutboundMessage.message_id).where(col(OutboundMessage.message_id).in_(list(wanted))))
    )
    card = slack_blocks.draft_approval(
        incident_id=incident.ref,
        draft_id=draft.ref,
        audience=draft.audience,
        title=f"{draft.template} ({draft.locale}) on {incident.ref}: {incident.title}",
        excerpt=excerpt(draft),
        sha256=draft.content_sha256,
        revision=draft.revision,
        requested_by=requested_by,
    )
    body = (
        f"{draft.ref} ({draft.template}, {draft.audience}, revision {draft.revision}) on {incident.ref} waits for "
        f"your review.\nContent sha256: {draft.content_sha256}\n"
        f"Read it: tocsin draft show {draft.id} (or /drafts/{draft.id} in the web console)\n"
        f"Approve: tocsin approve {draft.id} --hash {draft.content_sha256[:12]}\n"
        f'Reject: tocsin reject {draft.id} --comment "what must change"'
    )
    queued = []
    for message_id, person in wanted.items():
        if message_id in queued_before:
            continue
        queue_to_channel(
            session,
            person.handle,  # chat to a person: a Slack DM to their Slack user id, else the outbox
            incident_id=draft.incident_id,
            purpose=PURPOSE,
            subject=f"Review {draft.ref}: {draft.subject}"[:200],
            body=body,
            message_id=message_id,
            kind="chat",
            blocks=card.blocks,
        )
        queued.append(person.handle)
    return queued
