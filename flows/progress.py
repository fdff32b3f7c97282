"""A playbook run's progress as plain data (for `tocsin runs`, `tocsin show`, the console)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select
from tocsin.models import StepStatus
from tocsin.models.playbook_run import PlaybookRun, PlaybookStepState
from tocsin.playbooks.schema import Playbook

from tocsin.core.clocks import iso_utc


def runs_of(session: Session, incident_id: int) -> list[dict[str, Any]]:
    runs = session.exec(select(PlaybookRun).where(PlaybookRun.incident_id == incident_id).order_by(col(PlaybookRun.id)))
    result = []
    for run in runs:
        states = {
            s.step_id: s for s in session.exec(select(PlaybookStepState).where(PlaybookStepState.run_id == run.id))
        }
        steps = []
        for step in Playbook.model_validate(run.definition).steps:
            state = states.get(step.id)
            steps.append(
                {
                    "step": step.id,
                    "type": step.type,
                    "title": step.title,
                    "status": state.status if state else StepStatus.pending,
                    "note": state.note if state else None,
                    "finished_at": iso_utc(state.finished_at) if state else None,
                    "wake_at": iso_utc(state.wake_at) if state else None,
                }
            )
        result.append(
            {
                "run": run.id,
                "playbook": run.playbook,
                "version": run.playbook_version,
                "status": run.status,
                "waiting_for": run.waiting_for,
                "drill": run.drill,
                "started_at": iso_utc(run.started_at),
                "finished_at": iso_utc(run.finished_at),
                "flow_runs": run.flow_run_ids,
                "steps": steps,
            }
        )
    return result
