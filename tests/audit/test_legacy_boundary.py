"""The legacy boundary: unkeyed events are accepted only where they could predate the keyed chain (the keyed
marker's boundary); a downgraded timeline, a removed marker and a forged one are tampering."""

from __future__ import annotations

import json
from pathlib import Path

from tests.audit.tamper import as_before_the_keyed_chain, query, rewrite_chain, tamper
from tests.helpers import ok, run_cli
from tocsin.audit.boundary import boundary_mac


def _incident() -> str:
    incident = str(ok("declare", "--title", "Laptop stolen", "--json").json()["id"])
    ok("status", incident, "investigating")
    return incident


def _events(url: str, incident: str) -> int:
    return len(query(url, f"SELECT id FROM audit_event WHERE incident_id = {incident}"))


def _verify(*args: str) -> tuple[int, dict]:
    result = run_cli("audit", "verify", *args, "--json")
    return result.exit_code, result.json()


def test_a_fresh_database_seals_boundary_zero_signed_with_the_key(tocsin_db: str, tocsin_home: Path) -> None:
    _incident()
    [marker] = query(tocsin_db, "SELECT boundary, key_id, mac FROM audit_legacy_boundary")
    key = (tocsin_home / "audit-key").read_text().strip().encode()
    assert marker["boundary"] == 0 and marker["mac"] == boundary_mac(key, 0, "")
    assert _verify("all")[0] == 0


def test_whole_timeline_rewritten_unkeyed_is_caught_without_a_checkpoint(tocsin_db: str) -> None:
    incident = _incident()
    rewrite_chain(tocsin_db, incident, key=None)  # the downgrade: every hash recomputed, unkeyed
    ok("audit", "repair-guards")
    code, data = _verify("all")
    problems = data["problems"][f"INC-{incident}"]
    assert code == 1 and data["database"] == [], data
    assert len(problems) == _events(tocsin_db, incident) and all(
        "above the legacy boundary (row id 0" in p for p in problems
    )
    assert not any("unkeyed (written before" in note for note in data["notes"])  # tampering is not a legacy note


def test_removed_marker_is_tampering_and_is_never_sealed_again(tocsin_db: str) -> None:
    incident = _incident()
    tamper(tocsin_db, "DELETE FROM audit_legacy_boundary")
    ok("audit", "repair-guards")
    ok("status", incident, "contained", "--reason", "disk was encrypted")  # a keyed write does not re-seal it
    assert query(tocsin_db, "SELECT * FROM audit_legacy_boundary") == []
    code, data = _verify("all")
    assert code == 1 and "the legacy boundary marker (table audit_legacy_boundary) is missing" in data["database"][0]


def test_raised_boundary_is_refused_as_forged(tocsin_db: str) -> None:
    incident = _incident()
    rewrite_chain(tocsin_db, incident, key=None)
    tamper(tocsin_db, "UPDATE audit_legacy_boundary SET boundary = 1000")
    code, data = _verify("all")
    assert code == 1 and "does not carry the audit key's signature" in json.dumps(data["database"])
    assert data["problems"][f"INC-{incident}"]  # and no unkeyed event is trusted meanwhile


def test_a_database_from_before_the_keyed_chain_verifies_then_seals(tocsin_db: str) -> None:
    first, second = _incident(), _incident()
    as_before_the_keyed_chain(tocsin_db, first, second)
    ok("audit", "repair-guards")
    code, data = _verify("all")  # no keyed event anywhere, no marker: every event may be legacy
    assert code == 0 and sum("unkeyed (written before" in note for note in data["notes"]) == 2, data
    ok("status", second, "contained", "--reason", "found")  # the first keyed event: boundary = newest event
    newest = _events(tocsin_db, first) + _events(tocsin_db, second) - 1  # the keyed one is the newest
    assert query(tocsin_db, "SELECT boundary FROM audit_legacy_boundary") == [{"boundary": newest}]
    assert _verify("all")[0] == 0


def test_downgrade_of_the_whole_database_with_marker_removed_is_caught_by_a_checkpoint(
    tocsin_db: str, tmp_path: Path
) -> None:
    """What remains (documented): rewriting every event unkeyed and deleting the marker looks like a database
    from before the keyed chain; only a checkpoint kept outside it tells the difference."""
    incident = _incident()
    kept = tmp_path / "anchor.jsonl"
    ok("audit", "checkpoint", "--to", str(kept))
    assert json.loads(kept.read_text())["legacy_boundary"] == 0
    as_before_the_keyed_chain(tocsin_db, incident)
    ok("audit", "repair-guards")
    assert _verify("all")[0] == 0  # the chain alone cannot tell
    code, data = _verify("all", "--checkpoint", str(kept))
    assert code == 1 and any("marker is missing, the checkpoint" in line for line in data["database"]), data
    assert f"{_events(tocsin_db, incident)} unkeyed event(s), the checkpoint" in json.dumps(data["problems"])
    assert not any("unkeyed (written before" in note for note in data["notes"])  # contradicted: not legacy
