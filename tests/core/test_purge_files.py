"""Personal data in files is removed after its retention period, and only then."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.helpers import ok


def _aged(path: Path, days: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    past = time.time() - days * 86400
    os.utime(path, (past, past))
    return path


def test_purge_removes_only_expired_personal_files(tocsin_home: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOCSIN_RECIPIENT_RETENTION_DAYS", "90")
    monkeypatch.setenv("TOCSIN_MENTION_RETENTION_DAYS", "30")
    old_mail = _aged(tocsin_home / "outbox" / "20260101_a.eml", 120)
    new_mail = _aged(tocsin_home / "outbox" / "20261120_b.eml", 2)
    old_list = _aged(tocsin_home / "drills" / "d1" / "recipients.csv", 100)
    old_stream = _aged(tocsin_home / "drills" / "d1" / "mentions.jsonl", 40)
    young_stream = _aged(tocsin_home / "drills" / "d2" / "mentions.jsonl", 10)
    scorecard = _aged(tocsin_home / "drills" / "d1" / "scorecard.md", 400)

    dry = ok("purge", "--dry-run", "--json").json()
    assert dry["files"] == {"outbox": 1, "claims": 0, "recipients": 1, "mentions": 1}
    assert old_mail.exists()

    done = ok("purge", "--json").json()
    assert done["files"] == {"outbox": 1, "claims": 0, "recipients": 1, "mentions": 1}
    assert not old_mail.exists() and not old_list.exists() and not old_stream.exists()
    assert new_mail.exists() and young_stream.exists() and scorecard.exists()


def test_purge_removes_outbox_claims_and_leftover_copies_past_the_recipient_retention(
    tocsin_home: Path, monkeypatch
) -> None:
    monkeypatch.setenv("TOCSIN_RECIPIENT_RETENTION_DAYS", "90")
    outbox = tocsin_home / "outbox"
    old_claim = _aged(outbox / ".claims" / f"{'a' * 64}.json", 120)  # empty once its message was in place
    new_claim = _aged(outbox / ".claims" / f"{'b' * 64}.eml", 2)
    old_copy = _aged(outbox / ".tmp-k1lled", 120)  # the temporary copy of a writer killed mid-write
    new_copy = _aged(outbox / ".tmp-wr1ting", 0)  # a writer's, right now
    drill_claim = _aged(tocsin_home / "drills" / "d1" / "outbox" / ".claims" / f"{'c' * 64}.json", 100)

    dry = ok("purge", "--dry-run", "--json").json()
    assert dry["files"] == {"outbox": 1, "claims": 2, "recipients": 0, "mentions": 0} and old_claim.exists()
    said = ok("purge").stdout
    assert "Files removed: 1 outbox message(s), 2 outbox claim(s), 0 recipient list(s)" in said
    assert not old_claim.exists() and not old_copy.exists() and not drill_claim.exists()
    assert new_claim.exists() and new_copy.exists()
