"""Kill Tocsin while a playbook waits, start it again: the run continues and repeats no side effect."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select
from tocsin.flows.launch import launch, start_urgent
from tocsin.models import OutboundMessage
from tocsin.models.playbook_run import PlaybookRun

from tests.helpers import add_people, ok, start_scheduler, wait_for
from tocsin.core.acting import Actor, Via
from tocsin.db.engine import current_engine, session_scope

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = """
name: quick-page
version: 1
kind: breach
title: Page legal with short timeouts
roles: [commander, legal]
steps:
  - {id: obligations, type: compute_obligations}
  - {id: war-room, type: open_channel, invite: [commander, legal]}
  - {id: page-legal, type: escalate, role: legal, message: internal_brief, ack_timeout: 0.1m}
  - id: record
    type: checklist
    tasks:
      - {title: "Write the register entry", role: legal}
"""


def _run_status(run_id: int) -> str:
    with session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        assert run is not None
        session.refresh(run)
        return run.status


def _wake_job_stored() -> bool:
    with current_engine().connect() as connection:
        return any(
            i.startswith("wake:") for i in connection.execute(sa.text("SELECT id FROM apscheduler_jobs")).scalars()
        )


@pytest.mark.slow
def test_killed_while_waiting_then_restarted(tocsin_db: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOCSIN_PLAYBOOK_EXECUTOR", "inline")
    playbook = tmp_path / "quick-page.yaml"
    playbook.write_text(PLAYBOOK)
    add_people("alice")
    incident = ok("declare", "--title", "Backups exposed", "--commander", "alice", "--json").json()["id"]
    for handle, role in (("bob", "legal"), ("bea", "legal")):
        ok("people", "add", handle, "--email", f"{handle}@shop.example")
        ok("assign", str(incident), role, handle, "--as", "alice")  # the commander assigns
    run_id = launch(incident, str(playbook), actor=Actor("alice", Via.local))
    assert start_urgent(run_id) == "waiting"  # bob is paged now; bea in 6 s unless bob acks

    env = {**os.environ, "TOCSIN_SCHEDULER_SYNC_SECONDS": "1", "PYTHONPATH": str(ROOT)}
    log = tmp_path / "scheduler.log"
    first = start_scheduler(env, log)
    wait_for(_wake_job_stored, 20, "the wake-up job in the job store")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    time.sleep(7)  # the wake-up falls due while Tocsin is down
    assert _run_status(run_id) == "waiting"

    second = start_scheduler(env, log)
    try:
        wait_for(lambda: _run_status(run_id) == "completed", 60, "the run to finish after the restart")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(10)
    third = start_scheduler(env, log)  # and once more: nothing left to do, nothing repeated
    time.sleep(3)
    os.killpg(third.pid, signal.SIGKILL)
    third.wait(10)

    with session_scope() as session:
        pages = session.exec(select(OutboundMessage).where(OutboundMessage.purpose == "escalation")).all()
    # bob, then bea, then both: each page exactly once
    assert sorted(m.recipient for m in pages) == sorted(
        ["bob@shop.example", "bea@shop.example", "bob@shop.example", "bea@shop.example"]
    ), log.read_text()[-2000:]
    assert len({m.message_id for m in pages}) == 4
    actions = [e["action"] for e in ok("show", str(incident), "--json").json()["timeline"]]
    assert actions.count("escalation.started") == 1
    assert actions.count("escalation.escalated") == 2
    assert actions.count("channel.opened") == 1 and actions.count("checklist.assigned") == 1
    outbox = list((tmp_path / "tocsin-home" / "outbox").glob("*_escalation-*"))
    assert len(outbox) == 4
