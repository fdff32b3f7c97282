"""Legal's decisions and escalation acks through the API: the role policy (legal decides, four-eyes, only a
person the page reached acks) answers 403 with the refusal on the timeline, and a decision or an ack wakes
waiting playbooks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.web.conftest import Api, declare, timeline

INPUTS = {
    "nature_of_breach": "Someone used a stolen staff password to copy part of our customer database.",
    "categories_of_data": ["your name", "your email address"],
    "likely_consequences": "You may receive fake emails that mention a real order.",
    "measures_taken": "We locked the misused account and changed every staff password.",
    "what_you_can_do": "Do not click links in emails about orders; we never ask for your password.",
    "organisation": "Boutique Lumière",
    "contact_name": "Claire Martin, Data Protection Officer",
    "contact_email": "dpo@example.org",
}


def draft_in_review(incident: int, author: str = "bob") -> dict:
    from tocsin.db.engine import session_scope
    from tocsin.drafts.drafting import DraftRequest, create_draft, submit_for_review
    from tocsin.drafts.views import draft_dict

    with session_scope() as session:
        drafted = create_draft(session, DraftRequest(incident, "customer_notice", inputs=dict(INPUTS)), actor=author)
        return draft_dict(submit_for_review(session, drafted.draft.id or 0, actor=author), content=False)


@pytest.fixture
def woken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records the incidents whose waiting playbook runs the API woke (the real wake needs a waiting run)."""
    calls: list[int] = []
    monkeypatch.setattr("tocsin.flows.launch.wake", lambda incident_id: calls.append(incident_id) or [])
    return calls


def test_legal_approves_through_the_api_and_others_are_refused_on_the_timeline(api: Api, woken: list[int]) -> None:
    incident = declare(api)["id"]
    api.post(f"/api/incidents/{incident}/roles", json={"role": "legal", "person": "lena"})
    api.post(f"/api/incidents/{incident}/roles", json={"role": "legal", "person": "bob"})
    made = draft_in_review(incident)
    assert [d["id"] for d in api.get(f"/api/incidents/{incident}/drafts").json()] == [made["id"]]
    assert api.get(f"/api/drafts/D-{made['id']}").json()["decision"]["sendable"] is False

    reviewed = {"sha256": made["sha256"][:12]}
    by_carl = api.post(f"/api/drafts/{made['id']}/approve", person="carl", json=reviewed)
    assert by_carl.status_code == 403 and "carl is not legal on" in by_carl.json()["error"]
    by_author = api.post(f"/api/drafts/{made['id']}/approve", person="bob", json=reviewed)
    assert by_author.status_code == 403 and "four-eyes" in by_author.json()["error"]
    refused = [(e["actor"], e["payload"]["attempted"]) for e in timeline(api, incident)
               if e["action"] == "draft.approval_refused"]  # fmt: skip
    assert refused == [("carl", "approve"), ("bob", "approve")]
    assert woken == [incident, incident]  # each role assignment, never a refused decision

    approved = api.post(f"/api/drafts/{made['id']}/approve", person="lena", json=reviewed)
    assert approved.status_code == 200, approved.text
    assert approved.json()["decision"] == "approved" and approved.json()["by"] == "lena"
    assert approved.json()["sha256"] == made["sha256"]
    shown = api.get(f"/api/drafts/{made['id']}").json()
    assert shown["status"] == "approved" and shown["decision"]["sendable"] is True
    assert woken == [incident] * 3
    again = api.post(f"/api/drafts/{made['id']}/approve", person="lena", json=reviewed)
    assert again.status_code == 422 and "not in review" in again.json()["error"]
    unhashed = api.post(f"/api/drafts/{made['id']}/approve", person="lena", json={"comment": "fine"})
    assert unhashed.status_code == 422 and "sha256" in unhashed.json()["error"]


def test_reject_needs_a_comment_and_a_changed_draft_is_a_conflict(api: Api, woken: list[int]) -> None:
    incident = declare(api)["id"]
    api.post(f"/api/incidents/{incident}/roles", json={"role": "legal", "person": "lena"})
    made = draft_in_review(incident)
    blank = api.post(f"/api/drafts/{made['id']}/reject", person="lena", json={"comment": "  "})
    assert blank.status_code == 422 and "needs a comment" in blank.json()["error"]
    typo = api.post(f"/api/drafts/{made['id']}/approve", person="lena", json={"sha256": "0" * 12})
    assert typo.status_code == 422 and "mistyped?" in typo.json()["error"]
    not_hex = api.post(f"/api/drafts/{made['id']}/approve", person="lena", json={"sha256": "looks fine"})
    assert not_hex.status_code == 422 and "not a sha256" in not_hex.json()["error"]
    edited = api.post(f"/api/drafts/{made['id']}/edit", json={"subject": "Important: your account"})
    assert edited.status_code == 200, edited.text  # alice, the commander, changes it while legal reads
    stale = api.post(f"/api/drafts/{made['id']}/approve", person="lena", json={"sha256": made["sha256"]})
    assert stale.status_code == 409 and "changed since you reviewed it" in stale.json()["error"]
    rejected = api.post(f"/api/drafts/{made['id']}/reject", person="lena", json={"comment": "Say when it happened."})
    assert rejected.json()["decision"] == "rejected" and woken == [incident] * 2  # the assignment, the decision
    assert api.get("/api/drafts/999").status_code == 404


def test_an_escalation_is_acknowledged_through_the_api(api: Api, woken: list[int]) -> None:
    incident = declare(api)["id"]
    api.post(f"/api/incidents/{incident}/roles", json={"role": "legal", "person": "lena"})
    page = start_page(incident)
    assert [e["escalation"] for e in api.get(f"/api/incidents/{incident}/escalations").json()] == [page]
    stranger = api.post(f"/api/escalations/E-{page}/ack", person="carl")
    assert stranger.status_code == 403 and "was not paged" in stranger.json()["error"]
    assert ("carl", "escalation.ack_refused") in [(e["actor"], e["action"]) for e in timeline(api, incident)]
    acked = api.post(f"/api/escalations/E-{page}/ack", person="lena")
    assert acked.status_code == 200 and acked.json()["acked_by"] == "lena" and acked.json()["status"] == "acked"
    assert api.get(f"/api/incidents/{incident}/escalations").json() == []
    assert woken == [incident] * 2  # the assignment, the ack


def start_page(incident: int) -> int:
    from tocsin.models import Role

    from tocsin.db.engine import session_scope
    from tocsin.messages.escalations import start_escalation

    with session_scope() as session:
        page = start_escalation(
            session, incident, Role.legal, subject="Approve the notice", body="Please look",
            ack_timeout=timedelta(minutes=15),
        )  # fmt: skip
        return page.id or 0
