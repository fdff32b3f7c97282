"""Waking playbook runs whose wait has ended (a time passed, or an escalation timed out)."""

from __future__ import annotations

from sqlmodel import col, select
from tocsin.models import RunStatus
from tocsin.models.playbook_run import PlaybookRun

from tocsin.core.clocks import utcnow
from tocsin.db.engine import session_scope


def due_runs() -> list[int]:
    now = utcnow()
    with session_scope() as session:
        statement = select(PlaybookRun.id).where(
            PlaybookRun.status == RunStatus.waiting.value,
            col(PlaybookRun.wake_at).is_not(None),
            col(PlaybookRun.wake_at) <= now,
        )
        return [i for i in session.exec(statement) if i is not None]


def wake_due_runs() -> list[str]:
    from tocsin.flows.launch import dispatch

    return [dispatch(run_id) for run_id in due_runs()]


def wake_run(run_id: int) -> str:
    """APScheduler job: a waiting run's time has come."""
    from tocsin.flows.launch import dispatch

    return dispatch(run_id)
