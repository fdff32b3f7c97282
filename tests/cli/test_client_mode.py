"""The CLI as a client of a real `tocsin serve` (`tocsin login URL`): the same commands, the same output and exit
codes, through the JSON API as the person the token acts as; nothing touches a local database.

Cast on the server: root (admin), alice (commands the incidents she declares), lena (legal), bob (comms).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import PASSWORD, Server, free_port
from tests.helpers import ok, run_cli

AWARE = "2026-11-20T10:00:00+01:00"
GDPR_FACTS = {
    "entity": {"name": "Boutique SAS", "roles": ["controller"], "main_establishment": "FR", "timezone": "Europe/Paris"},
    "facts": {"personal_data_breach": True, "likely_high_risk_to_individuals": True, "data_subjects": {"FR": 1200}},
    "events": {"aware_personal_data_breach": "2026-11-20T10:00:00+01:00"},
}
STATUS_UPDATE = {
    "what_changed": "The phished mailbox was locked and its sessions ended.",
    "current_impact": "Some 1,200 customers' order emails were readable.",
    "next_steps": "Legal decides on the regulator notice today.",
    "next_update": "18:00 today",
}


@pytest.fixture(scope="module")
def cast(server: Server) -> Server:
    for handle, name in (("alice", "Alice Commander"), ("lena", "Lena Legal"), ("bob", "Bob Comms")):
        server.local("people", "add", handle, "--name", name, "--email", f"{handle}@example.org")
        server.local("people", "passwd", handle, "--password-stdin", stdin=PASSWORD + "\n")
    return server


@pytest.fixture(autouse=True)
def no_local_database(tocsin_home: Path) -> Iterator[None]:
    """Client mode never creates or touches a database on the client's side."""
    yield
    assert not list(tocsin_home.rglob("*.db")), "a client-mode command opened the local database"


def login(server: Server, handle: str) -> None:
    ok("login", server.url, "--handle", handle, "--password-stdin", stdin=PASSWORD + "\n")


def login_file() -> Path:
    return Path(os.environ["TOCSIN_LOGIN_FILE"])


def declare_as_alice(server: Server, title: str = "Phished mailbox") -> str:
    """alice declares (and so commands) an incident; lena is legal, bob comms. Leaves alice logged in."""
    login(server, "alice")
    declared = ok("declare", "--title", title, "--aware-at", AWARE, "--json").json()
    assert declared["commander"] == "alice"
    ident = str(declared["id"])
    ok("assign", ident, "legal", "lena")
    ok("assign", ident, "comms", "bob")
    return ident


def timeline(ident: str) -> list[dict]:
    return ok("show", ident, "--json").json()["timeline"]


