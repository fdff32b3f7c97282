"""A notice wave's request left in doubt by a crash, over HTTP: what is held, and the decision about it
(`tocsin.wave.actions.resolve_in_doubt`: whoever may send the wave, the commander or comms)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks
from pydantic import BaseModel, Field
from tocsin.models.enums import InDoubtDecision
from tocsin.web.auth import Caller
from tocsin.web.background import later

from tocsin.core.ids import parse_incident_id
from tocsin.messages.channels import email_channel
from tocsin.wave import actions

router = APIRouter(prefix="/api/incidents", tags=["notice waves"])


class InDoubtBody(BaseModel):
    decision: InDoubtDecision = Field(description="resend (a duplicate for any the provider had taken) or skip.")
    reason: str = Field(description="Why; kept on the timeline.")


@router.get("/{incident}/waves/in-doubt", summary="Rows a rerun held because their request was in flight at a crash")
def in_doubt(incident: str, caller: Caller) -> dict[str, Any]:
    return actions.in_doubt(caller, parse_incident_id(incident))


@router.post("/{incident}/waves/in-doubt", summary="Resend or skip the rows held in doubt (commander or comms)")
def resolve(incident: str, body: InDoubtBody, caller: Caller, tasks: BackgroundTasks) -> dict[str, Any]:
    channel = email_channel() if body.decision is InDoubtDecision.resend else None
    return actions.resolve_in_doubt(
        caller, parse_incident_id(incident), body.decision, reason=body.reason, channel=channel, waker=later(tasks)
    )
