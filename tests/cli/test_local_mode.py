"""The CLI on the database itself (local mode): who acted and through which door is on the record, the policy
holds as at every other door, and an approval always names the hash the reviewer saw."""

from __future__ import annotations

import getpass
import json
import os
import stat
from pathlib import Path

import pytest

from tests.helpers import add_people, ok, run_cli

AWARE = "2026-11-20T10:00:00+01:00"
STATUS_UPDATE = {
    "what_changed": "The stolen laptop was wiped remotely.",
    "current_impact": "No customer data was on it.",
    "next_steps": "IT confirms the wipe; legal decides whether to notify.",
    "next_update": "at noon",
}


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


@pytest.fixture
def incident(tocsin_db: str) -> str:
    """alice commands it (declared by alice); bob is in the directory without a role."""
    add_people("alice", "bob", "lena")
    declared = ok("declare", "--title", "Laptop stolen", "--aware-at", AWARE, "--as", "alice", "--json").json()
    return str(declared["id"])


def events(incident: str) -> list[dict]:
    return ok("show", incident, "--json").json()["timeline"]


def test_every_event_records_the_local_door_and_the_os_user(incident: str) -> None:
    ok("assign", incident, "legal", "lena", "--as", "alice")
    declared, commander, legal = events(incident)
    for event in (declared, commander, legal):
        assert event["payload"]["via"] == "local"
        assert event["payload"]["os_user"] == os_user()
        assert event["payload"]["as"] == "alice"  # claimed with --as: the record says so
        assert event["actor"] == "alice"


def test_the_os_user_acts_unclaimed_without_as_or_tocsin_user(incident: str, monkeypatch: pytest.MonkeyPatch) -> None:
    me = os_user().lower()
    monkeypatch.delenv("TOCSIN_USER")
    add_people(me)
    ok("assign", incident, "observer", me, "--as", "alice")
    mine = ok("declare", "--title", "Mine", "--json").json()  # the OS user declares, and commands by default
    assert mine["commander"] == me
    first = events(str(mine["id"]))[0]
    assert first["actor"] == me and first["payload"]["via"] == "local" and first["payload"]["os_user"] == os_user()
    assert "as" not in first["payload"]  # not claimed: it is who ran the command
    who = ok("whoami", "--json").json()
    assert (who["mode"], who["handle"], who["claimed"], who["os_user"]) == ("local", me, False, os_user())
    assert (who["in_directory"], who["is_admin"]) == (True, False)


