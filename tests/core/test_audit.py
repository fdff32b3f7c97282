"""The audit timeline is hash-chained: editing, deleting or reordering an event is detected and named."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import ok, run_cli


def _incident_with_history() -> str:
    incident = str(
        ok("declare", "--title", "Laptop stolen", "--aware-at", "2026-11-21T08:00:00Z", "--json").json()["id"]
    )
    ok("status", incident, "investigating")
    ok("people", "add", "bob")
    ok("assign", incident, "legal", "bob")
    ok("status", incident, "contained", "--reason", "disk was encrypted")
    return incident


def _tamper(url: str, *statements: str) -> None:
    """What an attacker with database access does: switch off the append-only guard, then edit."""
    engine = sa.create_engine(url.replace("postgresql+psycopg", "postgresql+psycopg"))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        else:
            connection.execute(sa.text("DROP TRIGGER IF EXISTS audit_event_no_update"))
            connection.execute(sa.text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
        for statement in statements:
            connection.execute(sa.text(statement))
    engine.dispose()


def _verify(incident: str) -> tuple[int, list[str]]:
    result = run_cli("audit", "verify", incident, "--json")
    return result.exit_code, result.json()["problems"].get(f"INC-{incident}", [])


def test_intact_timeline_verifies(tocsin_db: str) -> None:
    incident = _incident_with_history()
    assert _verify(incident) == (0, [])
    assert "timeline intact" in ok("audit", "verify", incident).stdout


def test_database_refuses_updates_and_deletes(tocsin_db: str) -> None:
    incident = _incident_with_history()
    engine = sa.create_engine(tocsin_db)
    for statement in ("UPDATE audit_event SET actor = 'mallory'", "DELETE FROM audit_event"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(sa.text(statement))
    engine.dispose()
    assert _verify(incident) == (0, [])


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (
            ["UPDATE audit_event SET actor = 'mallory' WHERE seq = 3"],
            ["event #3 (row id 3): content was edited"],
        ),
        (
            ['UPDATE audit_event SET payload = \'{"to": "closed", "from": "investigating"}\' WHERE seq = 5'],
            ["event #5 (row id 5): content was edited"],
        ),
        (["DELETE FROM audit_event WHERE seq = 2"], ["event #3 (row id 3): sequence jumps from 1 to 3"]),
        (
            ["DELETE FROM audit_event WHERE seq = 5"],
            ["the chain ends at event #4 but the incident records #5"],
        ),
        (
            [
                "UPDATE audit_event SET seq = 100 + seq WHERE seq IN (3, 4)",
                "UPDATE audit_event SET seq = 4 WHERE seq = 103",
                "UPDATE audit_event SET seq = 3 WHERE seq = 104",
            ],
            ["event #4 (row id 3): sequence jumps from 2 to 4"],
        ),
    ],
    ids=["edited-actor", "edited-payload", "deleted-middle", "deleted-newest", "reordered"],
)
def test_tampering_is_detected_and_named(tocsin_db: str, statements: list[str], expected: list[str]) -> None:
    incident = _incident_with_history()
    _tamper(tocsin_db, *statements)
    code, problems = _verify(incident)
    assert code == 1
    for fragment in expected:
        assert any(fragment in problem for problem in problems), (fragment, problems)
    human = run_cli("audit", "verify", incident)
    assert human.exit_code == 1 and "TAMPERED" in human.stdout


def test_verify_all(tocsin_db: str) -> None:
    first = _incident_with_history()
    _incident_with_history()
    _tamper(tocsin_db, f"UPDATE audit_event SET actor = 'x' WHERE incident_id = {first} AND seq = 1")
    result = run_cli("audit", "verify", "all", "--json")
    assert result.exit_code == 1
    assert list(result.json()["problems"]) == [f"INC-{first}"]
    assert result.json()["checked"] == 2
