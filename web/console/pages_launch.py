"""The launch-playbook page: GET /incidents/{id}/launch (the built-in playbooks; `?playbook=NAME` opens its
inputs form) and POST /incidents/{id}/launch (multipart: typed inputs and uploaded recipient / mention files).

Order of a launch: the log-in (`viewer`: an anonymous post is redirected before its body is read, since the
form is read by the `checked_form` dependency declared after it), the form's CSRF token, then the policy
(`authorize`, the same check the launch action makes: a refusal is on the timeline as `playbook.launch_refused`
and no file the person sent is stored), then the typed inputs and the uploaded files are checked (a bad row
refuses the whole form with its line number, nothing launched, the stored file removed), then the launch action
(`tocsin.incidents.actions.launch`, as `tocsin launch`) runs as the viewer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select
from starlette.datastructures import FormData
from tocsin.flows.launch_files import UPLOAD_PREFIX
from tocsin.models.playbook_run import PlaybookRun
from tocsin.playbooks.loader import get_built_in
from tocsin.web.console.launch_inputs import InputField, Problems, check_values, input_fields, variable_kinds
from tocsin.web.console.pages_incidents import built_in_playbooks, incident_id_of, incident_summary, refusal_of, text
from tocsin.web.console.render import page
from tocsin.web.console.session import Viewer, checked_form, flash, viewer
from tocsin.web.console.uploads import discard, file_problems, is_upload, store_upload, upload_id_of

from tocsin.core.acting import acting
from tocsin.core.config import Settings
from tocsin.core.errors import InvalidInput
from tocsin.db.engine import session_scope
from tocsin.incidents import actions
from tocsin.incidents.service import get_incident
from tocsin.people.authorize import Subject, authorize
from tocsin.policy import Action

router = APIRouter()
LoggedIn = Annotated[Viewer, Depends(viewer)]
CheckedForm = Annotated[FormData, Depends(checked_form)]


def _form_page(
    request: Request,
    incident_id: int,
    who: Viewer,
    chosen: str | None,
    *,
    values: dict[str, str] | None = None,
    problems: Problems | None = None,
    status: int = 200,
) -> Response:
    playbooks = built_in_playbooks()
    if chosen is not None and chosen not in {p.name for p in playbooks}:
        raise InvalidInput(f"no built-in playbook {chosen!r}; built in: {', '.join(p.name for p in playbooks)}")
    settings: Settings = request.app.state.settings
    fields = {p.name: input_fields(p, variable_kinds(p)) for p in playbooks if p.name == chosen}
    with session_scope() as session:
        summary = incident_summary(session, incident_id)
        launch_refusal = refusal_of(session, who, Action.launch, Subject(incident_id=incident_id))
    context = {
        "incident": summary,
        "playbooks": playbooks,
        "chosen": chosen,
        "fields": fields.get(chosen or "", []),
        "values": values or {},
        "problems": problems or {},
        "launch_refusal": launch_refusal,
        "retention": {"recipients": settings.recipient_retention_days, "mentions": settings.mention_retention_days},
    }
    return page(request, "launch.html", context, status_code=status)


@router.get("/incidents/{incident}/launch")
def launch_form(request: Request, incident: str, who: LoggedIn, playbook: str | None = None) -> Response:
    return _form_page(request, incident_id_of(incident), who, playbook)


def _authorize(incident_id: int, who: Viewer) -> None:
    """Ask the policy (as the launch action will) before reading or storing anything the viewer sent: a refusal
    is recorded on the timeline and answered 403, and no uploaded file is ever kept for it."""
    with acting(who.actor), session_scope() as session:
        get_incident(session, incident_id)
        authorize(session, Action.launch, who.actor, Subject(incident_id=incident_id))


def _store_files(
    form: FormData, fields: list[InputField], settings: Settings, incident_id: int, problems: Problems
) -> tuple[dict[str, Path], list[Path]]:
    """Store and check every uploaded file: input name -> stored file for the good ones; what is wrong with the
    others goes into `problems` (their stored copies are in the returned list too, to be discarded)."""
    good: dict[str, Path] = {}
    stored: list[Path] = []
    for field in fields:
        if field.widget != "file" or field.file_kind is None:
            continue
        upload = form.get(f"input.{field.name}")
        if not is_upload(upload):
            if field.required:
                problems.setdefault(field.name, []).append(f"required: choose the {field.file_kind} file")
            continue
        path = store_upload(upload, field.file_kind, home=settings.home, incident_id=incident_id)
        stored.append(path)
        bad = file_problems(field.file_kind, path)
        if bad:
            name = str(getattr(upload, "filename", ""))[:80]
            problems.setdefault(field.name, []).extend([f"{name} was refused", *bad])
        else:
            good[field.name] = path
    return good, stored


def _run_recorded(incident_id: int, playbook: str, inputs: dict[str, Any]) -> bool:
    """True when a run of `playbook` on the incident holds these stored files (they must then stay)."""
    with session_scope() as session:
        latest = session.exec(
            select(PlaybookRun)
            .where(PlaybookRun.incident_id == incident_id, PlaybookRun.playbook == playbook)
            .order_by(col(PlaybookRun.id).desc())
        ).first()
        return latest is not None and all(latest.inputs.get(k) == v for k, v in inputs.items())


@router.post("/incidents/{incident}/launch")
def launch(request: Request, incident: str, who: LoggedIn, form: CheckedForm) -> Response:
    """`tocsin launch INCIDENT PLAYBOOK -i NAME=VALUE ...` as the viewer (the commander or an admin). `who` is
    declared before `form`: FastAPI solves them in order, so an anonymous post is redirected unread."""
    settings: Settings = request.app.state.settings
    incident_id = incident_id_of(incident)
    playbook = get_built_in(text(form, "playbook"))
    _authorize(incident_id, who)  # Forbidden → 403 page, on the timeline
    fields = input_fields(playbook, variable_kinds(playbook))
    typed = {f.name: text(form, f"input.{f.name}") for f in fields if f.widget != "file"}
    inputs, problems = check_values(fields, typed)
    files, stored = _store_files(form, fields, settings, incident_id, problems)
    if problems:
        discard(stored)
        return _form_page(request, incident_id, who, playbook.name, values=typed, problems=problems, status=422)
    inputs.update({name: UPLOAD_PREFIX + upload_id_of(path) for name, path in files.items()})  # never a path
    try:
        run = actions.launch(who.actor, incident_id, playbook.name, inputs)
    except BaseException:
        if not (files and _run_recorded(incident_id, playbook.name, {k: str(v) for k, v in files.items()})):
            discard(stored)
        raise
    flash(request, f"Playbook {playbook.name} launched (run {run['run']}): urgent steps {run['urgent']}.")
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
