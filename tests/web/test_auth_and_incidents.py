"""API tokens and the incident routes: the same services as the CLI, errors as JSON with HTTP codes."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.helpers import ok
from tests.web.conftest import Api, assign, declare, timeline

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-breach.yaml"
AWARE = "2026-11-20T10:00:00+01:00"


def test_no_token_bad_token_and_revoked_token_are_401(api: Api) -> None:
    assert api.client.get("/api/health").json()["status"] == "ok"  # health needs no token
    missing = api.client.get("/api/incidents")
    assert missing.status_code == 401 and missing.json() == {
        "error": "an API token is needed: Authorization: Bearer <token>"
    }
    assert missing.headers["www-authenticate"] == "Bearer"
    forged = api.client.get("/api/incidents", headers={"Authorization": "Bearer tsn_not-a-real-token"})
    assert (forged.status_code, forged.json()) == (401, {"error": "unknown or revoked API token"})
    assert api.client.get("/api/incidents", headers={"Authorization": "Basic abc"}).status_code == 401
    assert api.get("/api/incidents").json() == []
    listed = api.get("/api/tokens").json()  # alice's own tokens
    assert [t["person"] for t in listed] == ["alice"]
    alice = listed[0]
    assert "token" not in alice and alice["revoked_at"] is None
    revoked = api.client.delete(f"/api/tokens/{alice['id']}", headers=api.auth("alice"))
    assert revoked.status_code == 200 and revoked.json()["person"] == "alice"
    assert api.get("/api/incidents").status_code == 401


def test_token_create_prints_the_token_once_and_stores_only_its_hash(api: Api) -> None:
    from sqlmodel import select
    from tocsin.models import ApiToken

    from tocsin.db.engine import session_scope
    from tocsin.people.tokens import token_hash

    created = ok("token", "create", "carl", "--name", "nightly export", "--json").json()
    assert created["person"] == "carl" and created["token"].startswith("tsn_")
    with session_scope() as session:
        stored = session.exec(select(ApiToken).where(ApiToken.id == created["id"])).one()
    assert stored.token_sha256 == token_hash(created["token"]) and created["token"] not in stored.model_dump_json()
    me = api.client.post(
        "/api/incidents", json={"title": "Scripted"}, headers={"Authorization": f"Bearer {created['token']}"}
    )
    assert me.status_code == 201 and me.json()["commander"] == "carl"  # the caller is the token's person
    assert "no person 'nobody'" in ok_error("token", "create", "nobody")


def ok_error(*args: str) -> str:
    from tests.helpers import run_cli

    result = run_cli(*args)
    assert result.exit_code != 0
    return result.stderr


def test_declare_status_roles_clock_events_and_timeline(api: Api, tmp_path: Path) -> None:
    facts = yaml.safe_load(SAMPLE.read_text().replace("AWARE_AT", AWARE))
    incident = declare(api, aware_at=AWARE, facts=facts)
    ident = incident["id"]
    assert incident["ref"] == f"INC-{ident}" and incident["commander"] == "alice"
    clock = api.get(f"/api/incidents/INC-{ident}/clock").json()
    cli_clock = ok("clock", str(ident), "--json").json()
    assert [r["rule"] for r in clock["obligations"]] == [r["rule"] for r in cli_clock["obligations"]]
    gdpr = "eu.gdpr.art33.supervisory_authority"
    assert gdpr in {r["rule"] for r in clock["obligations"]}

    assigned = api.post(f"/api/incidents/{ident}/roles", json={"role": "legal", "person": "lena"})
    assert assigned.status_code == 201 and {"role": "legal", "person": "lena"} in assigned.json()["roles"]
    assign(api, ident, "commander", "carl")  # a second commander
    moved = api.post(f"/api/incidents/{ident}/status", person="carl", json={"status": "investigating"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "investigating"

    submitted = api.post(f"/api/incidents/{ident}/events", json={"submitted": gdpr, "note": "portal receipt 42"})
    assert submitted.status_code == 200, submitted.text
    standing = {r["rule"]: r["standing"] for r in api.get(f"/api/incidents/{ident}/clock").json()["obligations"]}
    assert standing[gdpr] == "submitted"
    actions = [(e["actor"], e["action"]) for e in timeline(api, ident)]
    assert ("carl", "incident.status_changed") in actions and ("alice", "obligation.submitted") in actions
    assert {e["payload"].get("via") for e in timeline(api, ident) if e["actor"] == "carl"} == {"api"}
    assert api.get(f"/api/incidents/{ident}").json()["status"] == "investigating"
    assert [i["id"] for i in api.get("/api/incidents", params={"open": True}).json()] == [ident]


def test_facts_replaced_through_the_api_recompute_the_obligations(api: Api) -> None:
    ident = declare(api, aware_at=AWARE)["id"]
    assign(api, ident, "legal", "lena")
    assert api.get(f"/api/incidents/{ident}/clock").json()["obligations"] == []
    facts = yaml.safe_load(SAMPLE.read_text().replace("AWARE_AT", AWARE))
    changes = api.client.put(f"/api/incidents/{ident}/facts", json=facts, headers=api.auth("lena"))
    assert changes.status_code == 200, changes.text
    assert "eu.gdpr.art33.supervisory_authority" in " ".join(changes.json()["added"])
    assert len(api.get(f"/api/incidents/{ident}/clock").json()["obligations"]) == len(changes.json()["added"])
    assert ("lena", "facts.changed") in [(e["actor"], e["action"]) for e in timeline(api, ident)]
    bad = api.client.put(f"/api/incidents/{ident}/facts", json={"entity": "nope"}, headers=api.auth("lena"))
    assert bad.status_code == 422, bad.text


def test_errors_are_json_with_the_matching_status(api: Api) -> None:
    ident = declare(api)["id"]
    assert api.get("/api/incidents/999").json() == {"error": "no incident INC-999"}
    assert api.get("/api/incidents/999").status_code == 404
    illegal = api.post(f"/api/incidents/{ident}/status", json={"status": "notifying"})
    assert illegal.status_code == 422 and "cannot go from declared to notifying" in illegal.json()["error"]
    stale = api.post(f"/api/incidents/{ident}/status", json={"status": "investigating", "if_version": 0})
    assert stale.status_code == 409 and "someone else changed it" in stale.json()["error"]
    shapeless = api.post("/api/incidents", json={"severity": "SEV1"})
    assert shapeless.status_code == 422 and "title" in shapeless.json()["error"]
    both = api.post(f"/api/incidents/{ident}/events", json={"event": "a", "submitted": "b"})
    assert both.status_code == 422 and "exactly one" in both.json()["error"]
    not_owed = api.post(f"/api/incidents/{ident}/events", json={"submitted": "eu.gdpr.art33.supervisory_authority"})
    assert not_owed.status_code == 422 and "owes no" in not_owed.json()["error"]
    assert api.get("/api/incidents/abc").status_code == 422
