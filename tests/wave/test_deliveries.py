"""SendGrid Event Webhook into delivery statuses and the suppression list; suppression CLI; purge."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from tocsin.notifications.message import MESSAGE_ID_ARG

from tests.fakes import FakeSendGrid
from tests.helpers import ok, run_cli
from tests.wave.conftest import declare_incident, draft_for, people, write_csv
from tests.wave.test_wave import run, sender_for, statuses


def deliveries(incident: int) -> dict[str, tuple[str, str]]:
    """email -> (message id, status)"""
    from sqlalchemy import select

    from tocsin.db.engine import session_scope
    from tocsin.wave.status import DELIVERIES, STATUS, WITH_BATCH, of_incident

    statement = select(DELIVERIES.c.email, DELIVERIES.c.message_id, STATUS).select_from(WITH_BATCH)
    with session_scope() as session:
        rows = session.execute(statement.where(of_incident(incident))).all()
        return {email: (message_id, status) for email, message_id, status in rows}


def event(kind: str, email: str, message_id: str, stamp: int, **extra: object) -> dict[str, object]:
    return {
        "event": kind,
        "email": email,
        "timestamp": stamp,
        MESSAGE_ID_ARG: message_id,
        "sg_event_id": f"e{stamp}",
        **extra,
    }


def sent_wave(tmp_path: Path, fake: FakeSendGrid, count: int = 6) -> tuple[int, int, dict[str, tuple[str, str]]]:
    incident = declare_incident()
    draft = draft_for(incident)
    run(incident, [draft], write_csv(tmp_path / "r.csv", people(count)), sender_for(fake))
    return incident, draft, deliveries(incident)


def test_events_move_deliveries_to_their_newest_status_and_suppress_addresses(
    wave_db: str, tmp_path: Path, fake_sendgrid: FakeSendGrid
) -> None:
    from tocsin.db.engine import session_scope
    from tocsin.wave.deliveries import ingest_sendgrid_events

    incident, _draft, rows = sent_wave(tmp_path, fake_sendgrid)
    ids = {email: message_id for email, (message_id, _) in rows.items()}
    body = [
        event("delivered", "person0@example.com", ids["person0@example.com"], 1000),
        event(
            "bounce", "person1@example.com", ids["person1@example.com"], 1000, type="bounce", reason="550 no such user"
        ),
        event("delivered", "person2@example.com", ids["person2@example.com"], 1000),
        event("unsubscribe", "person2@example.com", ids["person2@example.com"], 1100),
        event("delivered", "person3@example.com", ids["person3@example.com"], 1200),
        event("spamreport", "person3@example.com", ids["person3@example.com"], 1300),
        event("dropped", "person4@example.com", ids["person4@example.com"], 1000, reason="Bounced Address"),
        event("bounce", "person5@example.com", ids["person5@example.com"], 1000, type="blocked", reason="try later"),
        event("open", "person0@example.com", ids["person0@example.com"], 1400),
        event("delivered", "stranger@example.com", "not-ours", 1000),
    ]
    with session_scope() as session:
        summary = ingest_sendgrid_events(session, json.dumps(body).encode(), {})
    assert (summary.events, summary.matched, summary.unmatched, summary.updated, summary.suppressed) == (10, 9, 1, 6, 4)
    assert {email: status for email, (_, status) in deliveries(incident).items()} == {
        "person0@example.com": "delivered",
        "person1@example.com": "bounced",
        "person2@example.com": "unsubscribed",
        "person3@example.com": "spamreport",
        "person4@example.com": "dropped",
        "person5@example.com": "bounced",  # a temporary block: recorded, but the address is not suppressed
    }
    listed = ok("suppress", "list", "--json").json()
    assert {(s["email"], s["reason"], s["source"]) for s in listed} == {
        ("person1@example.com", "bounce", "sendgrid-webhook"),
        ("person2@example.com", "unsubscribe", "sendgrid-webhook"),
        ("person3@example.com", "spamreport", "sendgrid-webhook"),
        ("person4@example.com", "dropped", "sendgrid-webhook"),
    }
    late = [event("delivered", "person3@example.com", ids["person3@example.com"], 1250)]  # older than the report
    saved = tmp_path / "webhook.json"
    saved.write_text(json.dumps(late))
    result = ok("webhook", "sendgrid", str(saved), "--json").json()
    assert (result["matched"], result["updated"]) == (1, 0)
    assert deliveries(incident)["person3@example.com"][1] == "spamreport"
    # A later wave of another draft skips the suppressed addresses.
    other = draft_for(incident, subject="Update for -name-")
    report = run(incident, [other], tmp_path / "r.csv", sender_for(fake_sendgrid))
    assert (report.sent, report.suppressed) == (2, 4)


def test_a_processed_event_settles_a_send_left_in_doubt(wave_db: str, tmp_path: Path, fake_sendgrid) -> None:
    from sqlalchemy import update

    from tocsin.db.engine import session_scope
    from tocsin.wave.deliveries import ingest_sendgrid_events
    from tocsin.wave.status import BATCHES, DELIVERIES

    incident, draft, rows = sent_wave(tmp_path, fake_sendgrid, count=2)
    message_id = rows["person0@example.com"][0]
    with session_scope() as session:  # as if the process died between SendGrid's 202 and the mark
        session.execute(update(BATCHES).values(accepted_at=None))
        session.execute(update(DELIVERIES).where(DELIVERIES.c.message_id != message_id).values(status="accepted"))
    body = json.dumps([event("processed", "person0@example.com", message_id, 2000)]).encode()
    with session_scope() as session:
        assert ingest_sendgrid_events(session, body, {}).settled == 1
    assert statuses(incident) == {draft: {"accepted": 2}}
    report = run(incident, [draft], tmp_path / "r.csv", sender_for(fake_sendgrid))
    assert (report.sent, report.already_sent) == (0, 2)


def test_a_signed_webhook_needs_a_valid_signature(wave_db: str) -> None:
    from tocsin.notifications.sendgrid_events import ForgedSendGridEvent

    from tocsin.db.engine import session_scope
    from tocsin.wave.deliveries import ingest_sendgrid_events

    with session_scope() as session, pytest.raises(ForgedSendGridEvent, match="missing"):
        ingest_sendgrid_events(session, b"[]", {}, public_key="MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")


def test_suppress_cli(wave_db: str) -> None:
    declare_incident()  # carl is comms on an open incident: the `suppression.add` rule lets him
    as_comms = ("--as", "carl")
    added = ok("suppress", "add", " Someone@Example.org ", "--reason", "opt-out", "--json", *as_comms).json()
    assert (added["email"], added["created"]) == ("someone@example.org", True)
    assert ok("suppress", "add", "someone@example.org", "--json", *as_comms).json()["created"] is False
    bad = run_cli("suppress", "add", "not an address", *as_comms)
    assert bad.exit_code == 2 and "not a valid email address" in bad.stderr
    unknown = run_cli("suppress", "add", "a@example.org", "--reason", "because", *as_comms)
    assert unknown.exit_code == 2 and "unknown reason" in unknown.stderr
    assert "someone@example.org" in ok("suppress", "list").stdout
    refused = run_cli("suppress", "add", "b@example.org", "--as", "bob")  # bob drafts; he holds no role
    assert refused.exit_code == 4 and "policy suppression.add" in refused.stderr


def test_purge_removes_recipient_data_after_retention_and_keeps_counts(
    wave_db: str, tmp_path: Path, fake_sendgrid: FakeSendGrid, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tocsin.core.clocks import FixedClock, use_clock, utcnow
    from tocsin.core.config import get_settings
    from tocsin.core.errors import InvalidInput

    incident, draft, _rows = sent_wave(tmp_path, fake_sendgrid, count=4)
    assert ok("purge", "--json").json()["rows"] == 0  # not yet past retention
    monkeypatch.setenv("TOCSIN_RECIPIENT_RETENTION_DAYS", "30")
    get_settings.cache_clear()
    previous = use_clock(FixedClock(utcnow() + timedelta(days=31)))
    try:
        assert ok("purge", "--dry-run", "--json").json()["rows"] == 4
        assert deliveries(incident) != {}
        purged = ok("purge", "--json").json()
    finally:
        use_clock(previous)
    assert (purged["rows"], purged["waves"][0]["incident"]) == (4, f"INC-{incident}")
    assert deliveries(incident) == {}
    waves = ok("waves", str(incident), "--json").json()["waves"]
    assert waves[0]["purged"] and waves[0]["counts"]["final_accepted"] == 4 and waves[0]["counts"]["sent"] == 4
    actions = [e["action"] for e in ok("show", str(incident), "--json").json()["timeline"]]
    assert "notice.recipients_purged" in actions
    with pytest.raises(InvalidInput, match="was purged"):
        run(incident, [draft], tmp_path / "r.csv", sender_for(fake_sendgrid))