def test_tocsin_user_is_a_claim_too(incident: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_USER", "alice")
    ok("assign", incident, "legal", "lena")
    assert events(incident)[-1]["payload"]["as"] == "alice"
    assert "claimed with --as or TOCSIN_USER" in ok("whoami").stdout
    assert "Local mode: acting as bob (claimed" in ok("whoami", "--as", "bob").stdout
    assert "acting as nobody, not in the directory" in ok("whoami", "--as", "nobody").stdout


def test_a_refusal_is_recorded_with_its_door(incident: str) -> None:
    refused = run_cli("status", incident, "investigating", "--as", "bob")
    assert refused.exit_code == 4 and "bob is not commander or an admin" in refused.stderr
    last = events(incident)[-1]
    assert (last["actor"], last["action"]) == ("bob", "incident.status_refused")
    assert last["payload"]["via"] == "local" and last["payload"]["as"] == "bob"


def test_an_unknown_person_is_refused_with_suggestions_and_never_created(incident: str) -> None:
    typo = run_cli("assign", incident, "legal", "lenna", "--as", "alice")
    assert typo.exit_code == 2 and "did you mean lena?" in typo.stderr
    assert [p["handle"] for p in ok("people", "list", "--json").json()] == ["alice", "bob", "lena"]
    assert run_cli("assign", incident, "legal", "bob", "--as", "bad handle!").exit_code == 2


def test_the_directory_is_the_admins_once_there_is_one(tocsin_db: str) -> None:
    add_people("root", "carol")  # a fresh install: the local operator may
    ok("people", "admin", "root", "--grant")
    assert "Local mode: acting as root, an admin" in ok("whoami", "--as", "root").stdout
    assert "| `role.assign` | ✓ |" in ok("policy").stdout
    refused = run_cli("people", "add", "dave")
    assert refused.exit_code == 4 and "tester is not an admin" in refused.stderr
    ok("people", "add", "dave", "--as", "root")
    assert run_cli("people", "admin", "carol", "--as", "carol").exit_code == 4
    ok("people", "passwd", "carol", "--password-stdin", "--as", "carol", stdin="a long enough password\n")
    refused = run_cli("people", "passwd", "dave", "--password-stdin", "--as", "carol", stdin="another long one!\n")
    assert refused.exit_code == 4 and "acts for themselves only" in refused.stderr
    token = ok("token", "create", "carol", "--as", "carol", "--json").json()
    assert run_cli("token", "revoke", str(token["id"]), "--as", "dave").exit_code == 4
    assert ok("token", "revoke", str(token["id"]), "--as", "root", "--json").json()["id"] == token["id"]


def test_approve_without_hash_is_refused_when_nobody_is_at_the_terminal(incident: str, tmp_path: Path) -> None:
    draft = _draft_in_review(incident, tmp_path)
    refused = run_cli("approve", draft["ref"], "--as", "lena")
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: --hash is required when not run in a terminal")
    short = run_cli("approve", draft["ref"], "--as", "lena", "--hash", draft["sha256"][:6])
    assert short.exit_code == 2 and "is not a sha256: give 12 to 64 hexadecimal characters" in short.stderr
    typo = run_cli("approve", draft["ref"], "--as", "lena", "--hash", "f" * 12)
    assert typo.exit_code == 2 and "mistyped?" in typo.stderr
    assert ok("draft", "show", draft["ref"], "--json").json()["status"] == "in_review"


def test_approve_in_a_terminal_shows_the_text_and_approves_the_hash_shown(
    incident: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tocsin.cli import approvals

    draft = _draft_in_review(incident, tmp_path)
    monkeypatch.setattr(approvals, "interactive", lambda: True)
    declined = run_cli("approve", draft["ref"], "--as", "lena", stdin="n\n")
    assert declined.exit_code == 1 and "Not approved; nothing was recorded." in declined.stdout
    assert f"Approve exactly this text (sha256 {draft['sha256'][:12]}…)? [y/N]" in declined.stdout
    assert draft["subject"] in declined.stdout and draft["sha256"] in declined.stdout
    approved = ok("approve", draft["ref"], "--as", "lena", stdin="y\n")
    assert f"Approved sha256: {draft['sha256']}" in approved.stdout
    decision = events(incident)[-1]
    assert decision["action"] == "draft.approved" and decision["payload"]["via"] == "local"


def test_login_state_never_leaks_into_tests(tocsin_home: Path) -> None:
    assert os.environ["TOCSIN_LOGIN_FILE"].startswith(str(tocsin_home.parent))
    assert "TOCSIN_SERVER" not in os.environ and "TOCSIN_TOKEN" not in os.environ
    assert ok("logout").stdout.startswith("Not logged in")


def test_the_login_file_is_for_its_owner_only(tocsin_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tocsin.cli.credentials import Login, read_login, save_login

    target = tocsin_home.parent / "config" / "tocsin" / "login.json"
    monkeypatch.setenv("TOCSIN_LOGIN_FILE", str(target))
    old = os.umask(0o022)
    try:
        save_login(Login("https://tocsin.example.org", "secret-token", handle="alice", token_id=7))
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert json.loads(target.read_text()) == {
        "url": "https://tocsin.example.org",
        "handle": "alice",
        "token": "secret-token",
        "token_id": 7,
    }
    assert read_login() == Login("https://tocsin.example.org", "secret-token", handle="alice", token_id=7)
    target.write_text("not json")
    broken = run_cli("incidents")
    assert broken.exit_code == 2 and "not a Tocsin login file" in broken.stderr


def test_the_default_login_file_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tocsin.cli.credentials import login_file

    monkeypatch.delenv("TOCSIN_LOGIN_FILE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert login_file() == tmp_path / "xdg" / "tocsin" / "login.json"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert login_file() == tmp_path / "home" / ".config" / "tocsin" / "login.json"


def _draft_in_review(incident: str, tmp_path: Path) -> dict:
    """An internal status update drafted by alice (the commander) and sent to review; lena is legal."""
    ok("assign", incident, "legal", "lena", "--as", "alice")
    inputs = tmp_path / "update.json"
    inputs.write_text(json.dumps(STATUS_UPDATE))
    made = ok("draft", incident, "status_update", "--vars", str(inputs), "--as", "alice", "--json").json()
    ok("review", made["ref"], "--as", "alice")
    return made
