"""The draft lifecycle through the CLI, on SQLite and PostgreSQL: drafting, review, four-eyes approval
by legal, edits after approval, rejection, and the send gate bound to the exact content hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.drafts.scenario import (
    CUSTOMER_INPUTS,
    REGULATOR_INPUTS,
    current_sha256,
    declare_sample_breach,
    draft,
    inputs_file,
    timeline_actions,
)
from tests.helpers import ok, run_cli


@pytest.fixture
def incident(tocsin_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TOCSIN_USER", "alice")  # without --as, the commander acts (e.g. marks a notice sent)
    return declare_sample_breach(tmp_path)


def approve(draft_id: int | str, person: str = "lena") -> dict:
    sha256 = current_sha256(draft_id)
    return ok("approve", str(draft_id), "--as", person, "--hash", sha256, "--json").json()


def test_sample_breach_notices_render_in_every_locale_and_legal_approves_them(incident: str, tmp_path: Path) -> None:
    regulator_inputs = inputs_file(tmp_path, REGULATOR_INPUTS)
    customer_inputs = inputs_file(tmp_path, CUSTOMER_INPUTS, "c.yaml")
    for locale in ("en", "de", "fr"):
        regulator = draft(incident, "regulator_notice", regulator_inputs, "--locale", locale)
        customer = draft(incident, "customer_notice", customer_inputs, "--locale", locale)
        assert "Boutique Lumière SAS" in regulator["subject"]
        for made in (regulator, customer):
            assert made["locale"] == locale and made["status"] == "drafted"
            assert "Claire Martin" in made["text"] and "dpo@example.org" in made["html"]
            ok("review", str(made["id"]), "--as", "bob")
            approval = approve(made["id"])
            assert approval["decision"] == "approved" and approval["sha256"] == made["sha256"]
            assert approval["by"] == "lena" and approval["template_version"] == "1.0.0"
            sent = ok("draft", "mark-sent", str(made["id"]), "--reference", "receipt 42", "--json").json()
            assert sent["status"] == "sent" and sent["sha256"] == made["sha256"]
    assert len(ok("drafts", incident, "--json").json()) == 6


def test_approval_output_shows_the_hash_that_was_approved(incident: str, tmp_path: Path) -> None:
    made = draft(incident, "regulator_notice", inputs_file(tmp_path, REGULATOR_INPUTS))
    reviewed = ok("review", str(made["id"]), "--as", "bob").stdout
    assert made["sha256"] in reviewed and "lena" in reviewed
    shown = ok("approve", f"D-{made['id']}", "--as", "lena", "--hash", made["sha256"][:12]).stdout
    assert f"Approved sha256: {made['sha256']}" in shown


def test_missing_inputs_are_listed_and_nothing_is_written(incident: str) -> None:
    result = run_cli("draft", incident, "regulator_notice", "--var", "measures_taken=Accounts locked.")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    for name in (
        "nature_of_breach",
        "categories_of_data_subjects",
        "categories_of_data",
        "approx_records",
        "likely_consequences",
    ):
        assert f"  - {name}: " in result.stderr
    assert "measures_taken" not in result.stderr and "Nothing was written" in result.stderr
    assert ok("drafts", incident, "--json").json() == []
    assert not [a for _, a, _ in timeline_actions(incident) if a.startswith("draft.")]


def test_a_contact_point_is_required(incident: str, tmp_path: Path) -> None:
    fresh = ok("declare", "--title", "No DPO yet", "--facts", str(tmp_path / "facts.yaml"), "--json").json()
    ok("assign", str(fresh["id"]), "legal", "lena")  # legal, but without an email address
    result = run_cli("draft", str(fresh["id"]), "regulator_notice", "--vars", inputs_file(tmp_path, REGULATOR_INPUTS))
    assert result.exit_code == 2
    assert "  - contact_name: " in result.stderr and "tocsin assign ID dpo PERSON" in result.stderr
    assert ok("drafts", str(fresh["id"]), "--json").json() == []


def test_self_approval_and_non_legal_approval_are_refused_and_audited(incident: str, tmp_path: Path) -> None:
    made = draft(incident, "customer_notice", inputs_file(tmp_path, CUSTOMER_INPUTS))
    ident = str(made["id"])
    ok("review", ident, "--as", "bob")

    own = run_cli("approve", ident, "--as", "bob", "--hash", made["sha256"])
    assert own.exit_code == 4
    assert "bob wrote D-" in own.stderr and "four-eyes" in own.stderr
    outsider = run_cli("approve", ident, "--as", "carl", "--hash", made["sha256"])
    assert outsider.exit_code == 4
    assert f"carl is not legal on INC-{incident}" in outsider.stderr and "policy draft.approval" in outsider.stderr
    assert run_cli("reject", ident, "--as", "carl", "--comment", "no").exit_code == 4

    refused = [
        (actor, payload)
        for actor, action, payload in timeline_actions(incident)
        if action in ("draft.approval_refused", "draft.rejection_refused")
    ]
    assert [(actor, p["attempted"]) for actor, p in refused] == [
        ("bob", "approve"),
        ("carl", "approve"),
        ("carl", "reject"),
    ]
    assert all(p["sha256"] == made["sha256"] and p["draft"] == f"D-{ident}" for _, p in refused)
    assert ok("draft", "show", ident, "--json").json()["status"] == "in_review"  # nothing else changed
    assert ok("audit", "verify", incident).exit_code == 0


def test_an_unapproved_draft_cannot_be_sent(incident: str, tmp_path: Path) -> None:
    ident = str(draft(incident, "customer_notice", inputs_file(tmp_path, CUSTOMER_INPUTS))["id"])
    refused = run_cli("draft", "mark-sent", ident)
    assert refused.exit_code == 4 and "has not been approved by legal (status: drafted)" in refused.stderr
    ok("review", ident, "--as", "bob")
    assert "has not been approved" in run_cli("draft", "mark-sent", ident).stderr
    typo = run_cli("approve", ident, "--as", "lena", "--hash", "0" * 12)  # no revision has this hash
    assert typo.exit_code == 2 and "mistyped" in typo.stderr


def test_an_edit_after_approval_needs_a_new_approval(incident: str, tmp_path: Path) -> None:
    made = draft(incident, "regulator_notice", inputs_file(tmp_path, REGULATOR_INPUTS))
    ident = str(made["id"])
    ok("review", ident, "--as", "bob")
    approve(ident)
    text = ok("draft", "show", ident, "--part", "text").stdout
    assert text == made["text"]
    edited = tmp_path / "edited.txt"
    edited.write_text(text.replace("every staff password reset", "every staff password reset twice"))
    after = ok("draft", "edit", ident, "--file", str(edited), "--as", "bob", "--json").json()
    assert after["status"] == "in_review" and after["revision"] == 2 and after["sha256"] != made["sha256"]

    refused = run_cli("draft", "mark-sent", ident)
    assert refused.exit_code == 4
    assert (
        "edited after approval: lena approved revision 1" in refused.stderr and "needs a new approval" in refused.stderr
    )
    edit_event = [p for _, a, p in timeline_actions(incident) if a == "draft.edited"][-1]
    assert "content changed after approval" in edit_event["why"]

    shown = ok("draft", "show", ident, "--json").json()
    assert "+" in shown["diff"]["text"] and "password reset twice" in shown["diff"]["text"]
    assert shown["decision"]["current"] is False and shown["decision"]["sendable"] is False
    human = ok("draft", "show", ident).stdout
    assert "superseded" in human and "-The account was disabled and every staff password reset." in human

    stale = run_cli("approve", ident, "--as", "lena", "--hash", made["sha256"])  # what lena read before the edit
    assert stale.exit_code == 3 and "changed since you reviewed it" in stale.stderr
    approve(ident)
    assert ok("draft", "mark-sent", ident, "--json").json()["status"] == "sent"
    assert run_cli("draft", "mark-sent", ident).exit_code == 3  # already sent
    assert run_cli("draft", "edit", ident, "--subject", "x").exit_code == 3


def test_rejection_then_edit_then_review_then_approval(incident: str, tmp_path: Path) -> None:
    inputs = inputs_file(tmp_path, CUSTOMER_INPUTS)
    ident = str(draft(incident, "customer_notice", inputs)["id"])
    ok("review", ident, "--as", "bob")
    assert run_cli("reject", ident, "--as", "lena").exit_code == 2  # a comment is required
    rejected = ok("reject", ident, "--as", "lena", "--comment", "Say when we found out.", "--json").json()
    assert rejected["decision"] == "rejected" and rejected["comment"] == "Say when we found out."
    assert "rejected by lena: Say when we found out." in run_cli("draft", "mark-sent", ident).stderr
    assert "edit it" in run_cli("review", ident, "--as", "bob").stderr

    rerendered = ok(
        "draft", "edit", ident, "--var", "support_url=https://example.org/notice", "--as", "bob", "--json"
    ).json()
    assert rerendered["status"] == "edited" and "https://example.org/notice" in rerendered["text"]
    assert rerendered["inputs"]["support_url"] == "https://example.org/notice"
    assert "not in review" in run_cli("approve", ident, "--as", "lena", "--hash", rerendered["sha256"]).stderr
    ok("review", ident, "--as", "bob")
    approve(ident)
    decision = ok("draft", "show", ident, "--json").json()["decision"]
    assert (decision["decision"], decision["decided_by"], decision["current"], decision["sendable"]) == (
        "approved",
        "lena",
        True,
        True,
    )
    actions = [a for _, a, _ in timeline_actions(incident) if a.startswith("draft.")]
    assert actions == [
        "draft.created",
        "draft.submitted",
        "draft.rejected",
        "draft.edited",
        "draft.submitted",
        "draft.approved",
    ]


def test_a_legal_editor_cannot_approve_their_own_edit(incident: str, tmp_path: Path) -> None:
    ident = str(draft(incident, "customer_notice", inputs_file(tmp_path, CUSTOMER_INPUTS), actor="carl")["id"])
    ok("draft", "edit", ident, "--subject", "About your account", "--as", "lena")
    ok("review", ident, "--as", "carl")
    assert "four-eyes" in run_cli("approve", ident, "--as", "lena", "--hash", current_sha256(ident)).stderr
    approve(ident, "bob")


def test_tampering_with_stored_content_blocks_the_send(incident: str, tmp_path: Path) -> None:
    from sqlalchemy import update
    from tocsin.models import Draft

    from tocsin.core.errors import Forbidden
    from tocsin.db.engine import session_scope
    from tocsin.drafts.approvals import assert_sendable

    made = draft(incident, "regulator_notice", inputs_file(tmp_path, REGULATOR_INPUTS))
    ok("review", str(made["id"]), "--as", "bob")
    approve(made["id"])
    with session_scope() as session:
        assert assert_sendable(session, made["id"]).content_sha256 == made["sha256"]
        session.exec(update(Draft).where(Draft.id == made["id"]).values(text=made["text"].replace("112", "12")))
    with session_scope() as session, pytest.raises(Forbidden, match="does not match its recorded hash"):
        assert_sendable(session, made["id"])
    assert run_cli("draft", "mark-sent", str(made["id"])).exit_code == 4


def test_locale_follows_the_recipient_then_the_incident(incident: str, tmp_path: Path) -> None:
    ok("people", "add", "hans", "--locale", "de-DE")
    ok("people", "add", "gianni", "--locale", "it")
    inputs = inputs_file(tmp_path, CUSTOMER_INPUTS)
    german = draft(incident, "customer_notice", inputs, "--recipient", "hans")
    assert (german["locale"], german["locale_reason"]) == ("de", "the recipient's locale")
    assert german["text"].startswith("Sehr geehrte")
    fallback = draft(incident, "customer_notice", inputs, "--recipient", "gianni")
    assert (fallback["locale"], fallback["locale_reason"]) == ("fr", "the incident's default locale")
    assert run_cli("draft", incident, "customer_notice", "--vars", inputs, "--locale", "it").exit_code == 2


def test_html_escapes_facts_but_text_keeps_them(incident: str, tmp_path: Path) -> None:
    made = draft(
        incident,
        "customer_notice",
        inputs_file(tmp_path, CUSTOMER_INPUTS),
        "--var",
        "nature_of_breach=We saw <script>alert(1)</script> in a form.",
    )
    assert "<script>alert(1)</script>" in made["text"]
    assert "<script>" not in made["html"] and "&lt;script&gt;alert(1)&lt;/script&gt;" in made["html"]


def test_flows_can_poll_the_decision(incident: str, tmp_path: Path) -> None:
    from tocsin.db.engine import session_scope
    from tocsin.drafts.approvals import decision_of

    ident = draft(
        incident,
        "holding_statement",
        inputs_file(
            tmp_path,
            {
                "summary": "We are investigating unauthorised access to customer data.",
                "measures_taken": "We closed the access and called in experts.",
                "next_update": "tomorrow at 10:00",
                "press_contact": "press@example.org",
            },
        ),
    )["id"]
    with session_scope() as session:
        pending = decision_of(session, ident)
    assert (pending.decision, pending.sendable) == (None, False)
    ok("review", str(ident), "--as", "bob")
    approve(ident)
    with session_scope() as session:
        decided = decision_of(session, ident)
    assert (decided.decision, decided.decided_by, decided.current, decided.sendable) == ("approved", "lena", True, True)
    listed = ok("drafts", incident, "--json").json()
    assert [(d["template"], d["status"]) for d in listed] == [("holding_statement", "approved")]


def test_inputs_can_come_from_files_and_are_stored_on_the_draft(incident: str, tmp_path: Path) -> None:
    measures = tmp_path / "measures.txt"
    measures.write_text("We locked the account.\n\nWe reset every staff password.\n")
    inputs = {k: v for k, v in CUSTOMER_INPUTS.items() if k != "measures_taken"}
    made = draft(incident, "customer_notice", inputs_file(tmp_path, inputs), "--var", f"measures_taken=@{measures}")
    assert made["inputs"]["measures_taken"] == "We locked the account.\n\nWe reset every staff password."
    assert "<p>We locked the account.</p>\n<p>We reset every staff password.</p>" in made["html"]
    bad = run_cli("draft", incident, "customer_notice", "--var", "Measures=x")
    assert bad.exit_code == 2 and "is not key=value" in bad.stderr
