"""The notice-wave status page of an incident: each run of `tocsin notify` (or a playbook's notice_wave
step) with its counts and a progress bar, where the deliveries of each draft stand with the provider, and the
rows a crash left in doubt with the decision about them.

While a wave runs, its counts come from the delivery rows it commits chunk by chunk; the page then
refreshes its live part every few seconds with waves.js (without JavaScript: a refresh link).

Rows held in doubt (tocsin.wave.in_doubt: their request was in flight when a run died) are listed with when
their request left and how many SendGrid's events have confirmed since. Those the policy lets decide
(`notice.in_doubt_resolved`: the commander or comms) get a form that resends or skips them with a reason,
through the action `tocsin wave resolve` calls; everyone else sees why not.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData
from tocsin.models.enums import InDoubtDecision
from tocsin.web.background import later
from tocsin.web.console.pages_incidents import incident_id_of, refusal_of, text
from tocsin.web.console.render import page
from tocsin.web.console.session import Viewer, checked_form, flash, viewer

from tocsin.core.clocks import parse_instant
from tocsin.core.errors import Conflict, InvalidInput
from tocsin.db.engine import session_scope
from tocsin.incidents.service import get_incident
from tocsin.messages.channels import email_channel
from tocsin.people.authorize import Subject
from tocsin.policy import Action
from tocsin.wave.actions import resolve_in_doubt
from tocsin.wave.in_doubt import held_batches
from tocsin.wave.progress import any_running, wave_rows

router = APIRouter()
LoggedIn = Annotated[Viewer, Depends(viewer)]
CheckedForm = Annotated[FormData, Depends(checked_form)]
POLL_SECONDS = 5
OUTCOME_WORDS = {
    "sent": "sent",
    "already_sent": "already sent earlier",
    "suppressed": "suppressed (opted out, bounced)",
    "invalid": "invalid rows",
    "failed": "failed",
    "held": "held in doubt (waiting for a decision)",
    "skipped": "skipped (decided after a crash)",
}


def in_doubt_view(session: Session, incident_id: int, who: Viewer) -> dict[str, Any]:
    """The batches whose rows are held in doubt, their totals, and why the viewer may not decide (None: may)."""
    batches = [batch for batch in held_batches(session, incident_id) if batch.held]
    return {
        "batches": batches,
        "held": sum(batch.held for batch in batches),
        "confirmed": sum(batch.confirmed for batch in batches),
        "refusal": refusal_of(session, who, Action.resolve_in_doubt, Subject(incident_id=incident_id))
        if batches
        else None,
    }


@router.get("/incidents/{incident}/waves")
def waves_page(request: Request, incident: str, who: LoggedIn) -> Response:
    incident_id = incident_id_of(incident)
    with session_scope() as session:
        record = get_incident(session, incident_id)
        view = wave_rows(session, incident_id)
        in_doubt = in_doubt_view(session, incident_id, who)
    for row in view["waves"]:
        row["started"] = parse_instant(row["started_at"])
        row["finished"] = parse_instant(row["finished_at"]) if row["finished_at"] else None
    context = {
        "incident": record,
        "waves": list(reversed(view["waves"])),  # newest first
        "deliveries": view["deliveries"],
        "in_doubt": in_doubt,
        "running": any_running(view),
        "poll_seconds": POLL_SECONDS,
        "outcome_words": OUTCOME_WORDS,
        "nav": "incidents",
        "who": who,
    }
    return page(request, "waves.html", context)


@router.post("/incidents/{incident}/waves/in-doubt")
def resolve_held(request: Request, incident: str, who: LoggedIn, form: CheckedForm, tasks: BackgroundTasks) -> Response:
    """`tocsin wave resolve INCIDENT --resend|--skip --reason TEXT` as the viewer (the commander or comms)."""
    incident_id = incident_id_of(incident)
    back = RedirectResponse(f"/incidents/{incident_id}/waves#in-doubt", status_code=303)
    try:
        decision = InDoubtDecision(text(form, "decision"))
    except ValueError:
        flash(request, "decision: choose resend or skip", "error")
        return back
    channel = email_channel() if decision is InDoubtDecision.resend else None
    try:
        done = resolve_in_doubt(
            who.actor, incident_id, decision, reason=text(form, "reason"), channel=channel, waker=later(tasks)
        )
    except (InvalidInput, Conflict) as error:  # no reason, nothing held any more, a wave running: said on the page
        flash(request, str(error), "error")
        return back
    if decision is InDoubtDecision.resend:
        flash(request, f"{done['rows']:,} held rows sent again: {done['sent']:,} accepted, {done['failed']:,} failed.",
              "error" if done["failed"] else "ok")  # fmt: skip
    else:
        flash(request, f"{done['rows']:,} held rows marked skipped: no run sends them again.")
    return back
