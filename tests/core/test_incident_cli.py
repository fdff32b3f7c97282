"""The incident record through the CLI, as a commander uses it, on SQLite and PostgreSQL.

`tester` (TOCSIN_USER) declares; `alice` is the commander and steers (`--as alice`); `bob` is given roles.
"""

from __future__ import annotations

import pytest

from tests.helpers import add_people, ok, run_cli

AWARE = "2026-11-20T10:00:00+01:00"


@pytest.fixture(autouse=True)
def cast(tocsin_db: str) -> None:
    add_people("tester", "alice", "bob")


def declare(*extra: str) -> dict:
    return ok(
        "declare",
        "--title",
        "Customer DB exposed",
        "--severity",
        "SEV1",
        "--aware-at",
        AWARE,
        "--commander",
        "alice",
        "--json",
        *extra,
    ).json()


def test_declare_then_show_round_trips(tocsin_db: str) -> None:
    declared = declare()
    assert declared["ref"] == f"INC-{declared['id']}"
    assert declared["aware_at"] == "2026-11-20T09:00:00Z"
    assert declared["status"] == "declared"
    assert declared["commander"] == "alice"

    shown = ok("show", declared["ref"], "--json").json()
    for key in ("id", "kind", "title", "severity", "status", "aware_at", "declared_at", "commander", "roles"):
        assert shown[key] == declared[key], key
    actions = [event["action"] for event in shown["timeline"]]
    assert actions == ["incident.declared", "role.assigned"]
    assert shown["timeline"][0]["actor"] == "tester"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--severity", "SEV9"], "unknown severity 'SEV9'"),
        (["--kind", "outage"], "unknown kind 'outage'"),
        (["--aware-at", "2026-11-20T10:00:00"], "has no UTC offset"),
        (["--aware-at", "2099-01-01T00:00:00Z"], "is in the future"),
        (["--aware-at", "yesterday"], "is not an ISO 8601 timestamp"),
        (["--timezone", "Mars/Olympus"], "unknown time zone"),
        (["--commander", "bad handle!"], "not a valid handle"),
    ],
)
def test_bad_declarations_are_refused_and_nothing_is_written(tocsin_db: str, args: list[str], message: str) -> None:
    base = {"--title": "T", "--aware-at": AWARE}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [item for pair in base.items() for item in pair]
    result = run_cli("declare", *flat)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert ok("incidents", "--json").json() == []


def test_lifecycle_allows_only_legal_transitions(tocsin_db: str) -> None:
    incident = str(declare()["id"])
    refused = run_cli("status", incident, "contained", "--as", "alice")
    assert refused.exit_code == 2
    assert "cannot go from declared to contained" in refused.stderr
    assert "investigating, closed" in refused.stderr

    for step in ("investigating", "contained", "notifying", "monitoring"):
        assert ok("status", incident, step, "--as", "alice", "--json").json()["status"] == step
    assert run_cli("status", incident, "notifying", "--as", "alice").exit_code == 2
    assert run_cli("status", incident, "sleeping", "--as", "alice").exit_code == 2
    closed = ok("close", incident, "--reason", "all notices sent", "--as", "alice", "--json").json()  # the commander
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert "a closed incident stays closed" in run_cli("status", incident, "investigating", "--as", "alice").stderr

    timeline = ok("show", incident, "--json").json()["timeline"]
    changes = [(e["payload"]["from"], e["payload"]["to"]) for e in timeline if e["action"] == "incident.status_changed"]
    assert changes == [
        ("declared", "investigating"),
        ("investigating", "contained"),
        ("contained", "notifying"),
        ("notifying", "monitoring"),
        ("monitoring", "closed"),
    ]


