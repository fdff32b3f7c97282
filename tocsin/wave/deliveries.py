"""Delivery status from SendGrid's Event Webhook, and the suppression list.

`ingest_sendgrid_events(session, body, headers)` is what the web endpoint calls with the raw POST: it
verifies the signature when a public key is given, moves each delivery row to its newest status (events
arrive out of order and repeated; an older event never overwrites a newer one), and adds bounced,
unsubscribed and spam-reporting addresses to the suppression list. A `processed` event for a row still
`queued` (a crash between the provider's 202 and Tocsin's mark) settles it as `accepted`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from tocsin.core.clocks import utcnow
from tocsin.core.errors import InvalidInput
from tocsin.models.delivery import Suppression
from tocsin.models.enums import DeliveryStatus
from tocsin.notifications.sendgrid_events import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryEvent,
    EventType,
    parse_events,
    verify_event_signature,
)
from tocsin.wave.recipients import email_problem, normalise_email
from tocsin.wave.status import ACCEPTED, DELIVERIES, FAILED, QUEUED, statuses_by_message
from tocsin.wave.store import SUPPRESSIONS

STATUS_OF_EVENT = {
    EventType.DELIVERED: DeliveryStatus.delivered.value,
    EventType.BOUNCE: DeliveryStatus.bounced.value,
    EventType.DROPPED: DeliveryStatus.dropped.value,
    EventType.SPAMREPORT: DeliveryStatus.spamreport.value,
    EventType.UNSUBSCRIBE: DeliveryStatus.unsubscribed.value,
    EventType.GROUP_UNSUBSCRIBE: DeliveryStatus.unsubscribed.value,
}
SUPPRESSION_REASONS = ("opt-out", "bounce", "unsubscribe", "spamreport", "dropped", "manual")
_REASON_OF_EVENT = {
    EventType.BOUNCE: "bounce",
    EventType.DROPPED: "dropped",
    EventType.SPAMREPORT: "spamreport",
    EventType.UNSUBSCRIBE: "unsubscribe",
    EventType.GROUP_UNSUBSCRIBE: "unsubscribe",
}
_LOOKUP_CHUNK = 1000


@dataclass
class IngestSummary:
    events: int = 0
    matched: int = 0  # events whose message id is one of Tocsin's delivery rows
    unmatched: int = 0
    updated: int = 0  # delivery rows whose status changed
    settled: int = 0  # rows still queued that a `processed` event proved accepted
    suppressed: int = 0  # addresses newly added to the suppression list
    by_type: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "events": self.events,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "updated": self.updated,
            "settled": self.settled,
            "suppressed": self.suppressed,
            "by_type": dict(sorted(self.by_type.items())),
        }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((value for key, value in headers.items() if key.lower() == lowered), None)


def ingest_sendgrid_events(
    session: Session,
    body: bytes,
    headers: Mapping[str, str],
    *,
    public_key: str | None = None,
    now: Callable[[], float] = time.time,
) -> IngestSummary:
    """Apply one Event Webhook POST. With `public_key`, an unsigned, forged or stale body is refused."""
    if public_key:
        verify_event_signature(
            public_key, body, _header(headers, SIGNATURE_HEADER), _header(headers, TIMESTAMP_HEADER), now=now
        )
    events = parse_events(body)
    summary = IngestSummary(events=len(events))
    for event in events:
        summary.by_type[event.event.value] = summary.by_type.get(event.event.value, 0) + 1
    _apply_statuses(session, events, summary)
    for event in events:
        if event.suppresses:
            _, created = add_suppression(
                session,
                event.email,
                reason=_REASON_OF_EVENT.get(event.event, "bounce"),
                actor="sendgrid",
                source="sendgrid-webhook",
                note=event.reason,
            )
            summary.suppressed += created
    return summary


def _apply_statuses(session: Session, events: Sequence[DeliveryEvent], summary: IngestSummary) -> None:
    """Each event moves its delivery (named by the address and Tocsin's message id) to its newest status."""
    relevant = [e for e in events if e.message_id and (e.event in STATUS_OF_EVENT or e.event is EventType.PROCESSED)]
    keys = sorted({(e.email, e.message_id or "") for e in relevant})
    rows: dict[tuple[str, str], tuple[str, datetime | None]] = {}
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        rows.update(statuses_by_message(session, keys[start : start + _LOOKUP_CHUNK]))
    summary.matched = sum(1 for e in events if (e.email, e.message_id) in rows)
    summary.unmatched = summary.events - summary.matched
    changes: dict[tuple[str, str], dict[str, object]] = {}
    for event in sorted(relevant, key=lambda e: e.timestamp):
        key = (event.email, event.message_id or "")
        current = rows.get(key)
        if current is None:
            continue
        status, status_at = current
        if event.event is EventType.PROCESSED:
            if status in (QUEUED, FAILED):
                rows[key] = (ACCEPTED, status_at)
                changes[key] = {"status": ACCEPTED, "at": status_at, "accepted": event.timestamp}
                summary.settled += 1
            continue
        if status_at is not None and event.timestamp < status_at:
            continue  # an older event arriving late
        new_status = STATUS_OF_EVENT[event.event]
        rows[key] = (new_status, event.timestamp)
        changes[key] = {**changes.get(key, {}), "status": new_status, "at": event.timestamp}
    if not changes:
        return
    by_key = (DELIVERIES.c.email == bindparam("key_email"), DELIVERIES.c.message_id == bindparam("key_id"))
    statement = update(DELIVERIES).where(*by_key).values(status=bindparam("new_status"), status_at=bindparam("new_at"))
    session.connection().execute(
        statement,
        [{"key_email": e, "key_id": m, "new_status": c["status"], "new_at": c["at"]} for (e, m), c in changes.items()],
    )
    settled = [{"key_email": e, "key_id": m, "at": c["accepted"]} for (e, m), c in changes.items() if "accepted" in c]
    if settled:
        session.connection().execute(
            update(DELIVERIES)
            .where(*by_key, col(DELIVERIES.c.accepted_at).is_(None))
            .values(accepted_at=bindparam("at")),
            settled,
        )
    summary.updated = len(changes)


def add_suppression(
    session: Session,
    email: str,
    *,
    reason: str,
    actor: str,
    source: str = "cli",
    note: str | None = None,
) -> tuple[Suppression, bool]:
    """Suppress an address (idempotent: an address already suppressed keeps its first reason)."""
    address = normalise_email(email)
    if problem := email_problem(address):
        raise InvalidInput(problem, where="email")
    if reason not in SUPPRESSION_REASONS:
        raise InvalidInput(f"unknown reason {reason!r}; one of: {', '.join(SUPPRESSION_REASONS)}", where="--reason")
    existing = session.execute(select(Suppression).where(SUPPRESSIONS.c.email == address)).scalar_one_or_none()
    if existing is not None:
        return existing, False
    for pending in session.new:  # the same address twice in one webhook body
        if isinstance(pending, Suppression) and pending.email == address:
            return pending, False
    record = Suppression(
        email=address,
        reason=reason,
        note=(note or None) and note[:1000],
        source=source,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(record)
    return record, True


def list_suppressions(session: Session, *, reason: str | None = None) -> list[Suppression]:
    statement = select(Suppression).order_by(col(Suppression.created_at), col(Suppression.id))
    if reason is not None:
        statement = statement.where(SUPPRESSIONS.c.reason == reason)
    return list(session.execute(statement).scalars())
