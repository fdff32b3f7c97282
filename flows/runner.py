"""The step engine: walks a playbook run's steps in order, persisting each step's outcome.

It is independent of Prefect: `advance` takes the function that executes one step, so the Prefect
flow (flows/playbook_flow.py) wraps each step in a task, while `tocsin launch` runs the urgent first
steps inline (the first escalation must not wait for a cold Prefect start) and drills and tests call
it directly. A step that must wait (for a person or a time) leaves the run `waiting`; the run is
advanced again by the event or the time it waits for, and completed steps are never run twice.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select
from tocsin.flows.step_types import Outcome, StepContext, handler_for
from tocsin.models import RUN_FINISHED, STEP_FINISHED, RunStatus, StepStatus
from tocsin.models.playbook_run import PlaybookRun, PlaybookStepState
from tocsin.playbooks.logic import holds
from tocsin.playbooks.schema import Playbook

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import iso_utc, utcnow
from tocsin.core.errors import NotFound, TocsinError
from tocsin.db.engine import session_scope
from tocsin.incidents.service import get_incident
from tocsin.messages.queue import deliver_pending
from tocsin.obligations.service import obligations_of

FINISHED = STEP_FINISHED  # a step never run again
# Steps a launch runs at once, before Prefect takes over: they page people and start the clock.
URGENT = ("compute_obligations", "open_channel", "escalate", "set_status", "checklist")

StepRunner = Callable[[int, str], str]
LEASE_SECONDS = 300  # renewed before every step


def playbook_of(run: PlaybookRun) -> Playbook:
    return Playbook.model_validate(run.definition)


def run_step(run_id: int, step_id: str) -> str:
    """Execute one step (if not finished) in its own transaction, then deliver the messages it recorded;
    returns the step's status afterwards."""
    status = _run_step(run_id, step_id)
    with session_scope() as session:
        deliver_pending(session)
    return status


def _run_step(run_id: int, step_id: str) -> str:
    with session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        if run is None:
            raise NotFound(f"no playbook run {run_id}")
        playbook = playbook_of(run)
        position, step = next((i, s) for i, s in enumerate(playbook.steps) if s.id == step_id)
        state = session.exec(
            select(PlaybookStepState).where(PlaybookStepState.run_id == run_id, PlaybookStepState.step_id == step_id)
        ).first()
        if state is None:
            state = PlaybookStepState(run_id=run_id, step_id=step_id, position=position, step_type=step.type)
        if state.status in FINISHED:
            return state.status
        incident = get_incident(session, run.incident_id)
        now = utcnow()
        state.started_at = state.started_at or now
        state.attempts += 1
        owed = {o.rule for o in obligations_of(session, run.incident_id)}
        if not holds(step.when, incident.facts or {}, owed):
            outcome = Outcome.skipped("its condition does not hold for this incident")
        else:
            context = StepContext(session=session, run=run, incident=incident, state=state, step=step, now=now)
            outcome = handler_for(step.type)(context, step)
        _record(session, run, incident, state, outcome, now)
        return state.status


def _record(session, run, incident, state, outcome: Outcome, now: datetime) -> None:  # type: ignore[no-untyped-def]
    before = state.status
    state.status, state.note, state.wake_at = outcome.status, outcome.note, outcome.wake_at
    state.result = {**state.result, **outcome.result}
    if outcome.status in FINISHED:
        state.finished_at = now
    session.add(state)
    if outcome.status != before or outcome.status in FINISHED:
        append_event(
            session,
            incident,
            actor="playbook",
            action=f"playbook.step_{outcome.status}",
            payload={
                "run": run.id,
                "playbook": run.playbook,
                "step": state.step_id,
                "type": state.step_type,
                "note": outcome.note,
                "wake_at": iso_utc(outcome.wake_at),
                "result": outcome.result,
            },
        )


def step_type(run_id: int, step_id: str) -> str:
    with session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        if run is None:
            raise NotFound(f"no playbook run {run_id}")
        return next(s.type for s in playbook_of(run).steps if s.id == step_id)


def note_flow_run(run_id: int, flow_run_id: str) -> None:
    """Put the Prefect flow run id on the run and on the timeline."""
    if not flow_run_id:
        return
    with session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        if run is None:
            raise NotFound(f"no playbook run {run_id}")
        run.flow_run_ids = [*run.flow_run_ids, flow_run_id]
        session.add(run)
        append_event(
            session,
            get_incident(session, run.incident_id),
            actor="playbook",
            action="playbook.flow_run",
            payload={"run": run_id, "playbook": run.playbook, "flow_run_id": flow_run_id},
        )


