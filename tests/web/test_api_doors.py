"""Issue #14, one door per action, through the JSON API: every action has a route, the route calls the action
with the token's person, and the role policy decides. A person the policy allows succeeds; anyone else gets
403 and, for an action on an incident, the refusal `<action>_refused` is on that incident's timeline. The
directory's actions (people, admins, passwords, tokens, suppressions) belong to no incident: their refusals
are logged instead.

People (tests/web/conftest.py): alice declares and commands; lena, bob and carl hold nothing until given a
role; `olga` is added as an observer and `adam` as the directory's admin where a test needs them.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import yaml

from tests.web.conftest import Api, add_person, assign, declare, timeline
from tests.web.test_approvals_and_acks import INPUTS
from tests.web.test_auth_and_incidents import AWARE, SAMPLE

GDPR = "eu.gdpr.art33.supervisory_authority"


def refused(api: Api, incident: int, action: str) -> list[str]:
    """Who was refused `action` (a policy verb, e.g. `role.assign`) on the incident's timeline."""
    return [e["actor"] for e in timeline(api, incident) if e["action"] == f"{action}_refused"]


def refused_with(response: Any, *words: str) -> bool:
    text = response.json().get("error", "")
    return response.status_code == 403 and all(word in text for word in words)


@pytest.fixture
def woken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The incidents whose waiting runs an action woke (after the response)."""
    calls: list[int] = []
    monkeypatch.setattr("tocsin.flows.launch.wake", lambda incident_id: calls.append(incident_id) or [])
    return calls


def test_the_hostile_sequences_of_the_issue_are_refused_and_recorded(api: Api, woken: list[int]) -> None:
    incident = declare(api)["id"]
    add_person(api, "olga")
    assign(api, incident, "observer", "olga")

    legal_for_herself = api.post(f"/api/incidents/{incident}/roles", "olga", json={"role": "legal", "person": "olga"})
    assert refused_with(legal_for_herself, "olga is not commander or an admin", "policy role.assign")
    commander_for_himself = api.post(
        f"/api/incidents/{incident}/roles", "carl", json={"role": "commander", "person": "carl"}
    )
    assert refused_with(commander_for_himself, "carl is not commander")
    self_grant = api.post(f"/api/incidents/{incident}/roles", "alice", json={"role": "legal", "person": "alice"})
    assert refused_with(self_grant, "cannot give themselves a role")
    assert refused(api, incident, "role.assign") == ["olga", "carl", "alice"]

    closing = api.post(f"/api/incidents/{incident}/close", "carl", json={"reason": "nothing to see"})
    assert refused_with(closing, "carl is not commander")
    closing_by_status = api.post(f"/api/incidents/{incident}/status", "carl", json={"status": "closed"})
    assert refused_with(closing_by_status, "policy incident.close")
    moving = api.post(f"/api/incidents/{incident}/status", "olga", json={"status": "investigating"})
    assert refused_with(moving, "olga is not commander")
    assert refused(api, incident, "incident.close") == ["carl", "carl"]
    assert refused(api, incident, "incident.status") == ["olga"]

    document = yaml.safe_load(SAMPLE.read_text().replace("AWARE_AT", AWARE))
    facts = api.put(f"/api/incidents/{incident}/facts", "carl", json=document)
    assert refused_with(facts, "carl is not commander, legal or dpo")
    submitted = api.post(f"/api/incidents/{incident}/events", "carl", json={"submitted": GDPR, "note": "done"})
    assert refused_with(submitted, "policy clock.submission")
    event = api.post(f"/api/incidents/{incident}/events", "olga", json={"event": "materiality_determined"})
    assert refused_with(event, "policy clock.event")
    assert refused(api, incident, "incident.facts") == ["carl"]
    assert refused(api, incident, "clock.submission") == ["carl"]
    assert refused(api, incident, "clock.event") == ["olga"]

    nobody = api.post(f"/api/incidents/{incident}/roles", json={"role": "legal", "person": "lenna"})
    assert nobody.status_code == 404 and "did you mean lena?" in nobody.json()["error"]
    assert "lenna" not in [p["handle"] for p in api.get("/api/people").json()]  # nobody is created by assigning

    shown = api.get(f"/api/incidents/{incident}").json()
    assert shown["status"] == "declared"
    assert sorted((r["role"], r["person"]) for r in shown["roles"]) == [("commander", "alice"), ("observer", "olga")]
    assert woken == [incident]  # olga's assignment; no refusal wakes anything
    for event in timeline(api, incident):
        if event["action"].endswith("_refused"):
            assert event["payload"]["via"] == "api" and event["payload"]["rule"]


def test_the_commander_or_an_admin_unassigns_and_closes(api: Api, woken: list[int]) -> None:
    incident = declare(api)["id"]
    add_person(api, "adam", admin=True)
    assign(api, incident, "legal", "lena")
    taking = api.delete(f"/api/incidents/{incident}/roles/legal/lena", "carl")
    assert refused_with(taking, "policy role.unassign")
    assert refused(api, incident, "role.unassign") == ["carl"]

    taken = api.delete(f"/api/incidents/INC-{incident}/roles/legal/lena", "alice")
    assert taken.status_code == 200, taken.text
    assert {"role": "legal", "person": "lena"} not in taken.json()["roles"]
    not_held = api.delete(f"/api/incidents/{incident}/roles/legal/lena", "alice")
    assert not_held.status_code == 422 and "lena is not legal" in not_held.json()["error"]
    last = api.delete(f"/api/incidents/{incident}/roles/commander/alice", "alice")
    assert last.status_code == 422 and "only commander" in last.json()["error"]
    stale = api.delete(f"/api/incidents/{incident}/roles/commander/alice", "alice", params={"if_version": 0})
    assert stale.status_code == 409

    by_admin = api.post(f"/api/incidents/{incident}/roles", "adam", json={"role": "legal", "person": "lena"})
    assert by_admin.status_code == 201  # an admin stands in for an absent commander
    closed = api.post(f"/api/incidents/{incident}/close", "alice", json={"reason": "contained, nobody at risk"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    changed = [e for e in timeline(api, incident) if e["action"] == "incident.status_changed"]
    assert changed[-1]["actor"] == "alice" and changed[-1]["payload"]["via"] == "api"

    other = declare(api)["id"]
    assert api.post(f"/api/incidents/{other}/close", "adam", json={}).json()["status"] == "closed"
    assert api.post(f"/api/incidents/{other}/close", "adam", json={}).status_code == 422  # already closed
    assert api.post("/api/incidents/999/close", "adam", json={}).status_code == 404
    assert woken == [incident, incident, incident, other]  # lena twice, the close, the other's close


def test_drafts_are_written_by_responders_decided_by_legal_and_sent_by_the_audiences_senders(
    api: Api, woken: list[int]
) -> None:
    incident = declare(api)["id"]
    assign(api, incident, "comms", "bob")
    assign(api, incident, "legal", "lena")
    body = {"template": "customer_notice", "inputs": INPUTS, "locale": "fr"}

    by_stranger = api.post(f"/api/incidents/{incident}/drafts", "carl", json=body)
    assert refused_with(by_stranger, "policy draft.create")
    made = api.post(f"/api/incidents/{incident}/drafts", "bob", json=body)
    assert made.status_code == 201, made.text
    draft = made.json()
    assert draft["status"] == "drafted" and draft["locale"] == "fr" and draft["drafted_by"] == "bob"
    assert draft["locale_reason"]
    unknown = api.post(f"/api/incidents/{incident}/drafts", "bob", json={**body, "template": "../etc/passwd"})
    assert unknown.status_code == 404 and "no template" in unknown.json()["error"]

    path = f"/api/drafts/D-{draft['id']}"
    assert refused_with(api.post(f"{path}/edit", "carl", json={"subject": "Hello"}), "policy draft.edit")
    edited = api.post(f"{path}/edit", "bob", json={"subject": "Important: your account"})
    assert edited.status_code == 200 and edited.json()["revision"] == 2
    assert edited.json()["subject"] == "Important: your account"
    both = api.post(f"{path}/edit", "bob", json={"subject": "x", "inputs": {"organisation": "y"}})
    assert both.status_code == 422 and "not both" in both.json()["error"]

    assert refused_with(api.post(f"{path}/review", "carl"), "policy draft.review")
    in_review = api.post(f"{path}/review", "bob")
    assert in_review.status_code == 200, in_review.text
    assert in_review.json()["status"] == "in_review" and in_review.json()["reviewers"] == ["lena"]

    sha = edited.json()["sha256"]
    assert api.post(f"{path}/approve", "lena", json={}).status_code == 422  # the reviewed hash is required
    approved = api.post(f"{path}/approve", "lena", json={"sha256": sha[:16], "comment": "Clear."})
    assert approved.status_code == 200 and approved.json()["decision"] == "approved"

    filed_by_legal = api.post(f"{path}/sent", "lena", json={"reference": "post-1"})
    assert refused_with(filed_by_legal, "lena is not commander or comms", "policy draft.send_public")
    sent = api.post(f"{path}/sent", "bob", json={"reference": "mailing 7"})
    assert sent.status_code == 200, sent.text
    assert (sent.json()["status"], sent.json()["sent_by"], sent.json()["sent_reference"]) == (
        "sent",
        "bob",
        "mailing 7",
    )
    assert refused(api, incident, "draft.create") == ["carl"]
    assert refused(api, incident, "draft.edit") == ["carl"]
    assert refused(api, incident, "draft.review") == ["carl"]
    assert refused(api, incident, "draft.send_public") == ["lena"]
    assert api.post("/api/drafts/999/sent", "bob", json={}).status_code == 404
    assert api.post("/api/drafts/nope/review", "bob").status_code == 422
    assert woken.count(incident) == 4  # two assignments, the approval, the sending


def started_run(api: Api) -> tuple[int, int]:
    """carl declares with the data-breach playbook (alice commands): the declarer launches the first playbook."""
    response = api.post("/api/incidents", "carl", json={
        "title": "Stolen laptop", "commander": "alice", "playbook": "data-breach",
        "inputs": {"summary": "A laptop with a customer export was stolen."},
    })  # fmt: skip
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["commander"] == "alice" and data["playbook_run"]["run"]
    return data["id"], data["playbook_run"]["run"]


def test_runs_and_their_inputs(api: Api, woken: list[int]) -> None:
    incident, run = started_run(api)
    listed = api.get(f"/api/incidents/{incident}/runs").json()
    assert [(r["run"], r["playbook"]) for r in listed] == [(run, "data-breach")]
    assert api.get("/api/incidents/999/runs").status_code == 404
    a_path = api.post("/api/incidents", "carl", json={"title": "x", "playbook": "/etc/passwd.yaml"})
    assert a_path.status_code == 422 and "no built-in playbook" in a_path.json()["error"]
    again = api.post(f"/api/incidents/{incident}/playbooks", "carl", json={"playbook": "social-crisis"})
    assert refused_with(again, "policy playbook.launch")  # only while declaring, only the first

    inputs = {"inputs": {"approx_records": "about 1,200"}}
    assert refused_with(api.post(f"/api/runs/{run}/inputs", "carl", json=inputs), "policy playbook.input")
    assign(api, incident, "legal", "lena")
    given = api.post(f"/api/runs/{run}/inputs", "lena", json=inputs)
    assert given.status_code == 200 and given.json() == {"run": run, "incident": f"INC-{incident}"}
    assert ("lena", "playbook.inputs") in [(e["actor"], e["action"]) for e in timeline(api, incident)]
    unknown = api.post(f"/api/runs/{run}/inputs", "lena", json={"inputs": {"shoe_size": "42"}})
    assert unknown.status_code == 422 and "has no input(s) shoe_size" in unknown.json()["error"]
    assert api.post("/api/runs/99999/inputs", "lena", json=inputs).status_code == 404
    assert api.post("/api/runs/R1/inputs", "lena", json=inputs).status_code == 422
    assert api.post(f"/api/runs/{run}/inputs", "lena", json={}).status_code == 422
    assert refused(api, incident, "playbook.launch") == ["carl"]
    assert refused(api, incident, "playbook.input") == ["carl"]
    assert woken.count(incident) == 2  # lena's assignment, her inputs


def add_tasks(incident: int, *roles: str) -> None:
    """Checklist tasks as a playbook's `checklist` step leaves them (one per role)."""
    from tocsin.models.checklist import ChecklistItem

    from tocsin.db.engine import session_scope

    with session_scope() as session:
        for number, role in enumerate(roles, 1):
            session.add(ChecklistItem(incident_id=incident, source="test/triage", number=number,
                                      title=f"Triage for {role}", role=role))  # fmt: skip


