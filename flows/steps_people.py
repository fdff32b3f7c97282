"""Step handlers that reach people: open_channel and escalate."""

from __future__ import annotations

from tocsin.flows.step_types import Outcome, StepContext, handles
from tocsin.models import EscalationStatus
from tocsin.models.escalation import Escalation
from tocsin.playbooks.schema import EscalateStep, OpenChannelStep, parse_duration

from tocsin.core.clocks import iso_utc
from tocsin.core.errors import InvalidInput
from tocsin.messages.escalations import advance, chain_levels, start_escalation
from tocsin.messages.incident_channel import open_incident_channel


@handles("open_channel")
def open_channel(context: StepContext, step: OpenChannelStep) -> Outcome:
    opened = open_incident_channel(context.session, context.incident, list(step.invite), key=context.key)
    return Outcome.done(
        f"{opened.name} via {opened.via} with {', '.join(opened.members) or 'nobody yet'}",
        channel=opened.name,
        channel_id=opened.channel_id,
        members=opened.members,
    )


@handles("escalate")
def escalate(context: StepContext, step: EscalateStep) -> Outcome:
    session, incident = context.session, context.incident
    escalation_id = context.state.result.get("escalation")
    if escalation_id is None:
        subject = f"[{incident.ref}] {incident.severity} {incident.kind}: {incident.title} — {step.role.value} needed"
        body = f"{step.title or 'You are paged for this incident.'}\nSee `tocsin show {incident.id}`."
        if not chain_levels_or_none(session, incident.id or 0, step.role):
            return Outcome.waiting(
                f"nobody holds the {step.role.value} role and no chain is configured: "
                f"`tocsin assign {incident.id} {step.role.value} PERSON`"
            )
        escalation = start_escalation(
            session,
            incident.id or 0,
            step.role,
            subject=subject,
            body=body,
            ack_timeout=parse_duration(step.ack_timeout),
            source=context.key,
        )
        context.state.result = {**context.state.result, "escalation": escalation.id}
    else:
        found = session.get(Escalation, escalation_id)
        assert found is not None
        escalation = advance(session, found)
    if escalation.status == EscalationStatus.acked:
        return Outcome.done(
            f"acknowledged by {escalation.acked_by}", escalation=escalation.id, acked_by=escalation.acked_by
        )
    if escalation.status == EscalationStatus.exhausted:
        return Outcome.done(f"nobody in {step.role.value} acknowledged", escalation=escalation.id, acked_by=None)
    paged = ", ".join(escalation.levels[escalation.level])
    return Outcome.waiting(
        f"waiting for {paged} to acknowledge until {iso_utc(escalation.next_at)}",
        wake_at=escalation.next_at,
        escalation=escalation.id,
    )


def chain_levels_or_none(session, incident_id: int, role) -> list[list[str]] | None:  # type: ignore[no-untyped-def]
    try:
        return chain_levels(session, incident_id, role)
    except InvalidInput:
        return None