def _owner_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_is_dead(owner: str | None) -> bool:
    """A lease held by a process of this machine that no longer exists (killed mid-phase)."""
    if not owner or owner.count(":") < 2:
        return False
    host, pid, _token = owner.rsplit(":", 2)
    if host != socket.gethostname()[:30] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire_lease(run_id: int, seconds: float = LEASE_SECONDS) -> str | None:
    """Take the run for this process (real time, not drill time); None if another live runner holds it."""
    owner = _owner_id()
    now = datetime.now(UTC)
    with session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        if run is None:
            raise NotFound(f"no playbook run {run_id}")
        holder = run.lease_owner if run.lease_until is not None and run.lease_until >= now else None
        if holder is not None and not _holder_is_dead(holder):
            return None
        taken = session.execute(
            update(PlaybookRun)
            .where(
                col(PlaybookRun.id) == run_id,
                or_(col(PlaybookRun.lease_owner).is_(None), col(PlaybookRun.lease_owner) == run.lease_owner),
            )
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
        )
    return owner if taken.rowcount == 1 else None


def renew_lease(run_id: int, owner: str, seconds: float = LEASE_SECONDS) -> None:
    with session_scope() as session:
        session.execute(
            update(PlaybookRun)
            .where(col(PlaybookRun.id) == run_id, col(PlaybookRun.lease_owner) == owner)
            .values(lease_until=datetime.now(UTC) + timedelta(seconds=seconds))
        )


def release_lease(run_id: int, owner: str) -> None:
    with session_scope() as session:
        session.execute(
            update(PlaybookRun)
            .where(col(PlaybookRun.id) == run_id, col(PlaybookRun.lease_owner) == owner)
            .values(lease_owner=None, lease_until=None)
        )


def advance(run_id: int, step_runner: StepRunner = run_step, *, only: tuple[str, ...] | None = None) -> str:
    """Run steps in order until one waits or all are finished. Returns the run's status (a `RunStatus`), or
    `busy` when another runner is advancing it right now.

    `only` limits this pass to a leading stretch of steps of those types (the urgent prefix).
    """
    owner = acquire_lease(run_id)
    if owner is None:
        return "busy"
    try:
        return _advance(run_id, step_runner, only, owner)
    finally:
        release_lease(run_id, owner)


def _advance(run_id: int, step_runner: StepRunner, only: tuple[str, ...] | None, owner: str) -> str:
    with session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        if run is None:
            raise NotFound(f"no playbook run {run_id}")
        if run.status in RUN_FINISHED:
            return RunStatus(run.status)
        steps = playbook_of(run).steps
    for step in steps:
        if only is not None and step.type not in only:
            return _set_run(run_id, RunStatus.running, None, None)
        renew_lease(run_id, owner)
        try:
            status = step_runner(run_id, step.id)
        except TocsinError as error:
            _fail_step(run_id, step.id, str(error))
            return _set_run(run_id, RunStatus.failed, f"step {step.id}: {error}", None)
        if status == StepStatus.waiting:
            with session_scope() as session:
                state = session.exec(
                    select(PlaybookStepState).where(
                        PlaybookStepState.run_id == run_id, PlaybookStepState.step_id == step.id
                    )
                ).one()
                note, wake_at = f"step {step.id}: {state.note}", state.wake_at
            return _set_run(run_id, RunStatus.waiting, note, wake_at)
    return _set_run(run_id, RunStatus.completed, None, None)


def _fail_step(run_id: int, step_id: str, reason: str) -> None:
    with session_scope() as session:
        state = session.exec(
            select(PlaybookStepState).where(PlaybookStepState.run_id == run_id, PlaybookStepState.step_id == step_id)
        ).first()
        if state is not None:
            state.status, state.note = StepStatus.failed, reason
            session.add(state)


def _set_run(run_id: int, status: RunStatus, waiting_for: str | None, wake_at: datetime | None) -> str:
    with session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        assert run is not None
        changed = run.status != status or run.waiting_for != waiting_for
        run.status, run.waiting_for, run.wake_at = status, waiting_for, wake_at
        if status in RUN_FINISHED:
            run.finished_at = utcnow()
        session.add(run)
        if changed and status != RunStatus.running:
            append_event(
                session,
                get_incident(session, run.incident_id),
                actor="playbook",
                action=f"playbook.{status.value}",
                payload={
                    "run": run_id,
                    "playbook": run.playbook,
                    "waiting_for": waiting_for,
                    "wake_at": iso_utc(wake_at),
                },
            )
    return status