def test_checklist_tasks_are_done_by_their_role_or_the_commander(api: Api, woken: list[int]) -> None:
    incident = declare(api)["id"]
    add_tasks(incident, "it", "legal")
    tasks = api.get(f"/api/incidents/{incident}/tasks").json()
    assert [(t["role"], t["incident"], t["done_by"]) for t in tasks] == [
        ("it", f"INC-{incident}", None),
        ("legal", f"INC-{incident}", None),
    ]
    it_task, legal_task = tasks
    assert api.get("/api/incidents/999/tasks").status_code == 404
    assign(api, incident, "legal", "lena")

    assert refused_with(api.post(f"/api/tasks/{it_task['id']}/done", "lena"), "holds neither the it role")
    assert refused_with(api.post(f"/api/tasks/{it_task['id']}/done", "carl"), "policy task.done")
    done = api.post(f"/api/tasks/{legal_task['id']}/done", "lena")
    assert done.status_code == 200 and done.json()["done_by"] == "lena"
    by_commander = api.post(f"/api/tasks/{it_task['id']}/done", "alice")
    assert by_commander.status_code == 200 and by_commander.json()["task"] == it_task["id"]
    twice = api.post(f"/api/tasks/{it_task['id']}/done", "alice")
    assert twice.status_code == 422 and "already done" in twice.json()["error"]
    assert api.post("/api/tasks/99999/done").status_code == 404
    assert api.post("/api/tasks/abc/done").status_code == 422
    listed = {t["id"]: t["done_by"] for t in api.get(f"/api/incidents/{incident}/tasks").json()}
    assert (listed[it_task["id"]], listed[legal_task["id"]]) == ("alice", "lena")
    assert refused(api, incident, "task.done") == ["lena", "carl"]
    assert woken == [incident] * 3  # lena's assignment, two tasks done


