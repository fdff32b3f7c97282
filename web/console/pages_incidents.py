"""Console pages for incidents: the list, the declare form and the status form (the launch-playbook form is in
pages_launch.py).

Each form parses what was typed and calls the action (`tocsin.incidents.actions`) as the logged-in viewer
(`Viewer.actor`, via the console); the action asks the policy, and a refusal (403) is on the incident's
timeline. A form is shown only to those the policy lets use it (`refusal`, which records nothing).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData
from tocsin.models import IncidentKind, IncidentStatus, Severity
from tocsin.playbooks.loader import built_in_paths, get_built_in, load_playbook_file
from tocsin.web.background import later
from tocsin.web.console.launch_inputs import as_lines, check_values, input_fields, variable_kinds
from tocsin.web.console.render import page
from tocsin.web.console.session import Viewer, checked_form, flash, viewer

from tocsin.core.clocks import to_utc, utcnow, zone
from tocsin.core.errors import InvalidInput, NotFound
from tocsin.core.ids import parse_incident_id
from tocsin.db.engine import session_scope
from tocsin.incidents import actions
from tocsin.incidents.lifecycle import TRANSITIONS
from tocsin.incidents.overview import incident_lines
from tocsin.incidents.service import commander_of, get_incident
from tocsin.people.authorize import Subject, refusal
from tocsin.policy import Action

router = APIRouter()
LoggedIn = Annotated[Viewer, Depends(viewer)]
CheckedForm = Annotated[FormData, Depends(checked_form)]
DECLARE_FIELDS = ("title", "kind", "severity", "aware_at", "commander", "timezone", "locale", "facts", "playbook")


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def parse_local(value: str, zone_name: str, field: str) -> datetime | None:
    """A `datetime-local` value (no offset) read in the viewer's zone, or an ISO instant with an offset."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not a date and time (YYYY-MM-DD HH:MM)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(zone_name))
    return to_utc(parsed)


def parse_mapping(value: str, field: str) -> dict[str, Any]:
    """A YAML or JSON mapping typed into a text area; empty → {}."""
    if not value.strip():
        return {}
    try:
        document = yaml.safe_load(value)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InvalidInput(f"{field}: not valid YAML or JSON{where}") from None
    if not isinstance(document, dict):
        raise InvalidInput(f"{field}: expected a mapping (name: value lines), got {type(document).__name__}")
    return document


def built_in_playbooks() -> list[Any]:
    return [load_playbook_file(path) for path in built_in_paths().values()]


def incident_id_of(incident: str) -> int:
    return parse_incident_id(incident)


@router.get("/incidents")
def incidents(request: Request, who: LoggedIn, closed: bool = False) -> Response:
    with session_scope() as session:
        lines = incident_lines(session, now=utcnow(), open_only=not closed)
    return page(request, "incidents.html", {"lines": lines, "show_closed": closed, "who": who})


def _declare_form(request: Request, values: dict[str, str], error: str | None = None, status: int = 200) -> Response:
    context = {
        "values": values,
        "error": error,
        "kinds": [k.value for k in IncidentKind],
        "severities": [s.value for s in Severity],
        "playbooks": built_in_playbooks(),
    }
    return page(request, "incident_new.html", context, status_code=status)


@router.get("/incidents/new")
def declare_form(request: Request, who: LoggedIn) -> Response:
    return _declare_form(request, {"kind": "breach", "severity": "SEV2", "commander": who.handle})


@router.post("/incidents")
def declare(request: Request, who: LoggedIn, form: CheckedForm, tasks: BackgroundTasks) -> Response:
    """`tocsin declare ... [--playbook NAME -i ...]` as the viewer (anyone in the directory may declare)."""
    values = {name: text(form, name) for name in DECLARE_FIELDS}
    values["inputs"] = text(form, "inputs")
    try:
        facts = parse_mapping(values["facts"], "facts")
        inputs = parse_mapping(values["inputs"], "playbook inputs")
        playbook = get_built_in(values["playbook"]) if values["playbook"] else None
        if playbook is not None:
            inputs = _checked_inputs(playbook, inputs)
        elif inputs:
            raise InvalidInput("playbook inputs were given but no playbook was chosen")
        declared = actions.declare(
            who.actor,
            title=values["title"],
            kind=values["kind"] or "breach",
            severity=values["severity"] or "SEV2",
            aware_at=parse_local(values["aware_at"], who.timezone, "aware at"),
            commander=values["commander"] or None,
            facts=facts,
            locale=values["locale"] or None,
            timezone=values["timezone"] or None,
            playbook=playbook.name if playbook is not None else None,
            inputs=inputs if playbook is not None else None,
            waker=later(tasks),
        )
    except (InvalidInput, NotFound) as error:  # a bad field, or a commander not in the directory: say it on the form
        return _declare_form(request, values, str(error), status=422)
    flash(request, f"{declared['ref']} declared.")
    run = declared.get("playbook_run")
    if run is not None:
        flash(request, f"Playbook {values['playbook']} launched (run {run['run']}): {run['urgent']}.")
    return RedirectResponse(f"/incidents/{declared['id']}", status_code=303)


