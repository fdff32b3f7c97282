"""The request a crash left in doubt, and what is decided about it.

When a wave dies while a batch's request is in flight (tocsin.wave.journal: posted, never answered), nobody
knows whether SendGrid took it: the Mail Send API has no idempotency key, and the X-Message-Id comes only
with the answer. The next run holds that batch's rows (`held_at`) and sends the rest. Then:

* the Event Webhook reconciles what it can: a `processed` or `delivered` event for a held row settles it
  (tocsin.wave.deliveries), so it is no longer held (`confirmed` in the listing). SendGrid's Email Activity
  API could be asked instead, but it is a paid add-on with its own rate limits and the fake does not serve
  it, so Tocsin does not call it;
* for the rows still held, someone with the `notice.in_doubt_resolved` rule decides: `resend` (moved to a
  new batch and sent once more through the journal, counted as `resent_in_doubt`; a duplicate for any the
  provider had taken) or `skip` (marked `skipped` with the reason; no later run sends them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Engine, case, func, select, update
from sqlmodel import Session

from tocsin.core.clocks import utcnow
from tocsin.core.errors import InvalidInput
from tocsin.models.delivery import NoticeWave
from tocsin.models.enums import InDoubtDecision
from tocsin.notifications.base import Channel
from tocsin.notifications.message import EmailMessage
from tocsin.wave.drafts import ContentSource, sendable_content
from tocsin.wave.journal import BatchJournal
from tocsin.wave.plan import WaveDraft, custom_args_for, email_for
from tocsin.wave.run import load_drafts
from tocsin.wave.status import BATCHES, DELIVERIES, QUEUED, SKIPPED, WAVES
from tocsin.wave.store import incident_wave_lock, new_batch


@dataclass(frozen=True, slots=True)
class HeldBatch:
    wave_id: int
    batch_id: int
    posted_at: datetime | None
    held_at: datetime | None
    held: int  # rows still queued: waiting for a decision
    confirmed: int  # rows the Event Webhook settled since (the provider had taken them)

    def as_dict(self) -> dict[str, Any]:
        return {
            "wave": self.wave_id,
            "batch": self.batch_id,
            "posted_at": self.posted_at.isoformat() if self.posted_at else None,
            "held_at": self.held_at.isoformat() if self.held_at else None,
            "held": self.held,
            "confirmed_by_events": self.confirmed,
        }


@dataclass
class Resolution:
    decision: InDoubtDecision
    batches: list[int] = field(default_factory=list)
    rows: int = 0  # held rows the decision applied to
    sent: int = 0  # resend: accepted this time
    failed: int = 0  # resend: refused this time
    failures: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        counts = {"resent_in_doubt": self.rows} if self.decision is InDoubtDecision.resend else {"skipped": self.rows}
        return {
            "decision": self.decision.value,
            "batches": self.batches,
            "rows": self.rows,
            **counts,
            "sent": self.sent,
            "failed": self.failed,
            "failures": self.failures,
        }


def held_batches(session: Session, incident_id: int) -> list[HeldBatch]:
    """The incident's batches a run found in doubt and nobody decided about, with their rows by state."""
    queued = func.sum(case((DELIVERIES.c.status == QUEUED, 1), else_=0))
    statement = (
        select(BATCHES.c.wave_id, BATCHES.c.id, BATCHES.c.posted_at, BATCHES.c.held_at, queued, func.count())
        .select_from(BATCHES.join(WAVES, WAVES.c.id == BATCHES.c.wave_id).join(
            DELIVERIES, DELIVERIES.c.batch_id == BATCHES.c.id))
        .where(
            WAVES.c.incident_id == incident_id,
            BATCHES.c.held_at.is_not(None),
            BATCHES.c.accepted_at.is_(None),
            BATCHES.c.decision.is_(None),
        )
        .group_by(BATCHES.c.wave_id, BATCHES.c.id, BATCHES.c.posted_at, BATCHES.c.held_at)
        .order_by(BATCHES.c.id)
    )  # fmt: skip
    return [
        HeldBatch(int(wave), int(batch), posted, held, int(waiting or 0), int(total) - int(waiting or 0))
        for wave, batch, posted, held, waiting, total in session.execute(statement)
    ]


