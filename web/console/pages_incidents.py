"""Console pages for incidents: the list, the declare form and the status form (the launch-playbook form is in
pages_launch.py).

Every action calls the same services as the CLI and the JSON API; the acting person is the logged-in
viewer. A refusal by the service (not the commander, not an admin) is already on the incident's timeline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData
from tocsin.models import IncidentKind, IncidentStatus, Severity
from tocsin.web.console.render import page
from tocsin.web.console.session import Viewer, checked_form, flash, viewer

from tocsin.core.clocks import to_utc, utcnow, zone
from tocsin.core.errors import InvalidInput
from tocsin.db.engine import session_scope

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
    from tocsin.playbooks.loader import built_in_paths, load_playbook_file

    return [load_playbook_file(path) for path in built_in_paths().values()]


def incident_id_of(incident: str) -> int:
    from tocsin.incidents.service import parse_incident_id

    return parse_incident_id(incident)


@router.get("/incidents")
def incidents(request: Request, who: LoggedIn, closed: bool = False) -> Response:
    from tocsin.incidents.overview import incident_lines

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
def declare(request: Request, who: LoggedIn, form: CheckedForm) -> Response:
    from tocsin.flows.launch import launch_and_start
    from tocsin.playbooks.loader import get_built_in

    from tocsin.incidents.declaring import build_declaration
    from tocsin.incidents.service import declare as declare_incident

    values = {name: text(form, name) for name in DECLARE_FIELDS}
    values["inputs"] = text(form, "inputs")
    try:
        declaration = build_declaration(
            actor=who.handle,
            title=values["title"],
            kind=values["kind"] or "breach",
            severity=values["severity"] or "SEV2",
            aware_at=parse_local(values["aware_at"], who.timezone, "aware at"),
            commander=values["commander"] or None,
            facts=parse_mapping(values["facts"], "facts"),
            locale=values["locale"] or None,
            timezone=values["timezone"] or None,
        )
        inputs = parse_mapping(values["inputs"], "playbook inputs")
        playbook = get_built_in(values["playbook"]) if values["playbook"] else None
        if playbook is not None:
            inputs = _checked_inputs(playbook, inputs)
        elif inputs:
            raise InvalidInput("playbook inputs were given but no playbook was chosen")
        with session_scope() as session:
            incident = declare_incident(session, declaration, actor=who.handle)
            incident_id, ref = incident.id or 0, incident.ref
    except InvalidInput as error:
        return _declare_form(request, values, str(error), status=422)
    flash(request, f"{ref} declared.")
    if playbook is not None:
        run = launch_and_start(incident_id, playbook.name, inputs, who.handle, as_declarer=True)
        flash(request, f"Playbook {playbook.name} launched (run {run['run']}): {run['urgent']}.")
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


def _checked_inputs(playbook: Any, given: dict[str, Any]) -> dict[str, str]:
    """The inputs typed on the declare form, checked like the launch form's (numbers, emails); recipient and
    mention files are uploaded on the launch page, never named here."""
    from tocsin.web.console.launch_inputs import as_lines, check_values, input_fields, variable_kinds

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
    from tocsin.incidents.lifecycle import TRANSITIONS
    from tocsin.incidents.service import commander_of, get_incident

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


def viewer_may_steer(session: Session, incident_id: int, who: Viewer) -> bool:
    from tocsin.people.permissions import may_steer

    return may_steer(session, incident_id, who.handle)


@router.get("/incidents/{incident}/status")
def status_form(request: Request, incident: str, who: LoggedIn) -> Response:
    incident_id = incident_id_of(incident)
    with session_scope() as session:
        context = {
            "incident": incident_summary(session, incident_id),
            "may_steer": viewer_may_steer(session, incident_id, who),
        }
    return page(request, "status.html", context)


@router.post("/incidents/{incident}/status")
def change_status(request: Request, incident: str, who: LoggedIn, form: CheckedForm) -> Response:
    from tocsin.incidents.service import change_status as move

    incident_id = incident_id_of(incident)
    version = text(form, "version")
    if version and not version.isdigit():
        raise InvalidInput(f"version {version!r} is not a number")
    with session_scope() as session:
        record = move(
            session,
            incident_id,
            text(form, "status"),
            actor=who.handle,
            reason=text(form, "reason") or None,
            expected_version=int(version) if version else None,
        )
        message = f"{record.ref} is now {record.status}."
    flash(request, message)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
