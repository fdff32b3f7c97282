"""The wave's doors: send approved notices to every recipient of a file (the `draft.send_public` rule: comms or
the commander), add an address to the suppression list (comms, legal or the DPO on an open incident, or an
admin: a suppression silences legally required notices to that address too), and decide about the request a
crash left in doubt (`notice.in_doubt_resolved`: whoever may send the wave; see tocsin.wave.in_doubt)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tocsin.audit.timeline import append_event
from tocsin.core.acting import Actor, Via, acting
from tocsin.core.wakeup import Waker, wake_now
from tocsin.db.engine import session_scope
from tocsin.drafts.actions import send_action
from tocsin.drafts.drafting import get_draft
from tocsin.incidents.service import get_incident
from tocsin.models.enums import InDoubtDecision
from tocsin.people.authorize import Subject, authorize
from tocsin.policy import Action
from tocsin.wave.deliveries import add_suppression
from tocsin.wave.in_doubt import held_batches, resolve
from tocsin.wave.reason import decision_reason
from tocsin.wave.run import WaveReport, run_wave


def notify(
    actor: Actor,
    incident_id: int,
    draft_ids: Sequence[int],
    recipients: Path,
    *,
    channel: Any,
    progress: Callable[[WaveReport], None] | None = None,
    waker: Waker = wake_now,
) -> WaveReport:
    with acting(actor):
        with session_scope() as session:
            get_incident(session, incident_id)
            for draft_id in draft_ids:
                draft = get_draft(session, draft_id)
                subject = Subject(incident_id=incident_id, draft=draft)
                authorize(session, send_action(draft), actor, subject)
        with session_scope() as session:
            report = run_wave(
                session, incident_id, list(draft_ids), recipients, channel=channel, actor=actor.handle,
                progress=progress,
            )  # fmt: skip
    waker(incident_id)  # `consumers_notified` may start chained notices
    return report


def suppress(actor: Actor, email: str, *, reason: str, note: str | None = None) -> dict[str, Any]:
    with acting(actor), session_scope() as session:
        authorize(session, Action.suppress, actor)
        source = "cli" if actor.via is Via.local else actor.via.value
        record, created = add_suppression(
            session, email, reason=reason.strip().lower(), actor=actor.handle, source=source, note=note
        )
        return {"email": record.email, "reason": record.reason, "created": created, "since": record.created_at}


def in_doubt(actor: Actor, incident_id: int) -> dict[str, Any]:
    """What a crash left in doubt on this incident's waves (read only)."""
    with acting(actor), session_scope() as session:
        incident = get_incident(session, incident_id)
        batches = held_batches(session, incident_id)
        return {
            "incident": incident.ref,
            "held": sum(batch.held for batch in batches),
            "confirmed_by_events": sum(batch.confirmed for batch in batches),
            "batches": [batch.as_dict() for batch in batches],
        }


def resolve_in_doubt(
    actor: Actor,
    incident_id: int,
    decision: InDoubtDecision,
    *,
    reason: str,
    channel: Any,
    where: str = "reason",
    waker: Waker = wake_now,
) -> dict[str, Any]:
    """Resend or skip the rows held in doubt; recorded on the timeline with the decision and its counts.
    `where` names the reason's field at the door that asks (the API's `reason`, the CLI's `--reason`)."""
    reason = decision_reason(reason, where=where)
    with acting(actor), session_scope() as session:
        get_incident(session, incident_id)
        authorize(session, Action.resolve_in_doubt, actor, Subject(incident_id=incident_id))
        result = resolve(
            session, incident_id, decision, actor=actor.handle, reason=reason,
            channel=channel if decision is InDoubtDecision.resend else None,
        )  # fmt: skip
        answer = {"incident": f"INC-{incident_id}", **result.as_dict(), "reason": reason}
        append_event(
            session, get_incident(session, incident_id), actor=actor.handle, action=Action.resolve_in_doubt.value,
            payload={k: v for k, v in answer.items() if k != "incident"},
        )  # fmt: skip
    waker(incident_id)
    return answer
