"""What `audit verify` trusts: keys and checkpoints from configuration only (not files planted beside a SQLite
database), a named `--checkpoint` file that must describe this database, no key made up on the spot; and what
it says (counts that do not mix tampering with legacy events, keyed events only after a checkpoint)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.audit.tamper import forge_unkeyed_event, rewrite_chain, tamper
from tests.helpers import ok, run_cli
from tocsin.audit.chain import key_id_of
from tocsin.core.config import get_settings

PLANTED_KEY = b"a key the attacker wrote beside the database"


def _incident() -> str:
    incident = str(ok("declare", "--title", "Laptop stolen", "--json").json()["id"])
    ok("status", incident, "investigating")
    return incident


def _verify(*args: str) -> tuple[int, dict]:
    result = run_cli("audit", "verify", *args, "--json")
    return result.exit_code, result.json()


@pytest.fixture
def database_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A SQLite database in a folder of its own (not $TOCSIN_HOME), which a DBA can write."""
    folder = tmp_path / "db"
    folder.mkdir()
    url = f"sqlite:///{folder / 'tocsin.db'}"
    monkeypatch.setenv("TOCSIN_DATABASE_URL", url)
    return url, folder


def test_a_key_planted_beside_the_database_is_not_trusted(database_elsewhere: tuple[str, Path]) -> None:
    url, folder = database_elsewhere
    incident = _incident()
    assert _verify("all")[0] == 0  # the honest database verifies with the configured key
    rewrite_chain(url, incident, key=PLANTED_KEY, relabel=True)  # re-signed with a key of the attacker's own
    (folder / "audit-key").write_text(PLANTED_KEY.decode())
    ok("audit", "repair-guards")
    code, data = _verify("all")
    assert code == 1, data
    assert f"signed with audit key {key_id_of(PLANTED_KEY)}, which is not available here" in json.dumps(data)


def test_a_checkpoint_log_planted_beside_the_database_is_not_read(
    database_elsewhere: tuple[str, Path], tocsin_home: Path
) -> None:
    _url, folder = database_elsewhere
    _incident()
    beside = folder / "audit-checkpoints.jsonl"
    ok("audit", "checkpoint", "--to", str(beside))
    code, data = _verify("all")
    assert code == 0 and data["checkpoint"] is None
    assert data["warnings"] and data["warnings"][0].startswith("no checkpoint found")
    assert str(tocsin_home / "audit-checkpoints.jsonl") in data["warnings"][0]
    code, data = _verify("all", "--checkpoint", str(beside))  # named explicitly, it is read
    assert code == 0 and data["checkpoint"] == f"{beside}:1" and data["warnings"] == []


def test_a_named_checkpoint_file_without_this_database_is_an_error(tocsin_db: str, tmp_path: Path) -> None:
    _incident()
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"kind": "checkpoint", "database": "sqlite:////elsewhere/tocsin.db"}) + "\n")
    refused = run_cli("audit", "verify", "all", "--checkpoint", str(other))
    assert refused.exit_code == 2
    assert str(other) in refused.stderr and "no checkpoint of this database in it" in refused.stderr
    kept = tmp_path / "kept.jsonl"
    ok("audit", "checkpoint", "--to", str(kept))
    assert _verify("all", "--checkpoint", str(kept))[0] == 0


def test_normal_output_says_when_no_checkpoint_was_found(tocsin_db: str) -> None:
    _incident()
    shown = ok("audit", "verify", "all").stdout
    assert "timeline intact" in shown and "no checkpoint found" in shown


def test_verify_never_creates_a_key(tocsin_db: str, tocsin_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _verify("all")[0] == 0  # nothing signed yet: nothing to check, and no key made up
    assert not (tocsin_home / "audit-key").exists()
    _incident()
    key = (tocsin_home / "audit-key").read_text()
    (tocsin_home / "audit-key").unlink()
    code, data = _verify("all")
    assert code == 1 and not (tocsin_home / "audit-key").exists()
    assert "cannot be checked: no audit key is configured here" in data["database"][0]
    assert "TOCSIN_AUDIT_KEY" in data["database"][0]
    monkeypatch.setenv("TOCSIN_AUDIT_KEY", key)  # provided as the message says
    get_settings.cache_clear()
    assert _verify("all")[0] == 0


def test_counts_do_not_mix_tampered_and_legacy_or_keyed_and_unkeyed(tocsin_db: str) -> None:
    incident = _incident()
    ok("audit", "checkpoint")
    ok("status", incident, "contained", "--reason", "found")
    forge_unkeyed_event(tocsin_db, incident, actor="mallory", action="note", payload={"note": "forged"})
    ok("audit", "repair-guards")
    code, data = _verify("all")
    assert code == 1
    assert not any("unkeyed (written before" in note for note in data["notes"]), data["notes"]
    assert any("1 keyed event(s) written since are verified by the keyed chain alone" in n for n in data["notes"])


def test_repair_guards_json(tocsin_db: str, tocsin_home: Path) -> None:
    _incident()
    assert ok("audit", "repair-guards", "--json").json() == {"restored": [], "recorded_in": None}
    tamper(tocsin_db)  # switches the guards off
    done = ok("audit", "repair-guards", "--json").json()
    assert done["restored"] and done["recorded_in"] == str(tocsin_home / "audit-checkpoints.jsonl")
    assert _verify("all")[0] == 0
