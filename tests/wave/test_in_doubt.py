"""The request in flight when a wave dies is held for a decision, not sent again silently (SQLite and
PostgreSQL): the rerun sends everything else, `tocsin wave in-doubt` lists the held rows, and `resolve` resends
them exactly once more or marks them skipped, on the timeline; only whoever may send the wave decides."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from tocsin.models.enums import InDoubtDecision
from tocsin.notifications.message import MESSAGE_ID_ARG

from tests.fakes import FakeSendGrid
from tests.helpers import ok
from tests.wave.conftest import declare_incident, draft_for, people, write_csv
from tests.wave.test_wave import run, sender_for, statuses
from tocsin.core.acting import Actor, Via
from tocsin.core.errors import Forbidden, InvalidInput
from tocsin.db.engine import session_scope
from tocsin.wave import actions
from tocsin.wave.status import BATCHES, DELIVERIES


class Crash(RuntimeError):
    pass


class DiesMidRequest:
    """The process dies while this request is in flight: whether the provider took it is unknown."""

    name = "sendgrid"

    def send(self, messages):  # type: ignore[no-untyped-def]
        raise Crash("process died while the request was in flight")


def crashed_wave(incident: int, draft: int, path: Path) -> None:
    with pytest.raises(Crash):
        run(incident, [draft], path, DiesMidRequest(), in_flight=1)


def posted_unanswered() -> int:
    with session_scope() as session:
        statement = select(func.count()).where(BATCHES.c.posted_at.is_not(None), BATCHES.c.accepted_at.is_(None))
        return int(session.execute(statement).scalar_one())


def test_a_run_without_a_crash_counts_nothing_in_doubt(wave_db: str, tmp_path: Path, fake_sendgrid) -> None:
    incident = declare_incident()
    draft = draft_for(incident)
    report = run(incident, [draft], write_csv(tmp_path / "r.csv", people(25)), sender_for(fake_sendgrid), chunk_size=10)
    assert (report.sent, report.held, report.skipped) == (25, 0, 0)
    assert "resent_in_doubt" not in report.counts()  # only a resend decision counts rows sent again
    with session_scope() as session:
        batches = session.execute(select(BATCHES.c.posted_at, BATCHES.c.accepted_at)).all()
    assert len(batches) == 3 and all(posted and accepted for posted, accepted in batches)  # each recorded, answered
    assert actions.in_doubt(Actor("carl", Via.local), incident)["held"] == 0


def test_the_request_in_flight_is_held_and_resent_once_on_decision(
    wave_db: str, tmp_path: Path, fake_sendgrid: FakeSendGrid
) -> None:
    incident = declare_incident()
    draft = draft_for(incident)
    path = write_csv(tmp_path / "r.csv", people(10))
    crashed_wave(incident, draft, path)
    assert posted_unanswered() == 1 and statuses(incident) == {draft: {"queued": 10}}

    resumed = run(incident, [draft], path, sender_for(fake_sendgrid))
    assert (resumed.sent, resumed.held) == (0, 10)  # nothing sent silently
    assert fake_sendgrid.received_count == 0
    listed = ok("wave", "in-doubt", f"INC-{incident}", "--as", "carl", "--json").json()
    assert listed["held"] == 10 and [b["held"] for b in listed["batches"]] == [10]

    with pytest.raises(Forbidden, match=r"notice\.in_doubt_resolved"):  # legal may not decide; comms may
        actions.resolve_in_doubt(Actor("lena", Via.local), incident, InDoubtDecision.resend, reason="x",
                                 channel=sender_for(fake_sendgrid))  # fmt: skip
    decided = actions.resolve_in_doubt(
        Actor("carl", Via.local), incident, InDoubtDecision.resend, reason="no events after 1 h",
        channel=sender_for(fake_sendgrid),
    )  # fmt: skip
    assert (decided["rows"], decided["resent_in_doubt"], decided["sent"], decided["failed"]) == (10, 10, 10, 0)
    counts = fake_sendgrid.custom_arg_counts(MESSAGE_ID_ARG)
    assert len(counts) == 10 and set(counts.values()) == {1}
    assert statuses(incident) == {draft: {"accepted": 10}}
    assert actions.in_doubt(Actor("carl", Via.local), incident)["held"] == 0
    again = run(incident, [draft], path, sender_for(fake_sendgrid))
    assert (again.sent, again.already_sent, again.held) == (0, 10, 0)
    timeline = ok("show", str(incident), "--json").json()["timeline"]
    resolved = [e for e in timeline if e["action"] == "notice.in_doubt_resolved"]
    assert [(e["actor"], e["payload"]["decision"], e["payload"]["rows"]) for e in resolved] == [("carl", "resend", 10)]
    assert any(e["action"] == "notice.in_doubt_resolved_refused" and e["actor"] == "lena" for e in timeline)
    with pytest.raises(InvalidInput, match="nothing to decide"):
        actions.resolve_in_doubt(Actor("carl", Via.local), incident, InDoubtDecision.skip, reason="twice", channel=None)


def test_skipped_rows_are_marked_with_the_reason_and_never_sent(
    wave_db: str, tmp_path: Path, fake_sendgrid: FakeSendGrid
) -> None:
    incident = declare_incident()
    draft = draft_for(incident)
    path = write_csv(tmp_path / "r.csv", people(10))
    crashed_wave(incident, draft, path)
    assert run(incident, [draft], path, sender_for(fake_sendgrid)).held == 10
    data = ok("wave", "resolve", str(incident), "--skip", "--reason", "processed events seen", "--as", "alice",
              "--json").json()  # fmt: skip
    assert (data["decision"], data["skipped"]) == ("skip", 10)
    assert statuses(incident) == {draft: {"skipped": 10}}
    with session_scope() as session:
        errors = set(session.execute(select(DELIVERIES.c.error)).scalars())
    assert errors == {"in doubt after a crash; skipped by alice: processed events seen"}
    again = run(incident, [draft], path, sender_for(fake_sendgrid))
    assert (again.sent, again.skipped, again.held) == (0, 10, 0) and fake_sendgrid.received_count == 0
