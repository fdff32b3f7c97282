"""The incident page: facts, people, the live countdown of every obligation (and recording a submission),
open escalations (and acknowledging one), drafts, notice waves, sentiment alerts and the timeline.

Everything shown comes from the services the CLI and the JSON API use; every form posts to a route that calls
the action `tocsin submit` / `tocsin ack` call (`tocsin.obligations.actions`, `tocsin.messages.actions`) as the
logged-in viewer; the action asks the policy (a refusal: 403, on the timeline) and wakes waiting runs after
the response. A form is offered only to those the policy lets use it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session
from starlette.datastructures import FormData
from tocsin.flows.progress import runs_of
from tocsin.models.escalation import Escalation
from tocsin.sentiment.alert_chart import alerts_from_json, render_alerts_svg
from tocsin.web.background import later
from tocsin.web.console import filters_extra
from tocsin.web.console.event_text import INSTANT, describe
from tocsin.web.console.pages_incidents import incident_id_of, parse_local, refusal_of, steering, text
from tocsin.web.console.render import describe_left, page
from tocsin.web.console.session import Viewer, checked_form, flash, viewer

from tocsin.audit.timeline import timeline
from tocsin.core.clocks import parse_instant, utcnow
from tocsin.core.errors import Conflict, InvalidInput, NotFound
from tocsin.core.ids import parse_escalation_id
from tocsin.db.engine import session_scope
from tocsin.drafts.drafting import list_drafts
from tocsin.incidents.service import get_incident, roles_of
from tocsin.messages.actions import acknowledge as ack
from tocsin.messages.escalations import open_escalations
from tocsin.obligations.actions import record_submission
from tocsin.obligations.countdown import clock_rows
from tocsin.obligations.service import obligations_of
from tocsin.people.authorize import Subject
from tocsin.policy import Action
from tocsin.social.alerts import attached_alerts
from tocsin.wave.run import wave_status

router = APIRouter()
LoggedIn = Annotated[Viewer, Depends(viewer)]
CheckedForm = Annotated[FormData, Depends(checked_form)]
TIMELINE_FIRST = 20  # newest events shown open; the older ones behind a <details>
TIMELINE_SHOWN = 200  # events on the page unless the viewer asks for all
filters_extra.install()

# Words for each standing, so that colour is never the only signal.
STANDING_WORDS = {
    "on-track": "on track",
    "due-soon": "due soon",
    "overdue": "overdue",
    "submitted": "submitted",
    "open": "without undue delay",
    "pending": "waits for the report before it",
    "retention": "keep records",
    "withdrawn": "withdrawn",
}


def clock_view(session: Session, incident_id: int, now: datetime) -> list[dict[str, Any]]:
    """Each active obligation with its countdown row (the same rows as `tocsin clock --json`)."""
    obligations = obligations_of(session, incident_id)
    rows = clock_rows(obligations, now)
    shown: list[dict[str, Any]] = []
    forms: set[str] = set()
    for obligation, row in zip(obligations, rows, strict=True):
        # A submission is recorded per rule: one form for the first row of a rule that is not submitted.
        submittable = (
            obligation.submitted_at is None and row["standing"] != "retention" and obligation.rule not in forms
        )
        if submittable:
            forms.add(obligation.rule)
        shown.append(
            {
                **row,
                "deadline_at": obligation.deadline_at,
                "submitted": obligation.submitted_at,
                "words": STANDING_WORDS.get(row["standing"], row["standing"]),
                "margin": _margin(row["margin_seconds"]),
                "trigger": parse_instant(trigger) if (trigger := obligation.details.get("trigger_utc")) else None,
                "submittable": submittable,
            }
        )
    return shown


def _margin(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    text = describe_left(abs(seconds)).removesuffix(" left")
    return f"{text} early" if seconds >= 0 else f"{text} late"


def fact_value(value: Any) -> dict[str, Any]:
    """One fact for display: {"kind": "time", "value": datetime} for an ISO instant, {"kind": "map", "value":
    [(key, text)]} for a flat map (numbers with thousands separators), {"kind": "list"} for a flat list, else
    {"kind": "text"} (nested documents as compact JSON)."""

    def flat(item: Any) -> str | None:
        if isinstance(item, bool):
            return "yes" if item else "no"
        if isinstance(item, int | float):
            return f"{item:,}"
        return item if isinstance(item, str) else None

    if isinstance(value, str) and INSTANT.fullmatch(value.strip()):
        try:
            return {"kind": "time", "value": parse_instant(value.strip())}
        except ValueError:
            pass
    if isinstance(value, dict) and value and all(flat(v) is not None for v in value.values()):
        return {"kind": "map", "value": [(str(k), flat(v)) for k, v in value.items()]}
    if isinstance(value, list) and all(flat(v) is not None for v in value):
        return {"kind": "list", "value": ", ".join(str(flat(v)) for v in value) or "none"}
    shown = flat(value)
    return {"kind": "text", "value": shown if shown is not None else json.dumps(value, ensure_ascii=False)}


def facts_sections(facts: dict[str, Any]) -> list[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """The facts document as (section, [(name, shown value)]) for definition lists."""
    sections = []
    for section, content in (facts or {}).items():
        if isinstance(content, dict):
            items = [(str(k).replace("_", " "), fact_value(v)) for k, v in content.items()]
        else:
            items = [("", fact_value(content))]
        sections.append((str(section), items))
    return sections


def sentiment_chart(session: Session, incident_id: int) -> tuple[list[dict[str, Any]], Markup | None]:
    """The alerts attached to the incident, and their chart (None without alerts)."""
    alerts = attached_alerts(session, incident_id)
    if not alerts:
        return [], None
    for alert in alerts:  # shown in the viewer's zone
        alert["start"], alert["detected"] = parse_instant(alert["window_start"]), parse_instant(alert["detected_at"])
    svg = render_alerts_svg(alerts_from_json(alerts), title="Sentiment alerts on this incident")
    return alerts, Markup(svg)


def incident_view(session: Session, incident_id: int, who: Viewer, *, all_events: bool) -> dict[str, Any]:
    now = utcnow()
    record = get_incident(session, incident_id)
    events = list(reversed(timeline(session, incident_id)))
    alerts, chart = sentiment_chart(session, incident_id)
    waves = wave_status(session, incident_id)
    shown_events = events if all_events else events[:TIMELINE_SHOWN]
    on_it = Subject(incident_id=incident_id)
    escalations = [
        (e, refusal_of(session, who, Action.ack, Subject(incident_id=incident_id, escalation=e)) is None)
        for e in open_escalations(session, incident_id)
    ]
    return {
        "incident": record,
        "facts": facts_sections(record.facts),
        "roles": roles_of(session, incident_id),
        "clock": clock_view(session, incident_id, now),
        "escalations": escalations,
        "submission_refusal": refusal_of(session, who, Action.record_submission, on_it),
        "drafts": list_drafts(session, incident_id),
        "waves": {"count": len(waves), "running": sum(1 for w in waves if w.status == "running")},
        "runs": runs_of(session, incident_id),
        "alerts": alerts,
        "chart": chart,
        "events": [(e, describe(e.action, e.payload, who.timezone)) for e in shown_events],
        "events_first": TIMELINE_FIRST,
        "events_total": len(events),
        "all_events": all_events,
        "now": now,
        "nav": "incidents",
    }


@router.get("/incidents/{incident}")
def incident_page(request: Request, incident: str, who: LoggedIn, events: str | None = None) -> Response:
    incident_id = incident_id_of(incident)
    with session_scope() as session:
        context = incident_view(session, incident_id, who, all_events=events == "all")
        context["steer"] = steering(session, incident_id, who)  # for the status form
    return page(request, "incident.html", context)


@router.post("/incidents/{incident}/obligations/{rule}/submit")
def submit_obligation(
    request: Request, incident: str, rule: str, who: LoggedIn, form: CheckedForm, tasks: BackgroundTasks
) -> Response:
    """`tocsin submit INCIDENT RULE [--at] [--note]` as the viewer (the commander, legal or the DPO)."""
    incident_id = incident_id_of(incident)
    back = RedirectResponse(f"/incidents/{incident_id}#clock", status_code=303)
    try:
        at = parse_local(text(form, "at"), who.timezone, "submitted at") or utcnow()
        record_submission(who.actor, incident_id, rule, at=at, note=text(form, "note") or None, waker=later(tasks))
    except InvalidInput as error:  # not owed, closed, a bad time: said on the page (a refusal is a 403 page)
        flash(request, str(error), "error")
        return back
    flash(request, f"Submission {_obligation_words(incident_id, rule)} recorded.")
    return back


def _obligation_words(incident_id: int, rule: str) -> str:
    """`to CNIL (GDPR Art. 33(1))` for a flash; the rule id when the obligation has no recipient or citation."""
    with session_scope() as session:
        found = next((o for o in obligations_of(session, incident_id) if o.rule == rule), None)
    if found is None or not (found.recipient or found.citation):
        return f"of {rule}"
    words = f"to {found.recipient}" if found.recipient else f"of {rule}"
    return f"{words} ({found.citation})" if found.citation else words


@router.post("/escalations/{escalation}/ack")
def acknowledge(
    request: Request, escalation: str, who: LoggedIn, form: CheckedForm, tasks: BackgroundTasks
) -> Response:
    """`tocsin ack ESCALATION` as the viewer (a person the page reached)."""
    try:
        escalation_id = parse_escalation_id(escalation)
    except InvalidInput:
        raise NotFound(f"no escalation {escalation[:40]}") from None
    with session_scope() as session:
        found = session.get(Escalation, escalation_id)
        if found is None:
            raise NotFound(f"no escalation E-{escalation_id}")
        incident_id, subject = found.incident_id, found.subject
    back = RedirectResponse(f"/incidents/{incident_id}#escalations", status_code=303)
    try:
        ack(who.actor, escalation_id, waker=later(tasks))
    except (InvalidInput, Conflict) as error:  # already acknowledged: said on the page
        flash(request, str(error), "error")
        return back
    flash(request, f"Escalation {escalation_id} ({subject}) acknowledged: the chain stops.")
    return back
