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


def _drill_events(folder: Path) -> list[tuple[str, str, dict]]:
    import json
    import sqlite3

    with sqlite3.connect(folder / "tocsin.db") as connection:
        rows = connection.execute("SELECT action, actor, payload FROM audit_event ORDER BY id").fetchall()
    return [(action, actor, json.loads(payload)) for action, actor, payload in rows]


def test_the_simulated_team_acts_through_the_doors(tocsin_home: Path) -> None:
    """Every person's step in a drill is an action (`via: drill` on the timeline, under the role policy);
    Tocsin's own steps (the playbook, the scheduler's pages) are not a person's door."""
    card = _drill("social-crisis", "--no-prefect")
    events = _drill_events(Path(card["drill"]["folder"]))
    only_people = {
        "incident.declared",
        "role.assigned",
        "playbook.launched",
        "escalation.acknowledged",
        "draft.approved",
        "draft.rejected",
        "draft.edited",
        "checklist.done",
    }
    by_the_team = {action for action, _actor, payload in events if payload.get("via") == "drill"}
    assert only_people | {"draft.submitted"} <= by_the_team  # a revision goes back to review through the door
    for action, actor, payload in events:
        if action in only_people:
            assert payload.get("via") == "drill", (action, actor, payload)
        if actor in ("playbook", "tocsin", "sentiment"):  # Tocsin itself: no person's door
            assert payload.get("via") != "drill", (action, payload)
    assert not [action for action, *_ in events if action.endswith("_refused")]


def test_a_drill_person_without_the_role_is_refused_and_the_drill_says_where_it_stuck(
    tocsin_home: Path, tmp_path: Path
) -> None:
    """The policy holds in a drill: comms may not approve a draft (only legal decides). The refusal is on the
    drill's timeline, naming the rule; the draft stays in review and the drill ends, stuck on it."""
    import yaml
    from tocsin.flows.scenario import SCENARIOS

    from tests.helpers import run_cli

    scenario = yaml.safe_load((SCENARIOS / "social-crisis.yaml").read_text())
    scenario["behaviour"]["reviews"]["holding-draft"] = [{"by": "dana", "decision": "approve", "after": "25m"}]
    path = tmp_path / "comms-approves.yaml"
    path.write_text(yaml.safe_dump(scenario, allow_unicode=True))
    result = run_cli("drill", "social-crisis", "--scenario", str(path), "--no-prefect", "--speed", "0", "--json")
    assert result.exit_code == 1, result.stderr
    card = result.json()
    assert card["drill"]["status"] == "waiting" and "holding" in (card["drill"]["stuck"] or "")
    refused = [p for action, actor, p in _drill_events(Path(card["drill"]["folder"])) if action.endswith("_refused")]
    assert len(refused) == 1  # tried once, not again and again until the horizon
    assert refused[0]["action"] == "draft.approval" and refused[0]["via"] == "drill"
    assert "dana is not legal" in refused[0]["reason"]


def test_a_scenario_whose_commander_would_grant_themselves_a_role_is_refused(tmp_path: Path) -> None:
    import yaml
    from tocsin.flows.scenario import SCENARIOS

    from tests.helpers import run_cli

    scenario = yaml.safe_load((SCENARIOS / "social-crisis.yaml").read_text())
    scenario["people"].append({"handle": "alice", "role": "comms"})
    path = tmp_path / "self-grant.yaml"
    path.write_text(yaml.safe_dump(scenario, allow_unicode=True))
    result = run_cli("drill", "social-crisis", "--scenario", str(path), "--no-prefect", "--speed", "0")
    assert result.exit_code == 2 and "nobody grants themselves a role" in result.stderr
