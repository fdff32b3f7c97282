"""Finding 2: a rewritten timeline is caught even when every hash was recomputed, by the keyed chain and by the
signed checkpoint outside the database; dropped guards are named; legacy (unkeyed) events still verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.audit.tamper import as_before_the_keyed_chain, rewrite_chain, tamper
from tests.helpers import ok, run_cli


def _incident() -> str:
    incident = str(ok("declare", "--title", "Laptop stolen", "--json").json()["id"])
    ok("status", incident, "investigating")
    ok("status", incident, "contained", "--reason", "disk was encrypted")
    return incident


def _verify(*args: str) -> tuple[int, dict]:
    result = run_cli("audit", "verify", *args, "--json")
    return result.exit_code, result.json()


def _all_text(data: dict) -> str:
    return json.dumps(data)


def test_untouched_database_with_checkpoint_verifies(tocsin_db: str, tocsin_home: Path) -> None:
    incident = _incident()
    ok("audit", "checkpoint")
    line = json.loads((tocsin_home / "audit-checkpoints.jsonl").read_text().splitlines()[-1])
    assert line["incidents"][incident]["seq"] == 4 and line["counts"] == {"incidents": 1, "events": 4}
    assert len(line["signature"]) == 64 and (tocsin_home / "audit-key").stat().st_mode & 0o777 == 0o600
    ok("status", incident, "monitoring")
    code, data = _verify("all")
    assert code == 0 and data["ok"], data
    assert "1 keyed event(s) written since are verified by the keyed chain alone" in _all_text(data)


def test_rewrite_with_recomputed_hashes_is_caught_without_the_key(tocsin_db: str) -> None:
    incident = _incident()
    rewrite_chain(tocsin_db, incident, key=b"a guessed key")
    code, data = _verify("all")
    assert code == 1 and "event #2" in _all_text(data) and "keyed hash does not match" in _all_text(data)


def test_rewrite_as_unkeyed_events_is_caught(tocsin_db: str) -> None:
    incident = _incident()
    ok("audit", "checkpoint")
    rewrite_chain(tocsin_db, incident, key=None)  # downgrade: every event rewritten as a legacy row
    code, data = _verify(incident)
    text = _all_text(data)
    assert code == 1 and "differs from the checkpoint" in text and "4 unkeyed event(s), the checkpoint" in text


def test_rewrite_with_the_key_is_caught_by_the_checkpoint(tocsin_db: str, tocsin_home: Path) -> None:
    incident = _incident()
    ok("audit", "checkpoint")
    key = (tocsin_home / "audit-key").read_text().strip().encode()  # the worst case: the key leaked
    rewrite_chain(tocsin_db, incident, key=key)
    code, data = _verify("all")
    assert code == 1 and "event #4 differs from the checkpoint" in _all_text(data)


def test_cut_tail_with_fixed_head_is_caught(tocsin_db: str) -> None:
    incident = _incident()
    ok("audit", "checkpoint")
    engine = sa.create_engine(tocsin_db)
    with engine.connect() as connection:
        head = connection.execute(
            sa.text(f"SELECT hash FROM audit_event WHERE incident_id = {incident} AND seq = 3")
        ).scalar()
    engine.dispose()
    tamper(
        tocsin_db,
        f"DELETE FROM audit_event WHERE incident_id = {incident} AND seq = 4",
        f"UPDATE incident SET audit_seq = 3, audit_head = '{head}' WHERE id = {incident}",
    )
    code, data = _verify("all")
    assert code == 1 and "events cut from the end" in _all_text(data) and "recorded #4" in _all_text(data)


def test_deleted_incident_is_caught(tocsin_db: str) -> None:
    keep, gone = _incident(), _incident()
    ok("audit", "checkpoint")
    tables = ["audit_event", "incident_role", "obligation"]
    tamper(
        tocsin_db,
        *[f"DELETE FROM {t} WHERE incident_id = {gone}" for t in tables],
        f"DELETE FROM incident WHERE id = {gone}",
    )
    code, data = _verify("all")
    assert code == 1 and f"INC-{keep}" not in data["problems"]
    assert "incident deleted" in data["problems"][f"INC-{gone}"][0]


def test_truncate_is_refused_and_caught_on_postgres(tocsin_db: str) -> None:
    incident = _incident()
    ok("audit", "checkpoint")
    engine = sa.create_engine(tocsin_db)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("TRUNCATE is PostgreSQL's")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(sa.text("TRUNCATE audit_event"))
    engine.dispose()
    tamper(tocsin_db, "TRUNCATE audit_event")
    code, data = _verify("all")
    text = _all_text(data)
    assert code == 1 and "holds 0 audit event(s), the checkpoint" in text and f"INC-{incident}" in data["problems"]
    assert "audit_event_no_truncate" in text and "disabled" in text


def test_dropped_guard_is_named_and_repaired(tocsin_db: str, tocsin_home: Path) -> None:
    _incident()
    engine = sa.create_engine(tocsin_db)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("DROP TRIGGER audit_event_append_only ON audit_event"))
        else:
            connection.execute(sa.text("DROP TRIGGER audit_event_no_delete"))
    engine.dispose()
    code, data = _verify("all")
    assert code == 1 and "was dropped" in data["database"][0]
    assert "recreated" in ok("audit", "repair-guards").stdout
    assert "guards-restored" in (tocsin_home / "audit-checkpoints.jsonl").read_text()
    assert _verify("all")[0] == 0


def test_forged_checkpoint_and_kept_copy(tocsin_db: str, tmp_path: Path) -> None:
    incident = _incident()
    kept = tmp_path / "elsewhere.jsonl"
    ok("audit", "checkpoint", "--to", str(kept))
    assert _verify("all", "--checkpoint", str(kept))[0] == 0
    line = json.loads(kept.read_text())
    line["incidents"][incident]["seq"] = 2
    kept.write_text(json.dumps(line) + "\n")
    code, data = _verify("all", "--checkpoint", str(kept))
    assert code == 1 and "does not carry the audit key's signature" in data["database"][0]


def test_legacy_events_verify_under_the_boundary_and_are_tampering_above_it(tocsin_db: str) -> None:
    incident = _incident()
    as_before_the_keyed_chain(tocsin_db, incident)  # as an older Tocsin wrote it: unkeyed, no boundary marker
    ok("audit", "repair-guards")
    ok("status", incident, "monitoring")  # the first keyed event seals the boundary at the 4 legacy events
    code, data = _verify(incident)
    assert code == 0, data
    assert "4 event(s) unkeyed (written before the keyed chain)" in _all_text(data)
    # Written since: the same downgrade is tampering now, for a new incident and for the legacy one's new events.
    later = _incident()
    rewrite_chain(tocsin_db, later, key=None, actor=None)
    code, data = _verify("all")
    assert code == 1 and f"INC-{incident}" not in data["problems"], data
    assert len(data["problems"][f"INC-{later}"]) == 4
    assert all("above the legacy boundary (row id 4" in p for p in data["problems"][f"INC-{later}"])
    rewrite_chain(tocsin_db, incident, key=None, actor=None)
    problems = _verify(incident)[1]["problems"][f"INC-{incident}"]
    assert problems == [
        "event #5 (row id 5): unkeyed event above the legacy boundary (row id 4: every event after it was written "
        "with the key): written or rewritten without the key"
    ]
