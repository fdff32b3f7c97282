"""The notice-wave status page of an incident: each run of `tocsin notify` (or a playbook's notice_wave
step) with its counts and a progress bar, and where the deliveries of each draft stand with the provider.

While a wave runs, its counts come from the delivery rows it commits chunk by chunk; the page then
refreshes its live part every few seconds with waves.js (without JavaScript: a refresh link).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from tocsin.web.console.pages_incidents import incident_id_of
from tocsin.web.console.render import page
from tocsin.web.console.session import Viewer, viewer

from tocsin.core.clocks import parse_instant
from tocsin.db.engine import session_scope
from tocsin.incidents.service import get_incident
from tocsin.wave.progress import any_running, wave_rows

router = APIRouter()
LoggedIn = Annotated[Viewer, Depends(viewer)]
POLL_SECONDS = 5
OUTCOME_WORDS = {
    "sent": "sent",
    "already_sent": "already sent earlier",
    "suppressed": "suppressed (opted out, bounced)",
    "invalid": "invalid rows",
    "failed": "failed",
}


@router.get("/incidents/{incident}/waves")
def waves_page(request: Request, incident: str, who: LoggedIn) -> Response:
    incident_id = incident_id_of(incident)
    with session_scope() as session:
        record = get_incident(session, incident_id)
        view = wave_rows(session, incident_id)
    for row in view["waves"]:
        row["started"] = parse_instant(row["started_at"])
        row["finished"] = parse_instant(row["finished_at"]) if row["finished_at"] else None
    context = {
        "incident": record,
        "waves": list(reversed(view["waves"])),  # newest first
        "deliveries": view["deliveries"],
        "running": any_running(view),
        "poll_seconds": POLL_SECONDS,
        "outcome_words": OUTCOME_WORDS,
        "nav": "incidents",
        "who": who,
    }
    return page(request, "waves.html", context)
