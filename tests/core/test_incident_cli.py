"""The incident record through the CLI, as a commander uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.helpers import ok, run_cli

AWARE = "2026-11-20T10:00:00+01:00"


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
    refused = run_cli("status", incident, "contained")
    assert refused.exit_code == 2
    assert "cannot go from declared to contained" in refused.stderr
    assert "investigating, closed" in refused.stderr

    for step in ("investigating", "contained", "notifying", "monitoring"):
        assert ok("status", incident, step, "--json").json()["status"] == step
    assert run_cli("status", incident, "notifying").exit_code == 2
    assert run_cli("status", incident, "sleeping").exit_code == 2
    closed = ok("close", incident, "--reason", "all notices sent", "--as", "alice", "--json").json()  # the commander
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert "a closed incident stays closed" in run_cli("status", incident, "investigating").stderr

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
    shown = ok("assign", first, "legal", "bob", "--json").json()
    assert {"role": "legal", "person": "bob"} in shown["roles"]
    assert "already legal" in run_cli("assign", first, "legal", "bob").stderr
    assert "unknown role 'janitor'" in run_cli("assign", first, "janitor", "bob").stderr

    crises = ok("incidents", "--kind", "crisis", "--json").json()
    assert [i["id"] for i in crises] == [second["id"]]
    ok("close", first, "--as", "alice")  # the commander
    open_ones = ok("incidents", "--open", "--json").json()
    assert [i["id"] for i in open_ones] == [second["id"]]
    assert [i["id"] for i in ok("incidents", "--status", "closed", "--json").json()] == [int(first)]


def test_stale_version_is_a_conflict(tocsin_db: str) -> None:
    incident = declare()
    stale = str(incident["version"])
    ok("status", str(incident["id"]), "investigating", "--if-version", stale)
    result = run_cli("assign", str(incident["id"]), "legal", "bob", "--if-version", stale)
    assert result.exit_code == 3
    assert "someone else changed it" in result.stderr


def test_unknown_incident_is_one_clear_line(tocsin_db: str) -> None:
    result = run_cli("show", "INC-999")
    assert (result.exit_code, result.stderr.strip()) == (2, "error: no incident INC-999")
    assert run_cli("show", "abc").stderr.strip() == "error: 'abc' is not an incident id (write 12 or INC-12)"


def test_human_output_reads_well(tocsin_db: str) -> None:
    incident = str(declare()["id"])
    ok("assign", incident, "legal", "bob")
    text = ok("show", incident).stdout
    assert "Customer DB exposed" in text and "commander" in text and "bob" in text
    assert "2026-11-20 09:00 UTC" in text
    listing = ok("incidents").stdout
    assert f"INC-{incident}" in listing
