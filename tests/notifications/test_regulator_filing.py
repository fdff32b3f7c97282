"""The playbook `send` step and the regulator's filing address: never the placeholder through SendGrid."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select
from tocsin.flows.step_types import Outcome, StepContext, handler_for
from tocsin.models import IncidentKind, OutboundMessage, Severity
from tocsin.models.playbook_run import PlaybookRun, PlaybookStepState
from tocsin.playbooks.schema import SendStep

from tests.fakes import FakeSendGrid
from tests.helpers import send_email_through
from tocsin.core.clocks import FixedClock, use_clock
from tocsin.core.config import get_settings
from tocsin.db.engine import session_scope
from tocsin.incidents.service import Declaration, declare, get_incident

NOW = datetime(2027, 3, 9, 8, 0, tzinfo=UTC)
STEP = SendStep(
    id="file-regulator",
    type="send",
    draft="regulator-draft",
    channel="email",
    submits=["eu.gdpr.art33.supervisory_authority"],
)


@pytest.fixture
def run_id(tocsin_db: str) -> int:
    previous = use_clock(FixedClock(NOW))
    try:
        with session_scope() as session:
            incident = declare(
                session,
                Declaration(IncidentKind.breach, "Backups exposed", Severity.SEV1, NOW, "alice", {}),
                actor="alice",
            )
            run = PlaybookRun(
                incident_id=incident.id or 0,
                playbook="data-breach",
                playbook_version=1,
                definition={},
                started_at=NOW,
                launched_by="alice",
            )
            session.add(run)
            session.flush()
            # The draft step is done and produced a draft (the send step looks no further when it must wait).
            session.add(
                PlaybookStepState(
                    run_id=run.id or 0,
                    step_id="regulator-draft",
                    position=0,
                    step_type="draft",
                    status="done",
                    result={"drafts": {"en": 999}},
                )
            )
            return run.id or 0
    finally:
        use_clock(previous)


def run_send(run_id: int) -> tuple[str, Outcome]:
    from tocsin.flows.steps_messages import _destination

    with session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        assert run is not None
        state = PlaybookStepState(run_id=run_id, step_id=STEP.id, position=1, step_type="send")
        context = StepContext(session, run, get_incident(session, run.incident_id), state, STEP, NOW)
        outcome = handler_for("send")(context, STEP)
        assert session.exec(select(OutboundMessage)).all() == []  # nothing queued, nothing recorded as filed
        return _destination(context, STEP), outcome


def test_with_sendgrid_the_step_waits_for_a_filing_address(
    run_id: int, fake_sendgrid: FakeSendGrid, monkeypatch: pytest.MonkeyPatch
) -> None:
    send_email_through(fake_sendgrid.url, monkeypatch)
    destination, outcome = run_send(run_id)
    assert destination == "filing@regulator.invalid"
    assert outcome.status == "waiting"
    assert outcome.note is not None
    assert "eu.gdpr.art33.supervisory_authority" in outcome.note
    assert "TOCSIN_REGULATOR_EMAILS" in outcome.note
    assert f"tocsin playbook input {run_id} regulator_email=ADDRESS" in outcome.note
    assert fake_sendgrid.snapshot() == []


def test_the_filing_address_comes_from_configuration_per_rule_then_the_input(
    run_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tocsin.flows.steps_messages import _destination, _missing_filing_address

    with session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        assert run is not None
        state = PlaybookStepState(run_id=run_id, step_id=STEP.id, position=1, step_type="send")
        context = StepContext(session, run, get_incident(session, run.incident_id), state, STEP, NOW)
        assert _destination(context, STEP) == "filing@regulator.invalid"
        assert _missing_filing_address(context, STEP, "filing@regulator.invalid") is None  # outbox: drills
        run.inputs = {"regulator_email": "breach@dpa.example"}
        assert _destination(context, STEP) == "breach@dpa.example"
        monkeypatch.setenv("TOCSIN_REGULATOR_EMAILS", '{"eu.gdpr.art33": "notifications@cnil.example"}')
        get_settings.cache_clear()
        assert _destination(context, STEP) == "notifications@cnil.example"
        monkeypatch.setenv("TOCSIN_SENDGRID_API_KEY", "SG.fake-key")
        get_settings.cache_clear()
        assert _missing_filing_address(context, STEP, "notifications@cnil.example") is None
        session.rollback()
