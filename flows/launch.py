"""Launching a playbook on an incident, and waking a waiting run when what it waits for happens.

`launch` validates the playbook and its inputs, records the run, and runs the urgent first steps
(obligations, channel, first escalations) at once in this process, so nobody waits for a cold
Prefect start to be paged. The rest runs as a Prefect flow: through a deployment and its workers
when a Prefect server is configured (PREFECT_API_URL), otherwise in a background process on the
embedded (ephemeral) Prefect. `wake` starts the next phase the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from sqlmodel import col, select
from tocsin.flows.launch_files import resolve_file_inputs
from tocsin.flows.runner import URGENT, advance
from tocsin.models import RUN_FINISHED, IncidentStatus, RunStatus
from tocsin.models.playbook_run import PlaybookRun
from tocsin.playbooks.loader import get_playbook
from tocsin.playbooks.schema import Playbook

from tocsin.audit.timeline import append_event
from tocsin.core.acting import Actor, acting
from tocsin.core.clocks import utcnow
from tocsin.core.config import get_settings
from tocsin.core.errors import InvalidInput, NotFound
from tocsin.db.engine import session_scope
from tocsin.incidents.service import get_incident
from tocsin.people.authorize import Subject, authorize
from tocsin.policy import Action

DEPLOYMENT = "tocsin-playbook/playbook"


def check_inputs(playbook_name: str, inputs: dict[str, Any], *, actor: Actor | None = None) -> Playbook:
    """The playbook (built in, or a file), if it exists and `inputs` gives every required input and nothing it
    does not take; with `actor`, also every file input as that door may name it, for an incident not declared
    yet (so a declaration with a playbook writes nothing when a file input would be refused at launch)."""
    playbook = get_playbook(playbook_name)
    check_inputs_of(playbook, inputs)
    if actor is not None:
        resolve_file_inputs(playbook, inputs, actor=actor, incident_id=0, home=get_settings().home)
    return playbook


def check_inputs_of(playbook: Playbook, inputs: dict[str, Any]) -> None:
    missing = [i.name for i in playbook.inputs if i.required and i.name not in inputs]
    if missing:
        described = "; ".join(f"{i.name}: {i.description}" for i in playbook.inputs if i.name in missing)
        raise InvalidInput(f"playbook {playbook.name} needs input(s) {', '.join(missing)} ({described})")
    unknown = sorted(set(inputs) - {i.name for i in playbook.inputs})
    if unknown:
        raise InvalidInput(f"playbook {playbook.name} has no input(s) {', '.join(unknown)}")


def launch(
    incident_id: int,
    playbook_name: str,
    *,
    inputs: dict[str, Any] | None = None,
    actor: Actor,
    drill: bool = False,
    as_declarer: bool = False,
) -> int:
    """Record a run of the playbook on the incident, as the `launch` rule allows (the commander or an admin;
    with `as_declarer`, also the declarer launching the first playbook while declaring). Tocsin's own launches
    (a Prefect deployment) act as `Actor.system`. A refusal is on the timeline."""
    playbook = get_playbook(playbook_name)
    with acting(actor), session_scope() as session:
        incident = get_incident(session, incident_id)
        subject = Subject(incident_id=incident_id, as_declarer=as_declarer)
        authorize(session, Action.launch, actor, subject)
        if incident.status == IncidentStatus.closed.value:
            raise InvalidInput(f"{incident.ref} is closed; no playbook can be launched on it")
    inputs = dict(inputs or {})
    check_inputs_of(playbook, inputs)  # the playbook as loaded (a file is not found again by its name)
    # Files are uploads the server issued (a path only from the server itself): nothing else is stored or opened.
    inputs = resolve_file_inputs(playbook, inputs, actor=actor, incident_id=incident_id, home=get_settings().home)
    with acting(actor), session_scope() as session:
        incident = get_incident(session, incident_id)
        active = session.exec(
            select(PlaybookRun).where(
                PlaybookRun.incident_id == incident_id,
                PlaybookRun.playbook == playbook.name,
                col(PlaybookRun.status).in_((RunStatus.running.value, RunStatus.waiting.value)),
            )
        ).first()
        if active is not None:
            raise InvalidInput(f"{playbook.name} is already running on {incident.ref} (run {active.id})")
        run = PlaybookRun(
            incident_id=incident_id,
            playbook=playbook.name,
            playbook_version=playbook.version,
            definition=playbook.model_dump(mode="json", by_alias=True, exclude_none=True),
            inputs=inputs,
            drill=drill,
            started_at=utcnow(),
            launched_by=actor.handle,
        )
        session.add(run)
        session.flush()
        incident.playbook = playbook.name
        append_event(
            session,
            incident,
            actor=actor.handle,
            action="playbook.launched",
            payload={"run": run.id, "playbook": playbook.name, "version": playbook.version, "inputs": sorted(inputs)},
        )
        assert run.id is not None
        return run.id


def launch_and_start(
    incident_id: int,
    playbook: str,
    inputs: dict[str, Any],
    actor: Actor,
    *,
    wait: bool = False,
    as_declarer: bool = False,
) -> dict[str, Any]:
    """Launch, run the urgent steps now, and hand the rest over (CLI, web console and API alike)."""
    run_id = launch(incident_id, playbook, inputs=inputs, actor=actor, as_declarer=as_declarer)
    urgent = start_urgent(run_id)
    handed_to = dispatch(run_id, wait=wait) if urgent not in RUN_FINISHED else "nothing left to run"
    return {"incident": incident_id, "run": run_id, "urgent": urgent, "handed_to": handed_to}


def start_urgent(run_id: int) -> str:
    """Run the leading urgent steps now, in this process."""
    return advance(run_id, only=URGENT)


def dispatch(run_id: int, *, wait: bool = False) -> str:
    """Hand the run to Prefect: a deployment run on a server, else a background (or, with wait, a
    foreground) process on the embedded Prefect. Returns how it was handed over."""
    from tocsin.flows.prefect_env import server_configured

    if get_settings().playbook_executor == "inline":
        return f"inline: {advance(run_id)}"
    if server_configured():
        from tocsin.flows.prefect_env import configure

        configure()
        from prefect.deployments import run_deployment
        from prefect.settings import PREFECT_API_URL, temporary_settings

        # Prefect reads its settings once per process; follow the environment as it is now.
        with temporary_settings(updates={PREFECT_API_URL: os.environ["PREFECT_API_URL"]}):
            flow_run = run_deployment(
                DEPLOYMENT,
                parameters={"run_id": run_id},
                timeout=None if wait else 0,
                as_subflow=False,
                idempotency_key=f"run{run_id}:{utcnow().isoformat()}",
                _sync=True,  # blocking here even when the caller's thread has a running event loop
            )
        return f"deployment {DEPLOYMENT}, flow run {flow_run.id}"
    if wait:
        from tocsin.flows.playbook_flow import playbook_flow

        return f"embedded Prefect: {playbook_flow(run_id)}"
    command = [sys.executable, "-m", "tocsin", "playbook", "resume", str(run_id), "--here"]
    log = open(os.devnull, "wb")  # noqa: SIM115 (the child keeps it)
    subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True, env=os.environ.copy())
    return "background process on the embedded Prefect"


def waiting_runs(incident_id: int | None = None) -> list[int]:
    with session_scope() as session:
        statement = select(PlaybookRun.id).where(PlaybookRun.status == RunStatus.waiting.value)
        if incident_id is not None:
            statement = statement.where(PlaybookRun.incident_id == incident_id)
        return [i for i in session.exec(statement) if i is not None]


def wake(incident_id: int) -> list[str]:
    """Something a run may wait for happened on this incident (an approval, an ack, an event)."""
    return [dispatch(run_id) for run_id in waiting_runs(incident_id)]


def set_inputs(run_id: int, values: dict[str, Any], *, actor: Actor) -> int:
    """Add or replace inputs of a run (validated against the playbook, files as uploads from remote doors);
    returns the incident id."""
    with acting(actor), session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        if run is None:
            raise NotFound(f"no playbook run {run_id}")
        authorize(session, Action.playbook_input, actor, Subject(incident_id=run.incident_id))
        playbook = Playbook.model_validate(run.definition)
        known = {i.name for i in playbook.inputs}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidInput(
                f"playbook {run.playbook} has no input(s) {', '.join(unknown)}; it takes {', '.join(sorted(known))}"
            )
        home = get_settings().home
        values = resolve_file_inputs(playbook, values, actor=actor, incident_id=run.incident_id, home=home)
        run.inputs = {**run.inputs, **values}
        session.add(run)
        append_event(
            session,
            get_incident(session, run.incident_id),
            actor=actor.handle,
            action="playbook.inputs",
            payload={"run": run_id, "inputs": sorted(values)},
        )
        return run.incident_id