def test_login_stores_a_private_token_and_logout_revokes_it(
    cast: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config" / "tocsin" / "login.json"
    monkeypatch.setenv("TOCSIN_LOGIN_FILE", str(path))
    said = ok("login", cast.url, "--handle", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert f"Logged in to {cast.url} as alice" in said.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    stored = json.loads(path.read_text())
    assert (stored["url"], stored["handle"]) == (cast.url, "alice") and isinstance(stored["token_id"], int)

    assert f"Client of {cast.url}: you are alice" in ok("whoami").stdout
    assert ok("whoami", "--json").json() == {"mode": "client", "server": cast.url, "handle": "alice", "is_admin": False}
    mine = {t["id"]: t for t in ok("token", "list", "--json").json()}  # alice sees her own tokens
    assert mine[stored["token_id"]]["name"].startswith("tocsin login (") and not mine[stored["token_id"]]["revoked_at"]

    assert f"Logged out of {cast.url}" in ok("logout").stdout
    assert not path.exists()
    from tocsin.cli.credentials import current_login

    assert current_login() is None  # local mode again (`whoami` would open the local database: not here)
    on_server = {t["id"]: t for t in json.loads(cast.local("token", "list", "--json").stdout)}
    assert on_server[stored["token_id"]]["revoked_at"]  # revoked there, not only forgotten here


def test_a_response_through_the_server_reads_as_it_does_locally(cast: Server, tmp_path: Path) -> None:
    ident = declare_as_alice(cast)
    assert f"INC-{ident} is now investigating" in ok("status", ident, "investigating").stdout
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(GDPR_FACTS))
    changes = ok("facts", ident, str(facts), "--json").json()
    assert changes["added"]
    owed = ok("clock", ident, "--json").json()
    assert owed["incident"] == f"INC-{ident}" and owed["obligations"]
    rule = next(o["rule"] for o in owed["obligations"] if o["rule"].startswith("eu.gdpr.art33"))
    submitted = ok("submit", ident, rule, "--note", "portal receipt 7")
    assert f"submitted:{rule} recorded at" in submitted.stdout
    assert f"INC-{ident}" in ok("clock", ident).stdout

    inputs = tmp_path / "update.json"
    inputs.write_text(json.dumps(STATUS_UPDATE))
    made = ok("draft", ident, "status_update", "--vars", str(inputs), "--json").json()
    assert made["drafted_by"] == "alice" and made["status"] == "drafted"
    reviewed = ok("review", made["ref"]).stdout
    assert f"Legal on INC-{ident}: lena." in reviewed and made["sha256"][:12] in reviewed
    assert [d["ref"] for d in ok("drafts", ident, "--json").json()] == [made["ref"]]

    login(cast, "lena")
    refused = run_cli("approve", made["ref"])  # nobody at a terminal, no --hash
    assert refused.exit_code == 2 and "--hash is required when not run in a terminal" in refused.stderr
    approved = ok("approve", made["ref"], "--hash", made["sha256"][:12])
    assert f"Approved sha256: {made['sha256']}" in approved.stdout
    assert "May be sent: yes" in ok("draft", "show", made["ref"]).stdout

    login(cast, "alice")
    assert "recorded as sent by alice" in ok("draft", "mark-sent", made["ref"], "--reference", "team channel").stdout
    assert "bob is no longer comms" in ok("unassign", ident, "comms", "bob").stdout
    closed = ok("close", ident, "--reason", "handled", "--json").json()
    assert closed["status"] == "closed"
    assert int(ident) in [i["id"] for i in ok("incidents", "--status", "closed", "--json").json()]

    events = timeline(ident)
    assert events[0]["action"] == "incident.declared" and events[0]["actor"] == "alice"
    assert all(e["payload"].get("via") == "api" for e in events if e["action"] != "obligations.recomputed")
    assert not any("os_user" in e["payload"] for e in events)  # a token, not someone's shell, did this
    by = {(e["actor"], e["action"]) for e in events}
    assert {("lena", "draft.approved"), ("alice", "draft.sent"), ("alice", "role.unassigned")} <= by


def test_refusals_come_back_as_the_same_exit_codes(cast: Server) -> None:
    ident = declare_as_alice(cast, "Exit codes")
    stale = str(ok("show", ident, "--json").json()["version"] - 1)
    conflict = run_cli("assign", ident, "observer", "bob", "--if-version", stale)
    assert conflict.exit_code == 3 and "changed" in conflict.stderr
    invalid = run_cli("status", ident, "sleeping")
    assert invalid.exit_code == 2 and invalid.stderr.startswith("error: ") and "sleeping" in invalid.stderr
    typo = run_cli("assign", ident, "observer", "bobb")
    assert typo.exit_code == 2 and "did you mean bob?" in typo.stderr
    missing = run_cli("show", "INC-999999")
    assert (missing.exit_code, missing.stderr.strip()) == (2, "error: no incident INC-999999")
    assert run_cli("show", "abc").stderr.strip() == "error: 'abc' is not an incident id (write 12 or INC-12)"

    login(cast, "bob")
    forbidden = run_cli("status", ident, "investigating")
    assert forbidden.exit_code == 4 and f"bob is not commander or an admin on INC-{ident}" in forbidden.stderr
    assert "Traceback" not in forbidden.stderr and forbidden.stderr.count("\n") == 1
    refusal = timeline(ident)[-1]
    assert (refusal["actor"], refusal["action"], refusal["payload"]["via"]) == ("bob", "incident.status_refused", "api")


def test_as_is_refused_in_client_mode_and_nothing_is_sent(cast: Server) -> None:
    ident = declare_as_alice(cast, "No claims")
    before = len(timeline(ident))
    claimed = run_cli("status", ident, "investigating", "--as", "root")
    assert claimed.exit_code == 2
    assert (
        claimed.stderr.strip()
        == f"error: --as works in local mode only: {cast.url} knows you by your token (you are alice)"
    )
    assert len(timeline(ident)) == before
    assert run_cli("whoami", "--as", "root").exit_code == 2


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("notify", ["notify", "1", "--draft", "1", "--recipients", "r.csv"]),
        ("waves", ["waves", "1"]),
        ("drill", ["drill", "data-breach"]),
        ("db current", ["db", "current"]),
        ("db upgrade", ["db", "upgrade"]),
        ("purge", ["purge", "--dry-run"]),
        ("scheduler run", ["scheduler", "run", "--once"]),
        ("serve", ["serve"]),
        ("audit verify", ["audit", "verify", "all"]),
        ("webhook sendgrid", ["webhook", "sendgrid", "events.json"]),
        ("sentiment raise", ["sentiment", "raise", "m.jsonl"]),
        ("playbook resume", ["playbook", "resume", "1"]),
    ],
)
def test_commands_of_the_local_database_refuse_in_client_mode(
    name: str, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # never called: the refusal comes first
    monkeypatch.setenv("TOCSIN_SERVER", url)
    monkeypatch.setenv("TOCSIN_TOKEN", "whatever")
    result = run_cli(*command)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.strip() == (
        f"error: `tocsin {name}` works on the local database only, and this CLI is a client of {url} "
        "(nothing was done; unset TOCSIN_SERVER and TOCSIN_TOKEN to use the local database)"
    )


def test_pure_commands_work_in_client_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOCSIN_SERVER", f"http://127.0.0.1:{free_port()}")  # nobody there: nothing is asked
    monkeypatch.setenv("TOCSIN_TOKEN", "whatever")
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(GDPR_FACTS))
    assert ok("obligations", str(facts), "--json").json()["obligations"]
    assert {t["name"] for t in ok("templates", "--json").json()} >= {"regulator_notice", "status_update"}
    assert "ok" in ok("template", "check").stdout
    assert "data-breach" in {p["name"] for p in ok("playbooks", "--json").json()}
    assert ok("playbook", "show", "data-breach", "--json").json()["name"] == "data-breach"
    mentions = tmp_path / "m.jsonl"
    mentions.write_text('{"id": "1", "created_at": "2026-11-20T10:00:00Z", "text": "Love it"}\n')
    assert "1 mentions" in ok("sentiment", "scan", str(mentions)).stdout
    ok("config")


