"""Overdue alerts exactly once across a scheduler killed (SIGKILL) before two deadlines and restarted after
both (SQLite and PostgreSQL): each alert is claimed in the database before it is delivered, delivered once to
each person (one outbox file, one message row), and recorded delivered; a restart fires neither again."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select
from tocsin.models import Obligation, OutboundMessage, ReminderSent

from tests.helpers import add_people, ok, start_scheduler, wait_for
from tocsin.core.clocks import iso_utc
from tocsin.db.engine import current_engine, session_scope

ROOT = Path(__file__).resolve().parents[2]
RULE = "eu.gdpr.art33.supervisory_authority"


def _declare(tmp_path: Path, title: str, aware: datetime) -> int:
    """alice commands, bob is legal (no email addresses: their alerts are outbox chat files)."""
    facts = tmp_path / f"{title}.json"
    facts.write_text(
        json.dumps(
            {
                "entity": {"name": "Shop SAS", "roles": ["controller"], "main_establishment": "FR",
                           "timezone": "Europe/Paris"},
                "facts": {"personal_data_breach": True, "data_subjects": {"FR": 1200}},
                "events": {"aware_personal_data_breach": iso_utc(aware)},
            }
        )
    )  # fmt: skip
    incident = ok("declare", "--title", title, "--aware-at", iso_utc(aware) or "", "--commander", "alice",
                  "--facts", str(facts), "--json").json()["id"]  # fmt: skip
    ok("assign", str(incident), "legal", "bob", "--as", "alice")
    return int(incident)


def _escalations() -> tuple[int, int, int]:
    """(overdue alerts claimed, delivered, escalation messages)."""
    with session_scope() as session:
        claimed = session.exec(select(ReminderSent).where(ReminderSent.lead_minutes == 0)).all()
        messages = session.exec(select(OutboundMessage).where(OutboundMessage.purpose == "escalation")).all()
        return len(claimed), sum(r.delivered_at is not None for r in claimed), len(messages)


def _overdue_jobs_stored(count: int) -> bool:
    with current_engine().connect() as connection:
        ids = connection.execute(sa.text("SELECT id FROM apscheduler_jobs")).scalars().all()
    return sum(i.startswith("reminder:") and ":0:" in i for i in ids) >= count


@pytest.mark.slow
def test_two_overdue_alerts_due_while_down_fire_once_each(tocsin_db: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOCSIN_REMINDER_LEAD_HOURS", "[100]")  # long past: only the overdue alerts are ahead
    add_people("alice", "bob")
    now = datetime.now(UTC).replace(microsecond=0)
    first_due, second_due = timedelta(seconds=14), timedelta(seconds=16)
    _declare(tmp_path, "Orders table copied", now - timedelta(hours=72) + first_due)
    _declare(tmp_path, "Invoices exposed", now - timedelta(hours=72) + second_due)
    both_due_at = time.monotonic() + second_due.total_seconds()
    env = {**os.environ, "TOCSIN_SCHEDULER_SYNC_SECONDS": "1", "PYTHONPATH": str(ROOT)}
    log = tmp_path / "scheduler.log"

    first = start_scheduler(env, log)
    wait_for(lambda: _overdue_jobs_stored(2), 30, "both overdue jobs in the job store")
    assert time.monotonic() < both_due_at - 2, "the scheduler started too slowly for this test"
    os.killpg(first.pid, signal.SIGKILL)  # a crash before either deadline
    first.wait(10)
    time.sleep(max(0.0, both_due_at - time.monotonic()) + 1.0)
    assert _escalations() == (0, 0, 0), "nothing may fire while the scheduler is down"

    second = start_scheduler(env, log)
    try:
        wait_for(lambda: _escalations()[1] == 2, 30, "both overdue alerts delivered")
        time.sleep(2.5)  # more sync and delivery cycles
    finally:
        os.killpg(second.pid, signal.SIGKILL)
        second.wait(10)
    third = start_scheduler(env, log)
    time.sleep(3)
    os.killpg(third.pid, signal.SIGKILL)
    third.wait(10)

    assert _escalations() == (2, 2, 4), log.read_text()[-3000:]  # two alerts, each to alice and bob
    files = sorted(p.name for p in (tmp_path / "tocsin-home" / "outbox").glob("*_reminder-*-0-*"))
    assert len(files) == 4, files  # one file per (alert, person): none written twice
    with session_scope() as session:
        assert len(session.exec(select(Obligation).where(Obligation.rule == RULE)).all()) == 2
