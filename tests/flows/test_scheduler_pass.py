"""The scheduler's pass: pages move on at their ack timeout whether or not a playbook run waits on them, each
level is paged exactly once (two passes at once, or a pass and the run's own wake-up), and a due run is woken
once per pass."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlmodel import select
from tocsin.flows.launch import launch, start_urgent
from tocsin.flows.runner import _set_run
from tocsin.models import AuditEvent, EscalationStatus, OutboundMessage, RunStatus
from tocsin.models.enums import Role
from tocsin.models.escalation import Escalation
from tocsin.models.playbook_run import PlaybookRun, PlaybookStepState

from tocsin.core.acting import Actor, Via
from tocsin.core.clocks import FixedClock
from tocsin.db.engine import session_scope
from tocsin.incidents.service import change_status
from tocsin.messages.escalations import advance_due_escalations, start_escalation
from tocsin.obligations.scheduler import escalate_and_deliver, run_pass

ALICE = Actor("alice", Via.local)  # the incident's commander
TIMEOUT = timedelta(minutes=15)


def page_legal(incident: int) -> int:
    """A page outside any playbook (e.g. raised by hand): bob, then bea, then both."""
    with session_scope() as session:
        escalation = start_escalation(
            session, incident, Role.legal, subject="Legal needed", body="Please look.", ack_timeout=TIMEOUT
        )
        return escalation.id or 0


def pages(escalation_id: int) -> list[str]:
    """Who was paged, level by level, in the order the pages were recorded."""
    with session_scope() as session:
        rows = session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.message_id.startswith(f"escalation:{escalation_id}:"))  # type: ignore[attr-defined]
            .order_by(OutboundMessage.id)  # type: ignore[arg-type]
        )
        return [row.recipient.split("@")[0] for row in rows]


def events(incident: int, action: str) -> int:
    with session_scope() as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.incident_id == incident, AuditEvent.action == action))
        return len(list(rows))


def escalation(escalation_id: int) -> Escalation:
    with session_scope() as session:
        found = session.get(Escalation, escalation_id)
        assert found is not None
        return found


def test_a_page_without_a_playbook_moves_down_its_chain_once_per_level(incident: int, clock: FixedClock) -> None:
    chain = page_legal(incident)
    assert pages(chain) == ["bob"]
    assert run_pass().escalations == []  # not due yet
    clock.advance(TIMEOUT + timedelta(seconds=1))
    assert len(run_pass().escalations) == 1
    assert run_pass().escalations == []  # a second pass at the same moment pages nobody again
    assert pages(chain) == ["bob", "bea"]
    clock.advance(TIMEOUT)
    escalate_and_deliver()  # the resident scheduler's interval job does the same
    assert pages(chain) == ["bob", "bea", "bea", "bob"]  # the whole role
    clock.advance(TIMEOUT)
    run_pass()
    run_pass()
    assert escalation(chain).status == EscalationStatus.exhausted and escalation(chain).next_at is None
    assert events(incident, "escalation.escalated") == 2 and events(incident, "escalation.unacknowledged") == 1
    assert pages(chain) == ["bob", "bea", "bea", "bob"]


def test_two_passes_at_once_page_the_next_level_once(incident: int, clock: FixedClock) -> None:
    chain = page_legal(incident)
    clock.advance(TIMEOUT + timedelta(seconds=1))
    start = threading.Barrier(4)
    moved: list[list[str]] = []

    def one_pass() -> None:
        start.wait()
        moved.append(advance_due_escalations())

    threads = [threading.Thread(target=one_pass) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(len(m) for m in moved) == [0, 0, 0, 1]
    assert pages(chain) == ["bob", "bea"] and events(incident, "escalation.escalated") == 1
    assert escalation(chain).level == 1


def test_an_acknowledged_or_closed_incidents_page_is_left_alone(incident: int, clock: FixedClock) -> None:
    from tocsin.messages.escalations import acknowledge

    acked, closed_chain = page_legal(incident), page_legal(incident)
    with session_scope() as session:
        acknowledge(session, acked, person="bob")
    clock.advance(TIMEOUT + timedelta(seconds=1))
    with session_scope() as session:
        for status in ("investigating", "closed"):
            change_status(session, incident, status, actor="alice")
    assert run_pass().escalations == []
    assert pages(acked) == ["bob"] and pages(closed_chain) == ["bob"]


def test_a_failed_runs_page_still_moves_on(incident: int, clock: FixedClock) -> None:
    run_id = launch(incident, "data-breach", actor=ALICE)
    assert start_urgent(run_id) == RunStatus.waiting  # bob is paged; the run waits on him
    _set_run(run_id, RunStatus.failed, "step page-legal: broken", None)  # nobody will wake it again
    with session_scope() as session:
        chain = session.exec(select(PlaybookStepState).where(PlaybookStepState.step_id == "page-legal")).one()
    clock.advance(TIMEOUT + timedelta(seconds=1))
    report = run_pass()
    assert len(report.escalations) == 1 and report.runs_woken == []
    assert pages(chain.result["escalation"]) == ["bob", "bea"]


def test_a_waiting_run_and_the_pass_page_the_next_level_once(incident: int, clock: FixedClock, monkeypatch) -> None:
    """The run waits on its page with `wake_at` at the ack timeout: the pass moves the chain, then wakes the run
    once; the run finds the chain moved and waits for the next level, paging nobody itself."""
    from tocsin.flows import launch as launching

    run_id = launch(incident, "data-breach", actor=ALICE)
    start_urgent(run_id)
    dispatched: list[int] = []
    real_dispatch = launching.dispatch

    def counting_dispatch(run: int, *, wait: bool = False) -> str:
        dispatched.append(run)
        return real_dispatch(run, wait=wait)

    monkeypatch.setattr(launching, "dispatch", counting_dispatch)
    clock.advance(TIMEOUT + timedelta(seconds=1))
    report = run_pass()
    assert len(report.escalations) == 1 and dispatched == [run_id] and len(report.runs_woken) == 1
    with session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        state = session.exec(select(PlaybookStepState).where(PlaybookStepState.step_id == "page-legal")).one()
        chain = session.get(Escalation, state.result["escalation"])
        assert run is not None and chain is not None
        assert run.status == RunStatus.waiting and "bea" in (run.waiting_for or "")
        assert run.wake_at == chain.next_at  # the run's next wake-up is the chain's next timeout
    assert pages(chain.id or 0) == ["bob", "bea"] and events(incident, "escalation.escalated") == 1
    assert run_pass().runs_woken == [] and dispatched == [run_id]  # nothing due: nobody woken again


def test_the_reminders_flow_wakes_each_due_run_once(incident: int, clock: FixedClock, monkeypatch) -> None:
    """`tocsin-reminders` (the Prefect deployment's recurring flow) is one scheduler pass: it used to wake every
    due run a second time after the pass had already woken it."""
    from tocsin.flows import launch as launching
    from tocsin.flows.recurring import send_due_reminders

    run_id = launch(incident, "data-breach", actor=ALICE)
    start_urgent(run_id)
    dispatched: list[int] = []
    monkeypatch.setattr(launching, "dispatch", lambda run, *, wait=False: dispatched.append(run) or "counted")
    clock.advance(TIMEOUT + timedelta(seconds=1))
    summary = send_due_reminders.fn()
    assert dispatched == [run_id]
    assert summary == {"reminders": 0, "escalations": 1, "runs_woken": 1}
