"""Playbooks over HTTP: launch a built-in playbook on an incident, follow its runs, give a waiting run its
inputs, and the checklist tasks runs assign (list, mark done). Changes go through `tocsin.incidents.actions`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks
from tocsin.flows.progress import runs_of
from tocsin.playbooks.loader import get_built_in
from tocsin.web.auth import Caller
from tocsin.web.background import later
from tocsin.web.schemas import LaunchBody, RunInputsBody

from tocsin.core.clocks import iso_utc
from tocsin.core.ids import parse_incident_id, parse_row_id
from tocsin.db.engine import session_scope
from tocsin.incidents import actions
from tocsin.incidents.checklists import items_of
from tocsin.incidents.service import get_incident

router = APIRouter(prefix="/api", tags=["playbooks"])


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
