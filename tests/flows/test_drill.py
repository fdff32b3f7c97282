"""Drill mode: a playbook end to end on a simulated clock, people simulated, every channel captured."""

from __future__ import annotations

import email
from pathlib import Path

import pytest

from tests.helpers import ok


def _drill(*args: str) -> dict:
    result = ok("drill", *args, "--speed", "0", "--json")
    return result.json()


def test_data_breach_drill_runs_to_its_scorecard(tocsin_home: Path, monkeypatch) -> None:
    card = _drill("data-breach", "--no-prefect")
    assert card["drill"]["status"] == "completed" and card["drill"]["stuck"] is None
    deadlines = {d["rule"]: d for d in card["deadlines"]}
    gdpr = deadlines["eu.gdpr.art33.supervisory_authority"]
    assert gdpr["met"] is True and gdpr["deadline_utc"] == "2027-03-12T06:45:00Z"  # aware 06:45Z + 72 h
    assert deadlines["uk.gdpr.art33.ico"]["met"] is True
    # The scenario: bob rejects the first regulator draft after 2 h, the revision comes 40 min later and
    # is approved 50 min after that; the draft went into review 30 min after the start.
    assert card["draft_rejections"] == 1
    assert card["first_regulator_notice_hours"] == pytest.approx(0.75 + 0.5 + 2 + 0.667 + 0.833, abs=0.05)
    assert card["first_customer_notice_hours"] is not None
    roles = {e["role"]: e for e in card["escalations"]}
    assert roles["legal"]["acked_by"] == "bob" and roles["legal"]["ack_minutes"] == 6
    assert roles["it"]["acked_by"] == "cem" and roles["it"]["levels_paged"] == 2  # carol missed her page
    assert card["sentiment_alerts"] >= 1
    assert card["tasks"]["open"] == 0

    folder = Path(card["drill"]["folder"])
    assert folder.parent == tocsin_home / "drills"
    assert (folder / "scorecard.md").read_text().startswith("# Drill scorecard")
    emails = sorted((folder / "outbox").glob("*.eml"))
    customers = [f for f in emails if "customer" in f.read_text(errors="ignore")]
    assert len(customers) >= 2000  # the whole recipients list, once each
    parsed = email.message_from_bytes(customers[0].read_bytes())
    assert parsed["To"] and parsed["Subject"]
    # The drill never touches the real incident database.
    assert ok("incidents", "--json").json() == []


def test_social_crisis_drill_publishes_a_holding_statement_within_the_hour() -> None:
    card = _drill("social-crisis", "--no-prefect")
    assert card["drill"]["status"] == "completed"
    assert card["first_public_statement_hours"] <= 1.0 + 1e-6
    assert card["draft_rejections"] == 1 and card["sentiment_alerts"] >= 1


@pytest.mark.slow
def test_drill_through_prefect_flows(tocsin_home: Path) -> None:
    """The same drill with every phase a Prefect flow run on the embedded (ephemeral) Prefect."""
    card = _drill("ransomware")
    assert card["drill"]["status"] == "completed"
    assert card["drill"]["phases"] >= 5
    shown = ok("runs", "1", "--json")  # the drill's own database is not the main one
    assert shown.exit_code == 0
