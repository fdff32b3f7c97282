"""A drill signs its timeline with a key of its own and checkpoints into its own folder: never the operator's
key, never the operator's checkpoint log. It is verified by naming its folder (`audit verify --drill`)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import ok, run_cli
from tocsin.audit.chain import key_id_of
from tocsin.core.config import get_settings

OPERATOR_KEY = "the operator's production audit key"


def test_a_drill_uses_its_own_key_and_checkpoint_log(
    tocsin_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    production_log = tmp_path / "anchor" / "tocsin.jsonl"
    monkeypatch.setenv("TOCSIN_AUDIT_KEY", OPERATOR_KEY)
    monkeypatch.setenv("TOCSIN_AUDIT_CHECKPOINT_FILE", str(production_log))
    card = ok("drill", "social-crisis", "--no-prefect", "--speed", "0", "--json").json()
    folder = Path(card["drill"]["folder"])

    assert not production_log.exists()  # no simulated-clock line in the operator's log
    assert os.environ["TOCSIN_AUDIT_KEY"] == OPERATOR_KEY  # restored after the drill
    drill_key = (folder / "audit-key").read_bytes().strip()
    assert (folder / "audit-key").stat().st_mode & 0o777 == 0o600 and drill_key != OPERATOR_KEY.encode()
    with sqlite3.connect(folder / "tocsin.db") as connection:
        signers = {key_id for (key_id,) in connection.execute("SELECT DISTINCT key_id FROM audit_event")}
    assert signers == {key_id_of(drill_key)}
    assert (folder / "audit-checkpoints.jsonl").read_text().count('"kind":"checkpoint"') == 1

    verified = run_cli("audit", "verify", "all", "--drill", str(folder), "--json")
    assert verified.exit_code == 0, verified.stdout
    assert verified.json()["checkpoint"] == f"{folder / 'audit-checkpoints.jsonl'}:1"

    # Named by its database URL, a drill of this home is verified the same way (as the reviewer ran it).
    monkeypatch.setenv("TOCSIN_DATABASE_URL", f"sqlite:///{folder / 'tocsin.db'}")
    get_settings.cache_clear()
    by_url = run_cli("audit", "verify", "all", "--json")
    assert by_url.exit_code == 0 and by_url.json()["checkpoint"] == f"{folder / 'audit-checkpoints.jsonl'}:1"

    # The same folder anywhere else (its key beside its database): nothing in it is trusted.
    elsewhere = tmp_path / "copied-drill"
    shutil.copytree(folder, elsewhere)
    monkeypatch.setenv("TOCSIN_DATABASE_URL", f"sqlite:///{elsewhere / 'tocsin.db'}")
    get_settings.cache_clear()
    foreign = run_cli("audit", "verify", "all", "--json")
    assert foreign.exit_code == 1 and f"audit key(s) {key_id_of(drill_key)}" in foreign.json()["database"][0]


def test_verify_drill_refuses_a_folder_that_is_not_a_drill(tmp_path: Path) -> None:
    refused = run_cli("audit", "verify", "all", "--drill", str(tmp_path))
    assert refused.exit_code == 2 and "not a drill folder" in refused.stderr and str(tmp_path) in refused.stderr
