"""The notice wave end to end on SQLite and PostgreSQL: only approved drafts, invalid rows reported by line,
suppressed addresses skipped and counted, exactly one message per (draft, recipient), retries, resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from tocsin.notifications.email_sendgrid import SendGridSender
from tocsin.notifications.message import MESSAGE_ID_ARG
from tocsin.notifications.sendgrid_batches import SenderIdentity

from tests.fakes import FakeSendGrid
from tests.helpers import ok, run_cli
from tests.wave.conftest import declare_incident, draft_for, people, write_csv
from tocsin.core.errors import InvalidInput


def sender_for(fake: FakeSendGrid, key: str = "SG.fake-key") -> SendGridSender:
    return SendGridSender(key, SenderIdentity("notices@example.org"), host=fake.url, sleep=lambda _: None)


def run(incident: int, drafts: list[int], path: Path, channel, **options):  # type: ignore[no-untyped-def]
    from tocsin.db.engine import session_scope
    from tocsin.wave.run import run_wave

    with session_scope() as session:
        return run_wave(session, incident, drafts, path, channel=channel, actor="carl", **options)


def statuses(incident: int) -> dict[int, dict[str, int]]:
    from tocsin.db.engine import session_scope
    from tocsin.wave.run import delivery_status_counts

    with session_scope() as session:
        return delivery_status_counts(session, incident)


def test_only_approved_drafts_of_the_incident_can_be_sent(wave_db: str, tmp_path: Path, fake_sendgrid) -> None:
    incident = declare_incident()
    unapproved = draft_for(incident, approve=False)
    path = write_csv(tmp_path / "r.csv", people(3))
    with pytest.raises(InvalidInput, match=f"draft {unapproved} is not approved"):
        run(incident, [unapproved], path, sender_for(fake_sendgrid))
    other = declare_incident()
    with pytest.raises(InvalidInput, match=f"belongs to INC-{incident}"):
        run(other, [draft_for(incident)], path, sender_for(fake_sendgrid))
    assert fake_sendgrid.received_count == 0 and statuses(incident) == {}


def test_a_wave_reports_invalid_rows_skips_suppressed_and_sends_each_recipient_once(
    wave_db: str, tmp_path: Path, fake_sendgrid: FakeSendGrid
) -> None:
    incident = declare_incident()
    english = draft_for(incident, locale="en")
    french = draft_for(incident, locale="fr", subject="Concernant votre compte, -name-")
    rows = [
        *people(6),
        {"email": "broken", "name": "X", "first_name": "X", "locale": "en"},  # line 8
        {"email": "nofirst@example.com", "name": "N", "first_name": "", "locale": "en"},  # line 9
        {"email": "PERSON1@example.com", "name": "Again", "first_name": "Again", "locale": "en"},  # line 10
        {"email": "marie@example.fr", "name": "Marie", "first_name": "Marie", "locale": "fr-CA"},
        {"email": "optout@example.com", "name": "O", "first_name": "O", "locale": "en"},
    ]
    path = write_csv(tmp_path / "r.csv", rows)
    ok("suppress", "add", "OptOut@example.com", "--reason", "opt-out", "--note", "asked by phone", "--as", "carl")
    report = run(incident, [english, french], path, sender_for(fake_sendgrid), chunk_size=4)
    assert (report.rows, report.sent, report.suppressed, report.invalid, report.failed) == (11, 7, 1, 3, 0)
    assert [(r.line, r.reason) for r in report.invalid_rows] == [
        (8, "not a valid email address"),
        (9, f"no value for -first_name- (used by draft {english})"),
        (10, "duplicate of an earlier row (same address and draft)"),
    ]
    received = fake_sendgrid.snapshot()
    assert sorted(e.to[0] for e in received) == sorted(
        [f"person{n}@example.com" for n in range(6)] + ["marie@example.fr"]
    )
    marie = next(e for e in received if e.to == ("marie@example.fr",))
    assert marie.subject == "Concernant votre compte, Marie"
    ada = next(e for e in received if e.to == ("person0@example.com",))
    assert ada.subject == "About your account, Person 0"
    assert ada.body().startswith("Dear P0,") and "well-known-issue" in ada.body()
    assert set(fake_sendgrid.custom_arg_counts(MESSAGE_ID_ARG).values()) == {1}
    assert statuses(incident) == {english: {"accepted": 6}, french: {"accepted": 1}}

    again = run(incident, [english, french], path, sender_for(fake_sendgrid))
    assert (again.sent, again.already_sent, again.suppressed, again.invalid) == (0, 7, 1, 3)
    assert fake_sendgrid.received_count == 7
    shown = ok("show", str(incident), "--json").json()
    finished = [e for e in shown["timeline"] if e["action"] == "notice.wave_finished"]
    assert [e["payload"]["sent"] for e in finished] == [7, 0]
    assert finished[0]["payload"]["suppressed"] == 1 and finished[0]["payload"]["invalid"] == 3
    assert "person0@example.com" not in str(shown["timeline"])  # no recipient data on the timeline


def test_rate_limits_and_server_errors_are_retried_and_nothing_is_lost(
    wave_db: str, tmp_path: Path, fake_sendgrid: FakeSendGrid
) -> None:
    incident = declare_incident()
    draft = draft_for(incident)
    path = write_csv(tmp_path / "r.csv", people(2500))
    fake_sendgrid.fail_next(2, 429, reset_in=0)
    fake_sendgrid.fail_next(2, 500)
    fake_sendgrid.fail_next(1, 503)
    report = run(incident, [draft], path, sender_for(fake_sendgrid))
    assert (report.sent, report.failed) == (2500, 0)
    counts = fake_sendgrid.custom_arg_counts(MESSAGE_ID_ARG)
    assert len(counts) == 2500 and set(counts.values()) == {1}
    assert fake_sendgrid.statuses[429] == 2 and fake_sendgrid.statuses[500] == 2
    assert statuses(incident) == {draft: {"accepted": 2500}}


def test_failed_sends_are_retried_by_the_next_run(wave_db: str, tmp_path: Path, fake_sendgrid: FakeSendGrid) -> None:
    incident = declare_incident()
    draft = draft_for(incident)
    path = write_csv(tmp_path / "r.csv", people(30))
    report = run(incident, [draft], path, sender_for(fake_sendgrid, key="SG.revoked"))
    assert (report.sent, report.failed) == (0, 30)
    assert statuses(incident) == {draft: {"failed": 30}}
    resumed = run(incident, [draft], path, sender_for(fake_sendgrid))
    assert (resumed.sent, resumed.failed, resumed.already_sent, resumed.held) == (30, 0, 0, 0)
    assert set(fake_sendgrid.custom_arg_counts(MESSAGE_ID_ARG).values()) == {1}


def test_a_batch_is_marked_once_and_messages_answered_otherwise_on_their_own_rows(
    wave_db: str, tmp_path: Path, fake_sendgrid: FakeSendGrid
) -> None:
    from sqlalchemy import select
    from tocsin.notifications.message import SendResult

    from tocsin.db.engine import session_scope
    from tocsin.wave.status import BATCHES, DELIVERIES, STATUS, WITH_BATCH

    class SplitAnswers:
        """Per request of 10: three refused, two accepted under a second provider id, the rest under one."""

        name = "sendgrid"

        def send(self, messages):  # type: ignore[no-untyped-def]
            return [
                SendResult.failed(m.message_id, "bad address") if i < 3
                else SendResult.ok(m.message_id, "second") if i < 5
                else SendResult.ok(m.message_id, "main", attempts=2)
                for i, m in enumerate(messages)
            ]  # fmt: skip

    incident = declare_incident()
    draft = draft_for(incident)
    path = write_csv(tmp_path / "r.csv", people(20))
    report = run(incident, [draft], path, SplitAnswers(), chunk_size=10)
    assert (report.sent, report.failed, report.failures["bad address"]) == (14, 6, 6)
    assert statuses(incident) == {draft: {"accepted": 14, "failed": 6}}
    with session_scope() as session:
        batches = session.execute(select(BATCHES.c.provider_id, BATCHES.c.attempts)).all()
        assert sorted(batches) == [("main", 2), ("main", 2)]  # one mark per batch of 10
        own = session.execute(select(DELIVERIES.c.status, DELIVERIES.c.provider_id)).all()
        assert sorted(own, key=str) == sorted(
            [("failed", None)] * 6 + [("accepted", "second")] * 4 + [("queued", None)] * 10, key=str
        )  # the batch's majority reads as accepted through its batch; no row of it was written again
        read = session.execute(select(STATUS).select_from(WITH_BATCH).where(DELIVERIES.c.status == "queued")).all()
        assert {status for (status,) in read} == {"accepted"}
    resumed = run(incident, [draft], path, sender_for(fake_sendgrid))
    assert (resumed.sent, resumed.already_sent) == (6, 14)  # only the refused ones again
    assert statuses(incident) == {draft: {"accepted": 20}}


def test_the_cli_sends_through_the_outbox_and_prints_the_summary(wave_db: str, tmp_path: Path) -> None:
    incident = declare_incident()
    draft = draft_for(incident)
    path = write_csv(tmp_path / "r.csv", [*people(3), {"email": "x", "name": "", "first_name": "", "locale": ""}])
    result = ok("notify", str(incident), "--draft", f"D-{draft}", "--recipients", str(path), "--as", "carl")
    assert "sent now" in result.stdout and "line 5: not a valid email address" in result.stdout
    data = ok(
        "notify", str(incident), "--draft", str(draft), "--recipients", str(path), "--as", "carl", "--json"
    ).json()
    assert (data["sent"], data["already_sent"], data["invalid"]) == (0, 3, 1)
    assert data["invalid_rows"] == [{"line": 5, "reason": "not a valid email address"}]
    from tocsin.core.config import get_settings

    report_file = get_settings().reports_dir / f"wave-{data['wave']}-invalid-rows.csv"
    assert report_file.read_text().splitlines() == ["line,reason", "5,not a valid email address"]
    waves = ok("waves", str(incident), "--json").json()
    assert [w["counts"]["sent"] for w in waves["waves"]] == [3, 0]
    missing = run_cli("notify", str(incident), "--draft", "999", "--recipients", str(path), "--as", "carl")
    assert missing.exit_code == 2 and "D-999" in missing.stderr
    refused = run_cli("notify", str(incident), "--draft", str(draft), "--recipients", str(path), "--as", "lena")
    assert refused.exit_code == 4 and "lena is not" in refused.stderr  # customer notices go out by comms