def test_a_revoked_token_asks_to_log_in_again(cast: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    login(cast, "lena")
    token_id = json.loads(login_file().read_text())["token_id"]
    token = json.loads(login_file().read_text())["token"]
    assert f"Token {token_id} revoked." in ok("token", "revoke", str(token_id)).stdout  # her own, on the server
    result = run_cli("incidents")
    assert result.exit_code == 4
    assert result.stderr.strip() == f"error: your login expired or was revoked: tocsin login {cast.url}"
    monkeypatch.setenv("TOCSIN_SERVER", cast.url)
    monkeypatch.setenv("TOCSIN_TOKEN", token)
    from_env = run_cli("incidents")
    assert from_env.exit_code == 4 and "refused the token in TOCSIN_TOKEN" in from_env.stderr


def test_a_server_that_is_not_there_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("TOCSIN_SERVER", url)
    monkeypatch.setenv("TOCSIN_TOKEN", "whatever")
    result = run_cli("incidents")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: cannot reach the Tocsin server at {url}: connection refused (is `tocsin serve` running there?)\n"
    )
    monkeypatch.delenv("TOCSIN_SERVER")
    assert run_cli("login", url, "--handle", "x", "--password-stdin", stdin="p\n").stderr.startswith(
        f"error: cannot reach the Tocsin server at {url}"
    )
    half = run_cli("incidents")  # TOCSIN_TOKEN alone
    assert half.exit_code == 2 and "TOCSIN_SERVER and TOCSIN_TOKEN go together" in half.stderr
    assert run_cli("login", "ftp://example.org").exit_code == 2