def resolve(
    session: Session,
    incident_id: int,
    decision: InDoubtDecision,
    *,
    actor: str,
    reason: str,
    channel: Channel | None,
    content: ContentSource = sendable_content,
) -> Resolution:
    """Apply `decision` to every held batch of the incident (committed as it goes: a resend's rows are moved
    to a batch of their own and committed before their request leaves, through the journal). Refused while a
    wave of the incident runs: it could take the moved rows as its own."""
    engine: Engine = session.get_bind()  # type: ignore[assignment]
    session.rollback()
    with incident_wave_lock(engine, incident_id):
        held = [batch for batch in held_batches(session, incident_id) if batch.held]
        if not held:
            raise InvalidInput(f"INC-{incident_id} has no rows held in doubt; nothing to decide")
        result = Resolution(decision, [batch.batch_id for batch in held], sum(batch.held for batch in held))
        now = utcnow()
        session.connection().execute(
            update(BATCHES)
            .where(BATCHES.c.id.in_(result.batches))
            .values(decision=decision.value, decided_by=actor, decided_at=now, reason=reason)
        )
        if decision is InDoubtDecision.skip:
            session.connection().execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.batch_id.in_(result.batches), DELIVERIES.c.status == QUEUED)
                .values(status=SKIPPED, error=f"in doubt after a crash; skipped by {actor}: {reason}"[:2000])
            )
            session.commit()
            return result
        if channel is None:
            raise InvalidInput("a resend needs a channel to send through")
        moved = [(batch.wave_id, batch.batch_id, new_batch(session, batch.wave_id)) for batch in held]
        for _wave, old, new in moved:
            session.connection().execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.batch_id == old, DELIVERIES.c.status == QUEUED)
                .values(batch_id=new)
            )
        session.commit()  # the decision and the moved rows are durable before anything leaves
        _resend(session, incident_id, [(wave, new) for wave, _old, new in moved], channel, content, result)
        return result


def _resend(
    session: Session,
    incident_id: int,
    batches: list[tuple[int, int]],
    channel: Channel,
    content: ContentSource,
    result: Resolution,
) -> None:
    journal = BatchJournal(session.get_bind())  # type: ignore[arg-type]
    for wave_id, batch_id in batches:
        wave = session.get(NoticeWave, wave_id)
        assert wave is not None
        drafts = {d.draft_id: d for d in load_drafts(session, incident_id, wave.draft_ids, content)}
        args = {draft_id: custom_args_for(d, f"INC-{incident_id}") for draft_id, d in drafts.items()}
        rows = session.execute(
            select(
                DELIVERIES.c.draft_id, DELIVERIES.c.message_id, DELIVERIES.c.email, DELIVERIES.c.name,
                DELIVERIES.c.substitutions,
            ).where(DELIVERIES.c.batch_id == batch_id).order_by(DELIVERIES.c.id)
        ).all()  # fmt: skip
        session.rollback()  # no transaction held while the request is in flight

        for group in journal.send_batch(channel, batch_id, partial(_messages, rows, drafts, args)):
            if group.accepted:
                result.sent += len(group.message_ids)
            else:
                result.failed += len(group.message_ids)
                reason = group.error or "refused"
                result.failures[reason] = result.failures.get(reason, 0) + len(group.message_ids)


def _messages(
    rows: Sequence[Any], drafts: Mapping[int, WaveDraft], args: Mapping[int, dict[str, str]]
) -> list[EmailMessage]:
    """The held rows' emails, as the wave built them (same message ids, content and tag values)."""
    return [
        email_for(drafts[draft], message_id=message, email=email, name=name, substitutions=values or {},
                  custom_args=args[draft])
        for draft, message, email, name, values in rows
    ]  # fmt: skip
