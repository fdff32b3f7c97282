"""Reminders before deadlines and escalation after them: once each, across crashes and restarts."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from tocsin.models import AuditEvent, Obligation, OutboundMessage, ReminderSent

from tests.helpers import add_people, ok, send_email_through, start_scheduler, wait_for
from tocsin.core.clocks import FixedClock, iso_utc, use_clock
from tocsin.db.engine import session_scope
from tocsin.obligations.reminders import desired_jobs, fire_reminder

ROOT = Path(__file__).resolve().parents[2]


def _gdpr_facts(aware: datetime) -> str:
    return json.dumps(
        {
            "entity": {
                "name": "Shop SAS",
                "roles": ["controller"],
                "main_establishment": "FR",
                "timezone": "Europe/Paris",
            },
            "facts": {"personal_data_breach": True, "data_subjects": {"FR": 1200}},
            "events": {"aware_personal_data_breach": iso_utc(aware)},
        }
    )


def _declare_gdpr(tmp_path: Path, aware: datetime) -> tuple[int, int]:
    """alice commands, bob is legal; neither has an email address (their reminders are chat messages)."""
    facts = tmp_path / "facts.json"
    facts.write_text(_gdpr_facts(aware))
    add_people("alice", "bob", "erin")
    incident = ok(
        "declare",
        "--title",
        "Orders table copied",
        "--aware-at",
        iso_utc(aware) or "",
        "--commander",
        "alice",
        "--facts",
        str(facts),
        "--json",
    ).json()["id"]
    ok("assign", str(incident), "legal", "bob", "--as", "alice")  # the commander assigns
    with session_scope() as session:
        obligation = session.exec(
            select(Obligation).where(Obligation.rule == "eu.gdpr.art33.supervisory_authority")
        ).one()
        return incident, obligation.id or 0


def _counts(obligation_id: int) -> tuple[int, int, int]:
    with session_scope() as session:
        sent = len(list(session.exec(select(ReminderSent).where(ReminderSent.obligation_id == obligation_id))))
        messages = len(list(session.exec(select(OutboundMessage).where(OutboundMessage.purpose == "reminder"))))
        events = len(list(session.exec(select(AuditEvent).where(AuditEvent.action == "reminder.sent"))))
    return sent, messages, events


def test_reminders_are_planned_at_each_lead_time(tocsin_db: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOCSIN_REMINDER_LEAD_HOURS", "[48, 24, 1]")
    aware = datetime.now(UTC).replace(microsecond=0) - timedelta(
        hours=30
    )  # deadline in 42 h: the 48 h reminder is already due
    _incident, obligation_id = _declare_gdpr(tmp_path, aware)
    deadline = aware + timedelta(hours=72)
    now = datetime.now(UTC)
    plan = {(o, lead): when for o, lead, _d, when in desired_jobs(now).values() if o == obligation_id}
    assert set(plan) == {
        (obligation_id, 2880),
        (obligation_id, 1440),
        (obligation_id, 60),
        (obligation_id, 0),
    }
    assert plan[(obligation_id, 1440)] == deadline - timedelta(hours=24)
    assert plan[(obligation_id, 0)] == deadline  # the overdue escalation
    assert plan[(obligation_id, 2880)] == now  # catch-up: due already, fires at once


def test_a_reminder_fires_once_and_reaches_legal_and_commander(tocsin_db: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOCSIN_REMINDER_LEAD_HOURS", "[24]")
    aware = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=50)
    incident, obligation_id = _declare_gdpr(tmp_path, aware)
    deadline = iso_utc(aware + timedelta(hours=72)) or ""
    assert fire_reminder(obligation_id, 1440, deadline) is True
    assert fire_reminder(obligation_id, 1440, deadline) is False  # a second run sends nothing
    assert _counts(obligation_id) == (1, 2, 1)
    files = sorted((tmp_path / "tocsin-home" / "outbox").glob("*.json"))
    assert [json.loads(f.read_text())["user"] for f in files] == ["alice", "bob"] or len(files) == 2
    text = json.loads(files[0].read_text())["text"]
    assert f"[INC-{incident}] eu.gdpr.art33.supervisory_authority" in text and "due in 24 h" in text
    assert "Regulation (EU) 2016/679, Art. 33(1)" in text


def test_submitted_or_withdrawn_obligations_are_not_reminded(tocsin_db: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOCSIN_REMINDER_LEAD_HOURS", "[48]")
    aware = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=30)
    incident, obligation_id = _declare_gdpr(tmp_path, aware)
    ok("submit", str(incident), "eu.gdpr.art33.supervisory_authority", "--as", "bob")  # legal files it
    deadline = iso_utc(aware + timedelta(hours=72)) or ""
    assert fire_reminder(obligation_id, 2880, deadline) is False
    assert all(o != obligation_id for o, *_ in desired_jobs(datetime.now(UTC)).values())


def test_overdue_escalates_to_the_dpo_too(tocsin_db: str, tmp_path: Path, monkeypatch) -> None:
    aware = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=80)
    incident, obligation_id = _declare_gdpr(tmp_path, aware)
    ok("assign", str(incident), "dpo", "erin", "--as", "alice")
    deadline = aware + timedelta(hours=72)
    previous = use_clock(FixedClock(datetime.now(UTC)))
    try:
        assert fire_reminder(obligation_id, 60, iso_utc(deadline) or "") is False  # superseded by the escalation
        assert fire_reminder(obligation_id, 0, iso_utc(deadline) or "") is True
    finally:
        use_clock(previous)
    with session_scope() as session:
        escalations = list(session.exec(select(OutboundMessage).where(OutboundMessage.purpose == "escalation")))
        assert sorted(m.recipient for m in escalations) == ["alice", "bob", "erin"]
        assert all("OVERDUE" in m.subject for m in escalations)
    shown = ok("clock", str(incident), "--json").json()["obligations"]
    gdpr = next(o for o in shown if o["rule"] == "eu.gdpr.art33.supervisory_authority")
    assert gdpr["standing"] == "overdue" and gdpr["seconds_left"] < 0


def _jobs_stored(obligation_id: int) -> bool:
    import sqlalchemy as sa

    from tocsin.db.engine import current_engine

    with current_engine().connect() as connection:
        ids = connection.execute(sa.text("SELECT id FROM apscheduler_jobs")).scalars().all()
    return any(i.startswith(f"reminder:{obligation_id}:60:") for i in ids)


@pytest.mark.slow
def test_reminder_due_while_down_fires_once_after_restart(tocsin_db: str, tmp_path: Path, monkeypatch) -> None:
    """Kill the scheduler before a reminder is due, bring it back after: it fires once, never twice."""
    monkeypatch.setenv("TOCSIN_REMINDER_LEAD_HOURS", "[1]")
    due_in = timedelta(seconds=12)
    aware = (
        datetime.now(UTC).replace(microsecond=0) - timedelta(hours=71) + due_in
    )  # deadline in 1 h + 12 s: reminder in 12 s
    _incident, obligation_id = _declare_gdpr(tmp_path, aware)
    due_at = time.monotonic() + due_in.total_seconds()
    env = {**os.environ, "TOCSIN_SCHEDULER_SYNC_SECONDS": "1", "PYTHONPATH": str(ROOT)}
    log = tmp_path / "scheduler.log"

    first = start_scheduler(env, log)
    wait_for(lambda: _jobs_stored(obligation_id), 20, "the reminder job in the job store")
    assert time.monotonic() < due_at, "the scheduler started too slowly for this test"
    os.killpg(first.pid, signal.SIGKILL)  # a crash, not a clean shutdown
    first.wait(10)

    time.sleep(max(0.0, due_at - time.monotonic()) + 1.5)
    assert _counts(obligation_id) == (0, 0, 0), "nothing may be sent while the scheduler is down"

    second = start_scheduler(env, log)
    try:
        wait_for(lambda: _counts(obligation_id)[0] == 1, 30, "the caught-up reminder")
        time.sleep(3)  # several sync cycles
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(10)
    third = start_scheduler(env, log)
    time.sleep(4)
    os.killpg(third.pid, signal.SIGKILL)
    third.wait(10)

    assert _counts(obligation_id) == (1, 2, 1), log.read_text()[-3000:]
    outbox = list((tmp_path / "tocsin-home" / "outbox").glob("*_reminder-*"))
    assert len(outbox) == 2  # alice and bob, once each


def test_only_one_scheduler_per_database(tocsin_db: str, tmp_path: Path) -> None:
    from tocsin.core.errors import Conflict
    from tocsin.db.engine import current_engine
    from tocsin.obligations.scheduler import single_scheduler

    engine = current_engine()
    with single_scheduler(engine), pytest.raises(Conflict, match="already running"):  # noqa: SIM117
        with single_scheduler(engine):
            pass


def test_reminders_by_email_go_through_sendgrid_when_configured(tocsin_db: str, tmp_path: Path, monkeypatch) -> None:
    from tests.fakes.sendgrid_server import FakeSendGrid

    monkeypatch.setenv("TOCSIN_REMINDER_LEAD_HOURS", "[24]")
    aware = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=50)
    _incident, obligation_id = _declare_gdpr(tmp_path, aware)
    ok("people", "add", "bob", "--email", "bob@shop.example")
    with FakeSendGrid() as fake:
        send_email_through(fake.url, monkeypatch)
        assert fire_reminder(obligation_id, 1440, iso_utc(aware + timedelta(hours=72)) or "") is True
        received = [address for email in fake.snapshot() for address in email.to]
    assert received == ["bob@shop.example"]  # alice has no address: her reminder is a chat message
    with session_scope() as session:
        rows = session.exec(select(OutboundMessage).where(OutboundMessage.purpose == "reminder")).all()
        assert {(m.recipient, m.channel) for m in rows} == {("bob@shop.example", "sendgrid"), ("alice", "outbox")}
        assert all(m.sent_at is not None for m in rows)
