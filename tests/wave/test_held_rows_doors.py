"""Rows held in doubt after a crash, at the doors that report a wave (SQLite and PostgreSQL): `tocsin notify`
counts them and exits 1 with the commands that decide; the wave's counts and its timeline event say `held`
(`resent_in_doubt` only comes with a resend decision); `tocsin wave resolve` names `--reason`; a playbook's
notice_wave step waits instead of recording the people notified, and goes on once the rows are decided."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select
from tocsin.flows.step_types import StepContext, handler_for
from tocsin.models import StepStatus
from tocsin.models.enums import InDoubtDecision
from tocsin.models.playbook_run import PlaybookRun, PlaybookStepState
from tocsin.playbooks.schema import NoticeWaveStep

from tests.helpers import ok, run_cli
from tests.wave.conftest import declare_incident, draft_for, people, write_csv
from tests.wave.test_in_doubt import crashed_wave
from tocsin.core.acting import Actor, Via
from tocsin.core.clocks import utcnow
from tocsin.db.engine import session_scope
from tocsin.incidents.service import get_incident
from tocsin.wave import actions


def timeline(incident: int) -> list[dict]:
    return ok("show", str(incident), "--json").json()["timeline"]


def test_notify_with_rows_held_exits_1_and_says_how_to_decide(wave_db: str, tmp_path: Path) -> None:
    incident = declare_incident()
    draft = draft_for(incident)
    crashed_path = write_csv(tmp_path / "first.csv", people(10))
    crashed_wave(incident, draft, crashed_path)
    path = write_csv(tmp_path / "all.csv", people(14))  # the 10 in flight at the crash, and 4 more

    rerun = run_cli("notify", str(incident), "--draft", str(draft), "--recipients", str(path), "--as", "carl")
    assert rerun.exit_code == 1, rerun.stderr
    said = " ".join(rerun.stdout.split())
    assert "│ sent now │ 4 │" in said and "│ held (in doubt after a crash) │ 10 │" in said
    assert (
        f"10 held: their request was in flight when an earlier run stopped, and whether SendGrid took it is "
        f"unknown. See `tocsin wave in-doubt INC-{incident}`, then decide with "
        f"`tocsin wave resolve INC-{incident} --resend|--skip --reason TEXT`." in said
    )
    notify = ("notify", str(incident), "--draft", str(draft), "--recipients", str(path), "--as", "carl")
    as_json = run_cli(*notify, "--json")
    assert as_json.exit_code == 1
    counts = as_json.json()
    assert (counts["held"], counts["already_sent"], counts["sent"]) == (10, 4, 0) and "resent_in_doubt" not in counts
    finished = [e for e in timeline(incident) if e["action"] == "notice.wave_finished"]
    assert [e["payload"]["held"] for e in finished] == [10, 10] and all(
        "resent_in_doubt" not in e["payload"] for e in finished
    )

    ok("wave", "resolve", str(incident), "--skip", "--reason", "events show it was taken", "--as", "carl")
    decided = run_cli(*notify)
    assert decided.exit_code == 0, decided.stderr  # nothing held any more: the rerun is a success
    assert "held (in doubt" not in decided.stdout and "skipped (decided after a crash)" in decided.stdout


def test_resolve_refuses_an_empty_reason_naming_the_cli_option(wave_db: str, tmp_path: Path) -> None:
    incident = declare_incident()
    draft = draft_for(incident)
    path = write_csv(tmp_path / "r.csv", people(3))
    crashed_wave(incident, draft, path)
    blank = run_cli("wave", "resolve", str(incident), "--skip", "--reason", "  ", "--as", "carl")
    assert blank.exit_code == 2
    assert blank.stderr.strip() == "error: --reason: say why: the decision is kept on the timeline"
    both = run_cli("wave", "resolve", str(incident), "--skip", "--resend", "--reason", "x", "--as", "carl")
    assert both.exit_code == 2 and "give exactly one of --resend or --skip" in both.stderr
    assert not any(e["action"].startswith("notice.in_doubt_resolved") for e in timeline(incident))  # nothing done


STEP = NoticeWaveStep(id="customer-wave", type="notice_wave", draft="customer-draft")


def playbook_run(incident: int, draft: int, path: Path) -> int:
    """A run whose draft step made `draft` and whose notice_wave step (STEP) reads `path`; its id."""
    with session_scope() as session:
        run = PlaybookRun(incident_id=incident, playbook="data-breach", playbook_version=1, definition={},
                          inputs={"recipients": str(path)}, started_at=utcnow(), launched_by="alice")  # fmt: skip
        session.add(run)
        session.flush()
        session.add(PlaybookStepState(run_id=run.id or 0, step_id="customer-draft", position=0, step_type="draft",
                                      status=StepStatus.done, result={"drafts": {"en": draft}}))  # fmt: skip
        session.add(PlaybookStepState(run_id=run.id or 0, step_id=STEP.id, position=1, step_type="notice_wave"))
        return run.id or 0


def _step_pass(incident: int, run_id: int, step: NoticeWaveStep) -> tuple[str, str | None, dict]:
    """One pass of the notice_wave step, as the runner makes it (its result kept for the next pass)."""
    with session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        state = session.exec(
            select(PlaybookStepState).where(PlaybookStepState.run_id == run_id, PlaybookStepState.step_id == step.id)
        ).one()
        assert run is not None
        notice_wave = handler_for("notice_wave")  # registers every step type, as the runner does
        outcome = notice_wave(StepContext(session, run, get_incident(session, incident), state, step, utcnow()), step)
        state.status, state.note, state.result = outcome.status, outcome.note, {**state.result, **outcome.result}
        session.add(state)
        return outcome.status, outcome.note, outcome.result


def _notified(incident: int) -> bool:
    with session_scope() as session:
        return "consumers_notified" in (get_incident(session, incident).facts.get("events") or {})


def test_the_playbook_step_waits_while_rows_are_held_and_goes_on_once_decided(wave_db: str, tmp_path: Path) -> None:
    incident = declare_incident()
    draft = draft_for(incident)
    path = write_csv(tmp_path / "r.csv", people(6))
    crashed_wave(incident, draft, path)
    run_id = playbook_run(incident, draft, path)

    status, note, result = _step_pass(incident, run_id, STEP)
    assert status == StepStatus.waiting and result["wave"]["held"] == 6
    assert note and "6 rows held in doubt" in note and f"tocsin wave resolve INC-{incident}" in note
    assert not _notified(incident)  # nobody is recorded notified who may not have been
    waves_before = len(ok("waves", str(incident), "--json").json()["waves"])
    again = _step_pass(incident, run_id, STEP)  # woken again, nothing decided: it waits without a new run
    assert again[0] == StepStatus.waiting and len(ok("waves", str(incident), "--json").json()["waves"]) == waves_before

    actions.resolve_in_doubt(Actor("carl", Via.local), incident, InDoubtDecision.skip, reason="taken", channel=None)
    status, note, result = _step_pass(incident, run_id, STEP)
    assert status == StepStatus.done and result["wave"]["skipped"] == 6 and result["wave"]["held"] == 0
    assert not _notified(incident)  # skipped rows are not people notified by this wave


def test_the_playbook_step_records_people_notified_once_resent(wave_db: str, tmp_path: Path) -> None:
    incident = declare_incident()
    draft = draft_for(incident)
    path = write_csv(tmp_path / "r.csv", people(4))
    crashed_wave(incident, draft, path)
    run_id = playbook_run(incident, draft, path)
    assert _step_pass(incident, run_id, STEP)[0] == StepStatus.waiting and not _notified(incident)

    from tocsin.messages.channels import email_channel

    actions.resolve_in_doubt(Actor("carl", Via.local), incident, InDoubtDecision.resend, reason="no events",
                             channel=email_channel())  # fmt: skip
    status, _note, result = _step_pass(incident, run_id, STEP)
    assert status == StepStatus.done and result["wave"]["already_sent"] == 4 and _notified(incident)