def test_the_directory_is_the_admins(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    person = {"handle": "dora", "name": "Dora Weiss", "email": "dora@example.org", "timezone": "Europe/Berlin"}
    no_admin_yet = api.post("/api/people", "carl", json=person)
    assert refused_with(no_admin_yet, "carl is not an admin")  # bootstrapping is the local operator's only
    assert "refused: person.add by carl via api" in caplog.text

    add_person(api, "adam", admin=True)
    assert api.get("/api/me", "adam").json() == {"handle": "adam", "is_admin": True}
    assert api.get("/api/me", "carl").json() == {"handle": "carl", "is_admin": False}
    added = api.post("/api/people", "adam", json=person)
    assert added.status_code == 201, added.text
    assert added.json()["handle"] == "dora" and added.json()["timezone"] == "Europe/Berlin"
    assert "dora" in [p["handle"] for p in api.get("/api/people", "carl").json()]
    assert api.post("/api/people", "adam", json={"handle": "bad handle!"}).status_code == 422
    assert api.post("/api/people", "adam", json={"handle": "eve", "timezone": "Mars/Olympus"}).status_code == 422
    promote_self = api.post("/api/people", "carl", json={"handle": "carl", "admin": True})
    assert refused_with(promote_self, "carl is not an admin")

    assert refused_with(api.post("/api/people/carl/admin", "carl", json={"admin": True}), "policy person.admin")
    granted = api.post("/api/people/dora/admin", "adam", json={"admin": True})
    assert granted.status_code == 200 and granted.json()["is_admin"] is True
    assert api.post("/api/people/nobody/admin", "adam", json={"admin": True}).status_code == 404
    assert api.post("/api/people/dora/admin", "adam", json={}).status_code == 422
    assert api.get("/api/me", "carl").json()["is_admin"] is False


def test_a_password_is_its_owners_or_an_admins(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "a long enough passphrase"
    own = api.put("/api/people/carl/password", "carl", json={"password": secret})
    assert own.status_code == 200 and own.json()["has_password"] is True
    for_lena = api.put("/api/people/lena/password", "carl", json={"password": secret})
    assert refused_with(for_lena, "carl acts for themselves only")
    short = api.put("/api/people/carl/password", "carl", json={"password": "short"})
    assert short.status_code == 422 and "at least 12" in short.json()["error"]
    assert api.put("/api/people/carl/password", "carl", json={}).status_code == 422

    add_person(api, "adam", admin=True)
    set_by_admin = api.put("/api/people/lena/password", "adam", json={"password": secret})
    assert set_by_admin.status_code == 200 and set_by_admin.json()["has_password"] is True
    assert refused_with(api.delete("/api/people/lena/password", "bob"), "bob acts for themselves only")
    removed = api.delete("/api/people/carl/password", "carl")
    assert removed.status_code == 200 and removed.json()["has_password"] is False
    assert api.delete("/api/people/nobody/password", "adam").status_code == 404
    assert secret not in caplog.text


def test_tokens_are_minted_listed_and_revoked_by_their_owner_or_an_admin(api: Api) -> None:
    mine = api.post("/api/tokens", "carl", json={"name": "nightly export"})
    assert mine.status_code == 201, mine.text
    minted = mine.json()
    assert minted["person"] == "carl" and minted["name"] == "nightly export" and minted["token"].startswith("tsn_")
    me = api.client.get("/api/me", headers={"Authorization": f"Bearer {minted['token']}"})
    assert me.json() == {"handle": "carl", "is_admin": False}
    assert refused_with(api.post("/api/tokens", "carl", json={"person": "lena"}), "carl acts for themselves only")
    assert api.post("/api/tokens", "carl", json={"name": "x" * 101}).status_code == 422

    listed = api.get("/api/tokens", "carl").json()
    assert {t["person"] for t in listed} == {"carl"} and len(listed) == 2
    assert all("token" not in t for t in listed)

    add_person(api, "adam", admin=True)
    for_lena = api.post("/api/tokens", "adam", json={"person": "lena", "name": "legal review script"})
    assert for_lena.status_code == 201 and for_lena.json()["person"] == "lena"
    everyone = api.get("/api/tokens", "adam").json()
    assert {t["person"] for t in everyone} == {"alice", "lena", "bob", "carl", "adam"}
    assert all("token" not in t for t in everyone)

    lenas = for_lena.json()["id"]
    assert refused_with(api.delete(f"/api/tokens/{lenas}", "carl"), "policy token.revoke")
    revoked = api.delete(f"/api/tokens/{lenas}", "lena")
    assert revoked.status_code == 200 and revoked.json()["person"] == "lena" and revoked.json()["revoked_at"]
    by_admin = api.delete(f"/api/tokens/{minted['id']}", "adam")
    assert by_admin.status_code == 200
    gone = api.client.get("/api/me", headers={"Authorization": f"Bearer {minted['token']}"})
    assert gone.status_code == 401
    assert api.delete("/api/tokens/99999", "adam").status_code == 404
    assert api.delete("/api/tokens/abc", "adam").status_code == 422
    assert api.delete("/api/tokens/99999999999", "adam").status_code == 404


def test_suppressions_by_comms_legal_dpo_or_an_admin(api: Api) -> None:
    incident = declare(api)["id"]
    entry = {"email": "Ann@Example.com", "reason": "opt-out", "note": "asked by phone"}
    assert refused_with(api.post("/api/suppressions", "carl", json=entry), "on any open incident", "suppression.add")
    assign(api, incident, "comms", "bob")
    added = api.post("/api/suppressions", "bob", json=entry)
    assert added.status_code == 201, added.text
    assert (added.json()["email"], added.json()["created"]) == ("ann@example.com", True)
    assert api.post("/api/suppressions", "bob", json=entry).json()["created"] is False
    assert api.post("/api/suppressions", "bob", json={**entry, "reason": "dislike"}).status_code == 422
    assert api.post("/api/suppressions", "bob", json={"email": "not-an-address"}).status_code == 422

    closed = api.post(f"/api/incidents/{incident}/close", json={})
    assert closed.status_code == 200
    assert refused_with(api.post("/api/suppressions", "bob", json={"email": "ben@example.com"}), "open incident")
    add_person(api, "adam", admin=True)
    assert (
        api.post("/api/suppressions", "adam", json={"email": "ben@example.com", "reason": "manual"}).status_code == 201
    )
    listed = api.get("/api/suppressions", "carl").json()
    assert [(s["email"], s["by"]) for s in listed] == [("ann@example.com", "bob"), ("ben@example.com", "adam")]
    assert [s["email"] for s in api.get("/api/suppressions", params={"reason": "manual"}).json()] == ["ben@example.com"]


def test_login_trades_a_password_for_a_token_and_is_throttled(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "correct horse battery staple"
    assert api.put("/api/people/lena/password", "lena", json={"password": secret}).status_code == 200
    anonymous = api.client

    logged_in = anonymous.post("/api/login", json={"handle": "Lena", "password": secret})
    assert logged_in.status_code == 200, logged_in.text
    token = logged_in.json()["token"]
    assert logged_in.json()["person"] == "lena" and token.startswith("tsn_")
    me = anonymous.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"handle": "lena", "is_admin": False}
    named = [t["name"] for t in api.get("/api/tokens", "lena").json()]
    assert "tocsin login" in named
    laptop = anonymous.post("/api/login", json={"handle": "lena", "password": secret, "name": "lena's laptop"})
    assert laptop.json()["name"] == "lena's laptop"

    wrong = anonymous.post("/api/login", json={"handle": "lena", "password": "not the password"})
    assert wrong.status_code == 401 and wrong.json() == {"error": "wrong handle or password"}
    unknown = anonymous.post("/api/login", json={"handle": "nobody", "password": secret})
    assert unknown.status_code == 401 and unknown.json() == {"error": "wrong handle or password"}
    no_password = anonymous.post("/api/login", json={"handle": "bob", "password": secret})
    assert no_password.status_code == 401
    assert anonymous.post("/api/login", json={"handle": "lena"}).status_code == 422

    for _ in range(4):  # five failures for lena in all (TOCSIN_WEB_LOGIN_ATTEMPTS' default): locked
        anonymous.post("/api/login", json={"handle": "lena", "password": "still not it"})
    locked = anonymous.post("/api/login", json={"handle": "lena", "password": secret})
    assert locked.status_code == 429 and "too many failed log-ins" in locked.json()["error"]
    assert secret not in caplog.text and "not the password" not in caplog.text
