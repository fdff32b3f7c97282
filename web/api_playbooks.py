"""Playbooks over HTTP: upload the files a launch needs, launch a built-in playbook on an incident, follow its
runs, give a waiting run its inputs, and the checklist tasks runs assign (list, mark done). Changes go through
`tocsin.incidents.actions`.

A file input (a recipients list, a mentions stream) is never a path: `POST /api/uploads` stores and checks the
file and answers its id, and the launch names it as `"recipients": "upload:<id>"`. That route reads its form
itself, after the token, the policy and the per-person cap passed (`tocsin.flows.uploads`): FastAPI would parse
(and spool to disk) a declared form body before any dependency ran, so before an anonymous caller got 401."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from tocsin.flows import uploads
from tocsin.flows.launch_files import UPLOAD_PREFIX, FileKind
from tocsin.flows.progress import runs_of
from tocsin.playbooks.loader import get_built_in
from tocsin.web.auth import Caller
from tocsin.web.background import later
from tocsin.web.console.uploads import discard, file_problems, store_upload, upload_id_of
from tocsin.web.schemas import LaunchBody, RunInputsBody

from tocsin.core.acting import Actor
from tocsin.core.clocks import iso_utc
from tocsin.core.config import Settings
from tocsin.core.errors import InvalidInput
from tocsin.core.ids import parse_incident_id, parse_row_id
from tocsin.db.engine import session_scope
from tocsin.incidents import actions
from tocsin.incidents.checklists import items_of
from tocsin.incidents.service import get_incident

router = APIRouter(prefix="/api", tags=["playbooks"])


UPLOAD_FORM: dict[str, Any] = {  # the form is read by the route itself (after the caller is known), not by FastAPI
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "kind": {"type": "string", "enum": [k.value for k in FileKind], "default": "recipients"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/uploads",
    status_code=201,
    summary="Upload a recipients (CSV/JSONL) or mentions (JSONL) file for a launch; answers the `upload:<id>` to give "
    f"(commander, legal or DPO of an open incident, or an admin; at most {uploads.MAX_UNUSED_UPLOADS} unused uploads "
    "per person)",
    responses={
        403: {"description": "The caller may not launch or give inputs anywhere (policy upload.create)"},
        422: {"description": "Not a kind of file a playbook reads, bad rows (named by line), or too many unused"},
    },
    openapi_extra=UPLOAD_FORM,
)
async def upload(request: Request, caller: Caller) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    # The policy and the cap first: nothing the caller sends is read (or spooled to disk) before they pass.
    await run_in_threadpool(uploads.check_may_upload, caller, home=settings.home)
    async with request.form(max_files=1, max_fields=4) as form:
        file, kind = _upload_parts(form)
        return await run_in_threadpool(_store, file, kind, caller, settings.home)


def _upload_parts(form: FormData) -> tuple[UploadFile, FileKind]:
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise InvalidInput("a file part named `file` is needed (multipart/form-data)", where="file")
    kind = form.get("kind", FileKind.recipients.value)
    chosen = {k.value: k for k in FileKind}.get(kind) if isinstance(kind, str) else None
    if chosen is None:
        raise InvalidInput(f"{str(kind)[:40]!r} is not a kind of file; one of: {', '.join(FileKind)}", where="kind")
    return file, chosen


def _store(file: UploadFile, kind: FileKind, caller: Actor, home: Path) -> dict[str, Any]:
    """Store and check the file, then record it as the caller's; on any refusal the stored file is removed."""
    path = store_upload(file, kind.value, home=home)
    try:
        problems = file_problems(kind.value, path)
        if problems:
            raise InvalidInput(f"{(file.filename or 'the file')[:80]} was refused: {'; '.join(problems)}", where="file")
        upload_id = upload_id_of(path)
        uploads.record_upload(caller, upload_id, kind, home=home)
    except BaseException:
        discard([path])
        raise
    return {"id": upload_id, "kind": kind.value, "input": f"{UPLOAD_PREFIX}{upload_id}"}


@router.post(
    "/incidents/{incident}/playbooks",
    status_code=201,
    summary="Launch a playbook: urgent steps now, the rest handed to Prefect (the incident's commander or an admin)",
)
def launch(incident: str, body: LaunchBody, caller: Caller) -> dict[str, Any]:
    playbook = get_built_in(body.playbook.strip())  # a name, never a path on the server
    return actions.launch(caller, parse_incident_id(incident), playbook.name, body.inputs)


@router.get("/incidents/{incident}/runs", summary="The incident's playbook runs and the state of every step")
def runs(incident: str, _caller: Caller) -> list[dict[str, Any]]:
    incident_id = parse_incident_id(incident)
    with session_scope() as session:
        get_incident(session, incident_id)
        return runs_of(session, incident_id)


@router.post(
    "/runs/{run}/inputs",
    summary="Give a waiting run the inputs it asks for, and let it continue (commander, legal, DPO or admin)",
)
def run_inputs(run: str, body: RunInputsBody, caller: Caller, tasks: BackgroundTasks) -> dict[str, Any]:
    run_id = parse_row_id(run, "a playbook run")
    incident_id = actions.playbook_input(caller, run_id, body.inputs, waker=later(tasks))
    return {"run": run_id, "incident": f"INC-{incident_id}"}


@router.get("/incidents/{incident}/tasks", summary="The incident's checklist tasks, with their due times")
def checklist(incident: str, _caller: Caller) -> list[dict[str, Any]]:
    incident_id = parse_incident_id(incident)
    with session_scope() as session:
        get_incident(session, incident_id)
        return [
            {
                "id": i.id,
                "incident": f"INC-{i.incident_id}",
                "title": i.title,
                "role": i.role,
                "due": iso_utc(i.due_at),
                "done_at": iso_utc(i.done_at),
                "done_by": i.done_by,
            }
            for i in items_of(session, incident_id)
        ]


@router.post("/tasks/{task}/done", summary="Mark a checklist task done (its role, or the commander)")
def task_done(task: str, caller: Caller, tasks: BackgroundTasks) -> dict[str, Any]:
    return actions.task_done(caller, parse_row_id(task, "a checklist task"), waker=later(tasks))
