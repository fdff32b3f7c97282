"""Finding 2 (approvals): sending needs the keyed `draft.approved` events on the timeline, not only approval rows;
an unkeyed one counts only below the legacy boundary (written before the keyed chain)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tocsin.templates.render import content_sha256

from tests.audit.tamper import as_before_the_keyed_chain, forge_unkeyed_event, rewrite_chain, tamper
from tests.drafts.scenario import CUSTOMER_INPUTS, current_sha256, declare_sample_breach, draft, inputs_file
from tests.helpers import ok, run_cli


@pytest.fixture
def made(tocsin_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("TOCSIN_USER", "alice")
    incident = declare_sample_breach(tmp_path)
    made = draft(incident, "customer_notice", inputs_file(tmp_path, CUSTOMER_INPUTS))
    ok("review", str(made["id"]), "--as", "bob")
    return made


def test_text_changed_in_the_database_with_recomputed_hashes_is_not_sent(tocsin_db: str, made: dict) -> None:
    ident = str(made["id"])
    ok("approve", ident, "--as", "lena", "--hash", current_sha256(ident))
    text = made["text"] + "\nPay the ransom to this wallet."
    shown = ok("draft", "show", ident, "--json").json()
    sha = content_sha256(shown["template"], shown["template_version"], shown["subject"], text, shown["html"])
    quoted = text.replace("'", "''")
    tamper(
        tocsin_db,
        f"UPDATE draft SET text = '{quoted}', content_sha256 = '{sha}' WHERE id = {ident}",
        f"UPDATE approval SET content_sha256 = '{sha}' WHERE draft_id = {ident}",
    )
    refused = run_cli("draft", "mark-sent", ident)
    assert refused.exit_code == 4 and "the audit timeline records 0 approval(s)" in refused.stderr


def test_hand_inserted_approval_row_does_not_let_a_draft_out(tocsin_db: str, made: dict) -> None:
    ident, sha = str(made["id"]), made["sha256"]
    tamper(
        tocsin_db,
        "INSERT INTO approval (draft_id, revision, content_sha256, template_version, approver, decided_at, decision) "
        f"VALUES ({ident}, 1, '{sha}', '1.0.0', 'lena', CURRENT_TIMESTAMP, 'approved')",
        f"UPDATE draft SET status = 'approved' WHERE id = {ident}",
    )
    refused = run_cli("draft", "mark-sent", ident)
    assert refused.exit_code == 4 and "records 0 approval(s)" in refused.stderr


def test_a_properly_approved_draft_is_sent(tocsin_db: str, made: dict) -> None:
    ident = str(made["id"])
    ok("approve", ident, "--as", "lena", "--hash", current_sha256(ident))
    assert ok("draft", "mark-sent", ident, "--json").json()["status"] == "sent"


def _incident_of(made: dict) -> str:
    return made["incident"].removeprefix("INC-")


def test_forged_unkeyed_approval_is_refused_even_after_a_later_keyed_event(tocsin_db: str, made: dict) -> None:
    ident, sha, incident = str(made["id"]), made["sha256"], _incident_of(made)
    rewrite_chain(tocsin_db, incident, key=None, actor=None)  # the whole timeline downgraded to unkeyed
    forge_unkeyed_event(
        tocsin_db,
        incident,
        actor="lena",
        action="draft.approved",
        payload={"draft": made["ref"], "revision": 1, "sha256": sha, "approvals": "1 of 1", "via": "cli"},
    )
    tamper(
        tocsin_db,
        "INSERT INTO approval (draft_id, revision, content_sha256, template_version, approver, decided_at, decision) "
        f"VALUES ({ident}, 1, '{sha}', '1.0.0', 'lena', CURRENT_TIMESTAMP, 'approved')",
        f"UPDATE draft SET status = 'approved' WHERE id = {ident}",
    )
    ok("audit", "repair-guards")
    ok("status", incident, "investigating", "--as", "alice")  # a keyed event now follows the forged one
    refused = run_cli("draft", "mark-sent", ident)
    assert refused.exit_code == 4, refused.stderr
    assert "does not verify" in refused.stderr and "above the legacy boundary" in refused.stderr


def test_an_approval_from_before_the_keyed_chain_still_lets_the_draft_out(tocsin_db: str, made: dict) -> None:
    ident = str(made["id"])
    ok("approve", ident, "--as", "lena", "--hash", current_sha256(ident))
    as_before_the_keyed_chain(tocsin_db, _incident_of(made))  # approved by an older Tocsin: unkeyed, no marker
    ok("audit", "repair-guards")
    ok("status", _incident_of(made), "investigating", "--as", "alice")  # seals the boundary above the approval
    assert ok("draft", "mark-sent", ident, "--json").json()["status"] == "sent"