def test_roles_and_filters(tocsin_db: str) -> None:
    first = str(declare()["id"])
    second = ok("declare", "--title", "Hashtag storm", "--kind", "crisis", "--json").json()
    shown = ok("assign", first, "legal", "bob", "--as", "alice", "--json").json()
    assert {"role": "legal", "person": "bob"} in shown["roles"]
    assert "already legal" in run_cli("assign", first, "legal", "bob", "--as", "alice").stderr
    assert "unknown role 'janitor'" in run_cli("assign", first, "janitor", "bob", "--as", "alice").stderr

    crises = ok("incidents", "--kind", "crisis", "--json").json()
    assert [i["id"] for i in crises] == [second["id"]]
    ok("close", first, "--as", "alice")  # the commander
    open_ones = ok("incidents", "--open", "--json").json()
    assert [i["id"] for i in open_ones] == [second["id"]]
    assert [i["id"] for i in ok("incidents", "--status", "closed", "--json").json()] == [int(first)]


def test_stale_version_is_a_conflict(tocsin_db: str) -> None:
    incident = declare()
    stale = str(incident["version"])
    ok("status", str(incident["id"]), "investigating", "--if-version", stale, "--as", "alice")
    result = run_cli("assign", str(incident["id"]), "legal", "bob", "--if-version", stale, "--as", "alice")
    assert result.exit_code == 3
    assert "someone else changed it" in result.stderr


def test_unknown_incident_is_one_clear_line(tocsin_db: str) -> None:
    result = run_cli("show", "INC-999")
    assert (result.exit_code, result.stderr.strip()) == (2, "error: no incident INC-999")
    assert run_cli("show", "abc").stderr.strip() == "error: 'abc' is not an incident id (write 12 or INC-12)"


def test_human_output_reads_well(tocsin_db: str) -> None:
    incident = str(declare()["id"])
    ok("assign", incident, "legal", "bob", "--as", "alice")
    text = ok("show", incident).stdout
    assert "Customer DB exposed" in text and "commander" in text and "bob" in text
    assert "2026-11-20 09:00 UTC" in text
    listing = ok("incidents").stdout
    assert f"INC-{incident}" in listing


def test_the_policy_holds_at_the_cli(tocsin_db: str) -> None:
    """Only the commander steers; nobody gives themselves a role; a typo in a handle is named, never created."""
    incident = str(declare()["id"])
    refused = run_cli("status", incident, "investigating")  # tester declared it, but is not its commander
    assert refused.exit_code == 4 and "tester is not commander or an admin" in refused.stderr
    own = run_cli("assign", incident, "legal", "alice", "--as", "alice")
    assert own.exit_code == 4 and "cannot give themselves a role" in own.stderr
    typo = run_cli("assign", incident, "legal", "bobb", "--as", "alice")
    assert typo.exit_code == 2 and "did you mean bob?" in typo.stderr
    assert "bobb" not in {p["handle"] for p in ok("people", "list", "--json").json()}
    actions = [e["action"] for e in ok("show", incident, "--json").json()["timeline"]]
    assert actions.count("incident.status_refused") == 1 and actions.count("role.assign_refused") == 1


def test_unassign_takes_a_role_away_but_keeps_a_commander(tocsin_db: str) -> None:
    incident = str(declare()["id"])
    ok("assign", incident, "legal", "bob", "--as", "alice")
    shown = ok("unassign", incident, "legal", "bob", "--as", "alice", "--json").json()
    assert {"role": "legal", "person": "bob"} not in shown["roles"]
    again = run_cli("unassign", incident, "legal", "bob", "--as", "alice")
    assert again.exit_code == 2 and "bob is not legal on INC-" in again.stderr
    last = run_cli("unassign", incident, "commander", "alice", "--as", "alice")
    assert last.exit_code == 2 and "commander" in last.stderr
    assert run_cli("unassign", incident, "observer", "bob", "--as", "bob").exit_code == 4  # not the commander
    text = ok("assign", incident, "comms", "bob", "--as", "alice").stdout
    assert "bob is comms on INC-" in text
    assert "bob is no longer comms" in ok("unassign", incident, "comms", "bob", "--as", "alice").stdout