def _checked_inputs(playbook: Any, given: dict[str, Any]) -> dict[str, str]:
    """The inputs typed on the declare form, checked like the launch form's (numbers, emails); recipient and
    mention files are uploaded on the launch page, never named here."""
    unknown = sorted(set(given) - {i.name for i in playbook.inputs})
    if unknown:
        raise InvalidInput(f"playbook {playbook.name} has no input(s) {', '.join(unknown)}")
    values = {str(k): "" if v is None else str(v) for k, v in given.items()}
    fields = [f for f in input_fields(playbook, variable_kinds(playbook)) if f.name in values]
    checked, problems = check_values(fields, values)
    if problems:
        raise InvalidInput(f"playbook inputs: {as_lines(problems)}")
    return checked


def incident_summary(session: Session, incident_id: int) -> dict[str, Any]:
    """What the status form and page heads show of an incident, read in the caller's transaction."""
    record = get_incident(session, incident_id)
    return {
        "id": incident_id,
        "ref": record.ref,
        "title": record.title,
        "status": record.status,
        "severity": record.severity,
        "kind": record.kind,
        "version": record.version,
        "playbook": record.playbook,
        "commander": commander_of(session, incident_id),
        "next_statuses": [s.value for s in TRANSITIONS[IncidentStatus(record.status)]],
    }


def refusal_of(session: Session, who: Viewer, action: Action, subject: Subject) -> str | None:
    """Why the viewer may not take `action` (None: they may), to offer a form only to those who may use it. The
    action asks the policy again when the form is posted (and records a refusal); this records nothing."""
    return refusal(session, action, who.actor, subject)


def status_action(status: str) -> Action:
    """The policy's action for moving to `status`: closing is its own rule."""
    return Action.close if status == IncidentStatus.closed.value else Action.change_status


def steering(session: Session, incident_id: int, who: Viewer) -> dict[str, Any]:
    """What the status form needs: the incident, the statuses the viewer may move it to, and why not if none."""
    summary = incident_summary(session, incident_id)
    on_it = Subject(incident_id=incident_id)
    why = {
        action: refusal_of(session, who, action, on_it)
        for action in dict.fromkeys(status_action(s) for s in summary["next_statuses"])  # in the statuses' order
    }
    allowed = [s for s in summary["next_statuses"] if why[status_action(s)] is None]
    refused = next((reason for reason in why.values() if reason is not None), None)
    return {**summary, "allowed_statuses": allowed, "steer_refusal": None if allowed else refused}


@router.get("/incidents/{incident}/status")
def status_form(request: Request, incident: str, who: LoggedIn) -> Response:
    incident_id = incident_id_of(incident)
    with session_scope() as session:
        context = {"incident": steering(session, incident_id, who)}
    return page(request, "status.html", context)


@router.post("/incidents/{incident}/status")
def change_status(
    request: Request, incident: str, who: LoggedIn, form: CheckedForm, tasks: BackgroundTasks
) -> Response:
    """`tocsin status INCIDENT STATUS --reason ...` (closing: `tocsin close`) as the viewer."""
    incident_id = incident_id_of(incident)
    version = text(form, "version")
    if version and not version.isdigit():
        raise InvalidInput(f"version {version!r} is not a number")
    changed = actions.change_status(
        who.actor,
        incident_id,
        text(form, "status"),
        reason=text(form, "reason") or None,
        expected_version=int(version) if version else None,
        waker=later(tasks),
    )
    flash(request, f"{changed['ref']} is now {changed['status']}.")
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
