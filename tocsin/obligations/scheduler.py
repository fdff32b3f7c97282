"""The scheduler process: APScheduler with its job store in Tocsin's own database.

`tocsin scheduler run` keeps one date job per upcoming reminder in the `apscheduler_jobs` table, so the
countdown survives restarts: a reminder that fell due while the process was down fires once when it
comes back (misfire grace unlimited, coalesced), never twice: claimed in the database, then delivered, then
recorded delivered, and one claimed but not delivered at a crash is delivered by the next pass (see
reminders.py). A sync job re-reads
the obligations every `scheduler_sync_seconds` and adds or removes reminder jobs to match; a wake job
per waiting playbook run starts its next phase at its `wake_at`. Every `scheduler_sync_seconds` the
escalate-and-deliver job moves every acknowledge-or-escalate chain whose ack timeout passed (playbook run or
not: `advance_due_escalations`) and retries the messages whose backoff is over.
`run_pass` (`tocsin scheduler run --once`, the `tocsin-reminders` Prefect flow) does all of it once.
Only one scheduler may run per database: a lock (PostgreSQL advisory lock, or a lock file next to
the SQLite database) refuses a second one.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine, text

from tocsin.core.clocks import utcnow
from tocsin.core.config import get_settings
from tocsin.core.errors import Conflict
from tocsin.db.engine import current_engine
from tocsin.messages.escalations import advance_due_escalations
from tocsin.messages.queue import deliver_due
from tocsin.models import RunStatus
from tocsin.obligations.reminders import DELIVERY_LOCK, deliver_claimed, desired_jobs, fire_reminder

log = logging.getLogger("tocsin.obligations.scheduler")
JOBS_TABLE = "apscheduler_jobs"
SYNC_JOB = "sync-reminders"
DELIVER_JOB = "deliver-messages"
_ADVISORY_KEY = 0x70C517  # "tocsin" scheduler lock

_scheduler: BaseScheduler | None = None


def sync_reminders() -> None:
    """Make the scheduled reminder jobs match the obligations (module-level: APScheduler pickles it)."""
    scheduler = _scheduler
    if scheduler is None:
        return
    now = utcnow()
    wanted = {
        job_id: (fire_reminder, [o, lead, deadline.isoformat()], run_at)
        for job_id, (o, lead, deadline, run_at) in desired_jobs(now).items()
    }
    wanted.update(_wake_jobs())
    existing = {job.id for job in scheduler.get_jobs() if job.id.startswith(("reminder:", "wake:"))}
    for stale in existing - set(wanted):
        scheduler.remove_job(stale)
    for job_id in set(wanted) - existing:
        function, args, run_at = wanted[job_id]
        scheduler.add_job(function, "date", run_date=max(run_at, now), args=args, id=job_id, replace_existing=True)


def _wake_jobs() -> dict[str, tuple[Callable[..., object], list[object], datetime]]:
    """A job per waiting playbook run with a wake time: it starts the run's next phase then."""
    from sqlmodel import col, select

    from tocsin.db.engine import session_scope
    from tocsin.flows.wake import wake_run
    from tocsin.models.playbook_run import PlaybookRun

    with session_scope() as session:
        runs = session.exec(
            select(PlaybookRun).where(
                PlaybookRun.status == RunStatus.waiting.value, col(PlaybookRun.wake_at).is_not(None)
            )
        )
        return {
            f"wake:{run.id}:{int(run.wake_at.timestamp())}": (wake_run, [run.id], run.wake_at)
            for run in runs
            if run.wake_at is not None
        }


def build_scheduler(engine: Engine) -> BlockingScheduler:
    global _scheduler
    settings = get_settings()
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        timezone=UTC,
    )
    scheduler.add_job(
        sync_reminders,
        "interval",
        seconds=settings.scheduler_sync_seconds,
        id=SYNC_JOB,
        replace_existing=True,
        next_run_time=utcnow(),
    )
    # Chains whose ack timeout passed move on (whether a playbook run waits on them or not), and messages a
    # channel refused for a transient reason are retried, once their backoff is over.
    scheduler.add_job(
        escalate_and_deliver,
        "interval",
        seconds=settings.scheduler_sync_seconds,
        id=DELIVER_JOB,
        replace_existing=True,
    )
    _scheduler = scheduler
    return scheduler


@contextmanager
def single_scheduler(engine: Engine) -> Iterator[None]:
    """Hold the one-scheduler-per-database lock, or refuse with a clear error."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            if not connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _ADVISORY_KEY}).scalar():
                raise Conflict("another `tocsin scheduler` is already running against this database")
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_KEY})
        return
    database = engine.url.database or "memory"
    lock_path = Path(f"{database}.scheduler.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(f"another `tocsin scheduler` is already running (lock {lock_path})") from None
        yield


def run_forever() -> None:
    engine = current_engine()
    with single_scheduler(engine):
        scheduler = build_scheduler(engine)
        log.info("scheduler started; reminders at %s h before each deadline", get_settings().reminder_lead_hours)
        scheduler.start()


def escalate_and_deliver() -> int:
    """The resident scheduler's interval job (module-level: APScheduler pickles it): move the due chains, then
    deliver what is due (their pages, and the retries whose backoff is over)."""
    advance_due_escalations()
    deliver_claimed()  # reminders claimed before a crash and not delivered: once, now
    with DELIVERY_LOCK:
        return deliver_due()


@dataclass
class PassReport:
    reminders: int = 0  # reminders and overdue escalations sent
    escalations: list[str] = field(default_factory=list)  # chains moved on
    runs_woken: list[str] = field(default_factory=list)  # how each run whose wait ended was handed over
    delivered: int = 0


def send_due_reminders() -> int:
    sent = 0
    for obligation_id, lead, deadline, run_at in desired_jobs(utcnow()).values():
        if run_at <= utcnow() and fire_reminder(obligation_id, lead, deadline.isoformat()):
            sent += 1
    return sent


def run_pass() -> PassReport:
    """One pass without a resident process (cron, the `tocsin-reminders` Prefect flow): every reminder due now,
    every chain whose ack timeout passed, every run whose wait ended (each woken once, after the chains moved,
    so a run waiting on a chain finds it moved and waits for the next level), then delivery."""
    from tocsin.flows.wake import wake_due_runs

    report = PassReport(reminders=send_due_reminders())
    report.escalations = advance_due_escalations()
    report.runs_woken = wake_due_runs()
    deliver_claimed()  # reminders claimed before a crash and not delivered
    with DELIVERY_LOCK:
        report.delivered = deliver_due()  # and retry the messages whose backoff is over
    return report


def run_once() -> int:
    """`tocsin scheduler run --once`: one pass (`run_pass`); returns the number of reminders sent."""
    return run_pass().reminders
