"""Running playbooks: urgent steps at once, waits without a busy process, and no side effect twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select
from tocsin.flows import step_types
from tocsin.flows.launch import launch, start_urgent
from tocsin.flows.runner import advance
from tocsin.models import OutboundMessage
from tocsin.models.playbook_run import PlaybookRun, PlaybookStepState

from tests.helpers import ok, run_cli
from tocsin.core.acting import Actor, Via
from tocsin.core.clocks import FixedClock
from tocsin.db.engine import session_scope
from tocsin.messages.escalations import acknowledge

ALICE = Actor("alice", Via.local)  # the incident's commander


def states(run_id: int) -> dict[str, str]:
    with session_scope() as session:
        rows = session.exec(select(PlaybookStepState).where(PlaybookStepState.run_id == run_id))
        return {row.step_id: row.status for row in rows}


def message_count() -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(OutboundMessage)).one()


def test_launch_runs_the_urgent_steps_then_waits_for_a_person(incident: int) -> None:
    run_id = launch(incident, "data-breach", actor=ALICE)
    assert start_urgent(run_id) == "waiting"
    assert states(run_id) == {"obligations": "done", "investigate": "done", "war-room": "done", "page-legal": "waiting"}
    with session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        assert run is not None and run.status == "waiting" and "bob" in (run.waiting_for or "")
        pages = session.exec(select(OutboundMessage).where(OutboundMessage.purpose == "escalation")).all()
        assert [m.recipient for m in pages] == ["bob@shop.example"]
    progress = ok("runs", str(incident), "--json").json()[0]
    assert progress["status"] == "waiting" and progress["steps"][3]["status"] == "waiting"


def test_waiting_run_continues_after_the_ack_and_repeats_nothing(incident: int) -> None:
    run_id = launch(incident, "data-breach", actor=ALICE)
    start_urgent(run_id)
    sent = message_count()
    for _ in range(3):  # woken again and again with nothing new: no new message, still waiting
        assert advance(run_id) == "waiting"
    assert message_count() == sent
    with session_scope() as session:
        escalation_id = session.exec(select(PlaybookStepState).where(PlaybookStepState.step_id == "page-legal")).one()
        acknowledge(session, escalation_id.result["escalation"], person="bob")
    assert advance(run_id) == "waiting"
    assert states(run_id)["page-legal"] == "done" and states(run_id)["page-it"] == "waiting"
    after_ack = message_count()
    assert advance(run_id) == "waiting" and message_count() == after_ack


def test_an_unacknowledged_page_moves_down_the_chain(incident: int, clock: FixedClock) -> None:
    run_id = launch(incident, "data-breach", actor=ALICE)
    start_urgent(run_id)
    clock.advance(timedelta(minutes=16))
    assert advance(run_id) == "waiting"
    with session_scope() as session:
        pages = session.exec(select(OutboundMessage).where(OutboundMessage.purpose == "escalation")).all()
        assert sorted(m.recipient for m in pages) == ["bea@shop.example", "bob@shop.example"]
    clock.advance(timedelta(minutes=16))
    advance(run_id)  # bea did not answer either: now both legal people
    clock.advance(timedelta(minutes=16))
    advance(run_id)  # the whole role did not answer: the chain is exhausted and the playbook goes on
    assert states(run_id)["page-legal"] == "done"
    timeline = ok("show", str(incident), "--json").json()["timeline"]
    assert [e["action"] for e in timeline].count("escalation.escalated") == 2
    assert "escalation.unacknowledged" in [e["action"] for e in timeline]


def test_a_step_that_crashes_is_rolled_back_and_runs_once_on_restart(incident: int, monkeypatch) -> None:
    run_id = launch(incident, "data-breach", actor=ALICE)
    real = step_types.handler_for("open_channel")

    def crash_after_side_effect(context, step):  # type: ignore[no-untyped-def]
        real(context, step)
        raise RuntimeError("power cut")

    monkeypatch.setitem(step_types._HANDLERS, "open_channel", crash_after_side_effect)
    with pytest.raises(RuntimeError):
        start_urgent(run_id)
    monkeypatch.setitem(step_types._HANDLERS, "open_channel", real)
    assert start_urgent(run_id) == "waiting"
    with session_scope() as session:
        briefs = session.exec(select(OutboundMessage).where(OutboundMessage.purpose == "brief")).all()
        assert len(briefs) == 1
    timeline = [e["action"] for e in ok("show", str(incident), "--json").json()["timeline"]]
    assert timeline.count("channel.opened") == 1


def test_launch_refuses_bad_input(incident: int) -> None:
    result = run_cli("launch", "data-breach", "--incident", str(incident), "--input", "colour=red", "--as", "alice")
    assert result.exit_code == 2 and "has no input(s) colour" in result.stderr
    assert "no playbook 'nope'" in run_cli("launch", "nope", "--incident", str(incident)).stderr
    ok("launch", "data-breach", "--incident", str(incident), "--as", "alice")  # the commander
    again = run_cli("launch", "data-breach", "--incident", str(incident), "--as", "alice")
    assert again.exit_code == 2 and "already running" in again.stderr
