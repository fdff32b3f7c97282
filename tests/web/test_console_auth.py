"""Logging in to the web console: passwords, the signed session cookie, logging out, CSRF, lock-out."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest

from tests.helpers import ok, run_cli
from tests.web.conftest import declare
from tests.web.console_helpers import PASSWORD, Console, csrf_token, login, set_password

WRONG = "not-the-password-at-all"


def incident_titles(console: Console) -> list[str]:
    return [i["title"] for i in console.api.get("/api/incidents").json()]


def test_pages_need_a_login_and_a_good_password_opens_them(console: Console) -> None:
    anonymous = console.anonymous()
    for path in ("/incidents", "/incidents/new", "/"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login") or response.headers["location"] == "/incidents"
    assert anonymous.get("/incidents?closed=true", follow_redirects=False).headers["location"] == (
        "/login?next=/incidents%3Fclosed%3Dtrue"
    )
    set_password("lena")
    response = login(anonymous, "lena")
    assert response.status_code == 303 and response.headers["location"] == "/incidents"
    cookie = response.headers["set-cookie"]
    assert "tocsin_session=" in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    page = anonymous.get("/incidents")
    assert page.status_code == 200 and "Log out" in page.text and re.search(r"<span>lena", page.text)
    assert (
        page.headers["cache-control"] == "no-store"
        and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    )


def test_wrong_password_unknown_person_and_no_password_are_refused_alike(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    set_password("lena")
    caplog.set_level(logging.INFO, logger="tocsin.login")
    client = console.anonymous()
    answers = [login(client, "lena", WRONG), login(client, "nobody", WRONG), login(client, "carl", WRONG)]
    for answer in answers:  # carl is in the directory without a password
        assert answer.status_code == 401
        assert "wrong handle or password" in answer.text and "Log out" not in answer.text
    assert client.get("/incidents", follow_redirects=False).status_code == 303
    logged = caplog.text
    assert "wrong password" in logged and "unknown person" in logged and "no password set" in logged
    assert WRONG not in logged and PASSWORD not in logged


def test_repeated_failures_lock_the_handle_even_for_the_right_password(console: Console) -> None:
    set_password("lena")
    client = console.anonymous()
    for _ in range(5):
        assert login(client, "lena", WRONG).status_code == 401
    locked = login(client, "lena", PASSWORD)
    assert locked.status_code == 429 and "too many failed log-ins" in locked.text
    assert client.get("/incidents", follow_redirects=False).status_code == 303


def test_a_tampered_or_foreign_cookie_is_no_session(console: Console) -> None:
    import base64
    import json

    from itsdangerous import TimestampSigner

    client = console.as_person("lena")
    assert client.get("/incidents", follow_redirects=False).status_code == 200
    value = client.cookies["tocsin_session"]
    payload, _, signature = value.partition(".")
    data = json.loads(base64.b64decode(payload + "=="))
    data["handle"] = "alice"  # try to become alice by editing the cookie
    forged_payload = base64.b64encode(json.dumps(data).encode()).decode()
    for forged in (
        f"{forged_payload}.{signature}",
        TimestampSigner("not-the-server-key").sign(forged_payload).decode(),
    ):
        attacker = console.anonymous()
        attacker.cookies.set("tocsin_session", forged)
        response = attacker.get("/incidents", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_logout_ends_the_session_and_needs_the_csrf_token(console: Console) -> None:
    client = console.as_person("lena")
    refused = client.post("/logout", data={}, follow_redirects=False)
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert client.get("/incidents", follow_redirects=False).status_code == 200
    token = csrf_token(client, "/incidents")
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/incidents", follow_redirects=False).status_code == 303


def test_a_new_password_ends_other_sessions(console: Console) -> None:
    client = console.as_person("lena")
    set_password("lena", "a brand new passphrase")
    assert client.get("/incidents", follow_redirects=False).status_code == 303
    assert login(console.anonymous(), "lena", "a brand new passphrase").status_code == 303


def test_forms_without_a_valid_csrf_token_are_refused_and_change_nothing(console: Console) -> None:
    alice = console.as_person("alice")
    lena = console.as_person("lena")
    form = {"title": "Forged declaration", "kind": "breach", "severity": "SEV1"}
    for token in (None, "wrong-token", csrf_token(lena, "/incidents")):  # missing, wrong, another session's
        data = form if token is None else {**form, "csrf_token": token}
        response = alice.post("/incidents", data=data, follow_redirects=False)
        assert response.status_code == 403 and "CSRF" in response.text
    anonymous = console.anonymous()
    assert anonymous.post("/incidents", data=form, follow_redirects=False).status_code == 303  # → /login
    assert incident_titles(console) == []
    incident = declare(console.api)["id"]
    closing = alice.post(f"/incidents/{incident}/status", data={"status": "closed"}, follow_redirects=False)
    assert closing.status_code == 403
    assert console.api.get(f"/api/incidents/{incident}").json()["status"] == "declared"


def test_login_never_redirects_off_site(console: Console) -> None:
    set_password("lena")
    client = console.anonymous()
    token = csrf_token(client, "/login")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        data = {"handle": "lena", "password": PASSWORD, "csrf_token": token, "next": target}
        response = client.post("/login", data=data, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/incidents"
        token = csrf_token(client, "/incidents")


def test_people_passwd_and_admin_from_the_cli(console: Console) -> None:
    from tocsin.db.engine import session_scope
    from tocsin.people.directory import get_person

    assert run_cli("people", "passwd", "lena", "--password-stdin", stdin="short\n").exit_code == 2
    ok("people", "passwd", "lena", "--password-stdin", stdin="lena's long passphrase\n")
    with session_scope() as session:
        stored = get_person(session, "lena").password_hash or ""
    assert stored.startswith("$argon2id$") and "long passphrase" not in stored
    assert login(console.anonymous(), "lena", "lena's long passphrase").status_code == 303
    shown = ok("people", "admin", "lena", "--json").json()
    assert shown["is_admin"] is True and shown["has_password"] is True and "password_hash" not in shown
    # Now the directory has an admin, the local operator no longer administers it (the bootstrap is over):
    refused = run_cli("people", "admin", "lena", "--revoke", "--json")
    assert refused.exit_code == 4 and "is not an admin" in refused.stderr
    assert ok("people", "admin", "lena", "--revoke", "--json", "--as", "lena").json()["is_admin"] is False
    ok("people", "passwd", "lena", "--remove")  # no admin again: the operator may
    assert login(console.anonymous(), "lena", "lena's long passphrase").status_code == 401


def test_one_address_guessing_many_handles_is_locked_out_until_the_window_passes(console: Console) -> None:
    from tocsin.core.clocks import FixedClock, use_clock, utcnow

    set_password("lena")
    clock = FixedClock(utcnow())
    previous = use_clock(clock)
    try:
        client = console.anonymous()
        for number in range(20):  # a different handle each time: only the address counter adds up
            assert login(client, f"guess{number}", WRONG).status_code == 401
        assert login(client, "lena", PASSWORD).status_code == 429
        clock.advance(timedelta(minutes=16))
        assert login(client, "lena", PASSWORD).status_code == 303
    finally:
        use_clock(previous)


def test_a_refused_login_keeps_the_handle_and_puts_focus_on_the_password(console: Console) -> None:
    set_password("lena")
    client = console.anonymous()
    assert re.search(r'id="handle"[^>]*autofocus', client.get("/login").text)  # nothing typed yet: the handle
    refused = login(client, "lena", WRONG)
    assert refused.status_code == 401 and 'value="lena"' in refused.text
    password = re.search(r'<input id="password"[^>]*>', refused.text)
    handle = re.search(r'<input id="handle"[^>]*>', refused.text)
    assert password and "autofocus" in password.group(0) and 'aria-describedby="login-error"' in password.group(0)
    assert handle and "autofocus" not in handle.group(0)


def test_error_pages_link_back_to_the_page_the_viewer_came_from_on_this_site_only(console: Console) -> None:
    incident = declare(console.api, commander="alice")["id"]
    bob = console.as_person("bob")
    came_from = f"http://testserver/incidents/{incident}?tab=clock"
    missing = bob.get("/incidents/999999", headers={"Referer": came_from})
    assert missing.status_code == 404
    assert f'<a href="/incidents/{incident}?tab=clock">Back to the previous page</a>' in missing.text
    for foreign in ("https://evil.example/incidents/1", "//evil.example/x", "http://testserver.evil/x", ""):
        page = bob.get("/incidents/999999", headers={"Referer": foreign})
        assert '<a href="/incidents">Back to the incidents</a>' in page.text and "previous page" not in page.text
    token = csrf_token(bob, f"/incidents/{incident}/status")
    refused = bob.post(  # a refused POST: back to the form it came from
        f"/incidents/{incident}/status",
        data={"status": "closed", "csrf_token": token},
        headers={"Referer": f"http://testserver/incidents/{incident}/status"},
    )
    assert (
        refused.status_code == 403 and f'href="/incidents/{incident}/status">Back to the previous page' in refused.text
    )


def test_pages_link_an_svg_favicon_and_favicon_ico_leads_to_it(console: Console) -> None:
    anonymous = console.anonymous()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in anonymous.get("/login").text
    icon = anonymous.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg") and "<script" not in icon.text
    moved = anonymous.get("/favicon.ico", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == "/static/favicon.svg"