def test_a_wrong_password_stores_nothing_and_a_token_can_be_given_instead(cast: Server) -> None:
    wrong = run_cli("login", cast.url, "--handle", "bob", "--password-stdin", stdin="not his password\n")
    assert wrong.exit_code == 4 and f"{cast.url} refused the log-in" in wrong.stderr
    assert not login_file().exists()
    token = json.loads(cast.local("token", "create", "root", "--name", "ops laptop", "--json").stdout)["token"]
    assert run_cli("login", cast.url, "--token-stdin", stdin="bogus\n").exit_code == 4
    ok("login", cast.url, "--token-stdin", stdin=token + "\n")
    assert ok("whoami", "--json").json() == {"mode": "client", "server": cast.url, "handle": "root", "is_admin": True}
    said = ok("logout").stdout
    assert "forgotten here, not revoked" in said  # a token brought with --token-stdin stays the owner's to revoke


def test_the_directory_and_suppressions_through_the_server(cast: Server) -> None:
    login(cast, "root")
    ok("people", "add", "zoe", "--name", "Zoe Dpo", "--email", "zoe@example.org", "--locale", "fr")
    assert (
        "Password set for zoe"
        in ok("people", "passwd", "zoe", "--password-stdin", stdin="zoe's long password\n").stdout
    )
    assert "zoe is now an admin" in ok("people", "admin", "zoe", "--grant").stdout
    assert "zoe is no longer an admin" in ok("people", "admin", "zoe", "--revoke").stdout
    listed = {p["handle"]: p for p in ok("people", "list", "--json").json()}
    assert listed["zoe"]["has_password"] and not listed["zoe"]["is_admin"] and listed["zoe"]["locale"] == "fr"
    assert "zoe" in ok("people", "list").stdout
    missing = run_cli("people", "passwd", "zooe", "--password-stdin", stdin="whatever it is\n")
    assert missing.exit_code == 2 and "no person 'zooe'" in missing.stderr
    created = ok("token", "create", "zoe", "--name", "zoe's script", "--json").json()
    assert created["person"] == "zoe" and created["token"]
    assert "suppressed (opt-out)" in ok("suppress", "add", "Gone@Example.org", "--note", "asked by phone").stdout
    assert "gone@example.org" in [s["email"] for s in ok("suppress", "list", "--json").json()]

    login(cast, "alice")
    refused = run_cli("people", "add", "yan")
    assert refused.exit_code == 4 and "alice is not an admin" in refused.stderr
    assert run_cli("suppress", "add", "x@example.org").exit_code == 4
    assert run_cli("token", "revoke", str(created["id"])).exit_code == 4  # zoe's token, not alice's


def test_playbooks_tasks_and_pages_through_the_server(cast: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    ident = declare_as_alice(cast, "Playbook over the wire")
    assert run_cli("launch", "social-crisis", "--incident", ident, "--wait").exit_code == 2
    launched = ok("launch", "social-crisis", "--incident", ident, "--json").json()
    assert launched["run"]
    runs = ok("runs", ident, "--json").json()
    assert [r["playbook"] for r in runs] == ["social-crisis"]
    assert "social-crisis" in ok("runs", ident).stdout
    assert isinstance(ok("tasks", ident, "--json").json(), list)
    assert isinstance(ok("escalations", ident, "--json").json(), list)
    ok("escalations")
    assert run_cli("task", "done", "999999").exit_code == 2
    assert run_cli("ack", "E-999999").exit_code == 2

    from tocsin.cli import approvals

    inputs = Path(os.environ["TOCSIN_LOGIN_FILE"]).parent / "update.json"
    inputs.write_text(json.dumps(STATUS_UPDATE))
    made = ok("draft", ident, "status_update", "--vars", str(inputs), "--json").json()
    ok("review", made["ref"])
    login(cast, "lena")
    monkeypatch.setattr(approvals, "interactive", lambda: True)
    shown = ok("approve", made["ref"], stdin="y\n").stdout
    assert f"Approve exactly this text (sha256 {made['sha256'][:12]}…)? [y/N]" in shown
    assert STATUS_UPDATE["what_changed"] in shown and f"Approved sha256: {made['sha256']}" in shown
