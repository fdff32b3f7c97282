"""The database's guards are checked by state and definition, not only by name: a trigger set to fire only for
replication, altered, or its function replaced is reported, and repair-guards puts it back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import ok, run_cli


def _execute(url: str, *statements: str) -> str:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        dialect = connection.dialect.name
        for statement in statements:
            connection.execute(sa.text(statement))
    engine.dispose()
    return dialect


def _database_problems() -> tuple[int, list[str]]:
    result = run_cli("audit", "verify", "all", "--json")
    return result.exit_code, result.json()["database"]


def _postgres_only(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("trigger states and functions are PostgreSQL's")


@pytest.fixture
def incident(tocsin_db: str) -> str:
    return str(ok("declare", "--title", "Laptop stolen", "--json").json()["id"])


def test_untouched_guards_pass(tocsin_db: str, incident: str) -> None:
    assert _database_problems() == (0, [])


@pytest.mark.parametrize("state", ["REPLICA", "ALWAYS"])
def test_trigger_state_other_than_as_created(tocsin_db: str, incident: str, state: str) -> None:
    _postgres_only(tocsin_db)
    _execute(tocsin_db, f"ALTER TABLE audit_event ENABLE {state} TRIGGER audit_event_append_only")
    code, problems = _database_problems()
    if state == "ALWAYS":  # fires in every session, replication ones too: stricter than created, accepted
        assert (code, problems) == (0, [])
        return
    assert code == 1 and problems == [
        "trigger audit_event_append_only (BEFORE UPDATE OR DELETE ON audit_event FOR EACH ROW) is set to fire only "
        "for replication (ENABLE REPLICA): the database no longer refuses it"
    ]
    assert ok("audit", "repair-guards", "--json").json()["restored"] == ["audit_event_append_only"]
    assert _database_problems() == (0, [])


def test_replaced_trigger_function_is_reported_and_repaired(tocsin_db: str, incident: str) -> None:
    _postgres_only(tocsin_db)
    _execute(
        tocsin_db,
        "CREATE OR REPLACE FUNCTION tocsin_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF TG_OP = 'TRUNCATE' THEN RETURN NULL; END IF; RETURN OLD; END $$",
    )
    code, problems = _database_problems()
    assert code == 1 and problems == [
        "trigger function tocsin_audit_append_only() was replaced: it no longer only raises "
        "'audit events are append-only'"
    ]
    ok("audit", "repair-guards")
    assert _database_problems() == (0, [])
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        _execute(tocsin_db, "UPDATE audit_event SET actor = 'mallory'")


def test_altered_trigger_is_reported_and_repaired(tocsin_db: str, incident: str) -> None:
    if tocsin_db.startswith("postgresql"):
        name = "audit_event_append_only"
        drop = f"DROP TRIGGER {name} ON audit_event"
        create = f"CREATE TRIGGER {name} BEFORE UPDATE OF action ON audit_event FOR EACH ROW "
        create += "EXECUTE FUNCTION tocsin_audit_append_only()"
    else:
        name = "audit_event_no_update"
        drop = f"DROP TRIGGER {name}"
        create = f"CREATE TRIGGER {name} BEFORE UPDATE ON audit_event WHEN 0 BEGIN SELECT RAISE(ABORT, 'no'); END"
    _execute(tocsin_db, drop, create)
    _execute(tocsin_db, "UPDATE audit_event SET actor = 'mallory'")  # the altered guard lets this through
    code, problems = _database_problems()
    assert code == 1 and problems[0].startswith(f"trigger {name} was altered"), problems
    ok("audit", "repair-guards")
    assert not any("was altered" in p for p in _database_problems()[1])
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        _execute(tocsin_db, "UPDATE audit_event SET actor = 'eve'")
