"""A draft that needs two approvers: the first approval leaves it in review, the same person cannot count twice,
it cannot be sent until a second legal reviewer approved the same content, and an edit starts the count again."""

from __future__ import annotations

import pytest
from tocsin.models import DraftStatus
from tocsin.templates.loader import load_template

from tocsin.core.acting import Actor, Via
from tocsin.core.errors import Forbidden, InvalidInput
from tocsin.db.engine import session_scope
from tocsin.drafts import actions, approvals, drafting
from tocsin.incidents import actions as incident_actions
from tocsin.people.directory import upsert_person


def _as(handle: str) -> Actor:
    return Actor(handle, Via.api)


@pytest.fixture
def draft_in_review(tocsin_db: str) -> int:
    with session_scope() as session:
        for handle in ("cmd", "lena", "lars", "aut"):
            upsert_person(session, handle, email=f"{handle}@example.org")
    incident = incident_actions.declare(_as("cmd"), title="Two keys", commander="cmd")["id"]
    for handle in ("lena", "lars", "aut"):
        incident_actions.assign_role(_as("cmd"), incident, "legal", handle)
    loaded = load_template("status_update")
    inputs = {n: v.example for n, v in loaded.manifest.variables.items() if v.example is not None}
    request = drafting.DraftRequest(incident, "status_update", inputs=inputs, approvals_required=2)
    draft = actions.create(_as("aut"), request)["id"]
    actions.submit_for_review(_as("aut"), draft)
    return draft


def _draft(draft_id: int):  # type: ignore[no-untyped-def]
    with session_scope() as session:
        return drafting.get_draft(session, draft_id)


def test_two_distinct_approvers_are_needed_before_sending(draft_in_review: int) -> None:
    sha = _draft(draft_in_review).content_sha256
    first = actions.approve(_as("lena"), draft_in_review, sha256=sha)
    assert _draft(draft_in_review).status == DraftStatus.in_review
    with session_scope() as session:
        assert approvals.send_refusal(session, _draft(draft_in_review))[1].startswith(
            f"D-{draft_in_review} needs 2 approvals of its current content and has 1 (lena)"
        )
    with pytest.raises(InvalidInput, match="already approved revision 1"):
        actions.approve(_as("lena"), draft_in_review, sha256=sha)
    with pytest.raises(Forbidden, match="four-eyes"):
        actions.approve(_as("aut"), draft_in_review, sha256=sha)
    actions.approve(_as("lars"), draft_in_review, sha256=sha)
    assert _draft(draft_in_review).status == DraftStatus.approved
    with session_scope() as session:
        assert approvals.send_refusal(session, _draft(draft_in_review)) is None
    assert first["decision"] == "approved"


def test_an_edit_between_the_two_approvals_starts_the_count_again(draft_in_review: int) -> None:
    actions.approve(_as("lena"), draft_in_review, sha256=_draft(draft_in_review).content_sha256)
    actions.edit(_as("aut"), draft_in_review, subject="A new subject")
    new_sha = _draft(draft_in_review).content_sha256
    actions.approve(_as("lars"), draft_in_review, sha256=new_sha)
    assert _draft(draft_in_review).status == DraftStatus.in_review  # lena's approval was of the old text
    actions.approve(_as("lena"), draft_in_review, sha256=new_sha)
    assert _draft(draft_in_review).status == DraftStatus.approved
