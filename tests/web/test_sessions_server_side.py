"""Console sessions live on the server (tocsin.people.web_sessions): the cookie carries only a random id, log-out
revokes it (a copied cookie is dead), a new or removed password ends every session of the person, and sessions
end when idle or old. API tokens from `POST /api/login` die when revoked (what `tocsin logout` does)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from tocsin.models import WebSession

from tests.web.conftest import Api
from tests.web.console_helpers import PASSWORD, Console, csrf_token, login, set_password
from tocsin.core.acting import Actor, Via
from tocsin.core.clocks import FixedClock, use_clock, utcnow
from tocsin.db.engine import session_scope
from tocsin.people import actions

COOKIE = "tocsin_session"


def logged_in(client: TestClient) -> bool:
    return client.get("/incidents", follow_redirects=False).status_code == 200


def replay(console: Console, cookie: str) -> TestClient:
    """A different browser presenting a copy of a session cookie."""
    thief = console.anonymous()
    thief.cookies.set(COOKIE, cookie)
    return thief


def cookie_data(client: TestClient) -> dict[str, object]:
    payload = client.cookies[COOKIE].partition(".")[0]
    return dict(json.loads(base64.b64decode(payload + "==")))


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    fixed = FixedClock(utcnow())
    previous = use_clock(fixed)
    yield fixed
    use_clock(previous)


def test_a_copied_cookie_is_dead_after_logout(console: Console) -> None:
    client = console.as_person("lena")
    copied = client.cookies[COOKIE]
    assert logged_in(replay(console, copied))  # before log-out the copy works (it is the session)
    out = client.post("/logout", data={"csrf_token": csrf_token(client, "/incidents")}, follow_redirects=False)
    assert out.status_code == 303
    thief = replay(console, copied)
    response = thief.get("/incidents", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert not logged_in(client)
    with session_scope() as session:
        assert all(row.revoked_at is not None for row in session.exec(select(WebSession)))


def test_the_cookie_holds_a_session_id_and_the_database_only_its_hash(console: Console) -> None:
    client = console.as_person("lena")
    data = cookie_data(client)
    assert set(data) == {"sid", "csrf_token"} and "lena" not in json.dumps(data)
    with session_scope() as session:
        rows = list(session.exec(select(WebSession)))
    assert [row.id_sha256 for row in rows] == [hashlib.sha256(str(data["sid"]).encode()).hexdigest()]
    assert rows[0].revoked_at is None and rows[0].expires_at - rows[0].created_at == timedelta(hours=12)


def test_a_new_password_ends_every_session_of_the_person_and_only_theirs(console: Console) -> None:
    first = console.as_person("lena")
    second = console.anonymous()
    assert login(second, "lena").status_code == 303
    bob = console.as_person("bob")
    copied = first.cookies[COOKIE]
    actions.set_password(Actor("lena", Via.api), "lena", "a brand new passphrase")
    assert not logged_in(first) and not logged_in(second) and not logged_in(replay(console, copied))
    assert logged_in(bob)
    fresh = console.anonymous()
    assert login(fresh, "lena", "a brand new passphrase").status_code == 303 and logged_in(fresh)
    actions.set_password(Actor("lena", Via.api), "lena", None)  # a removed password ends them too
    assert not logged_in(fresh)


def test_sessions_end_when_idle_and_at_their_absolute_end(console: Console, clock: FixedClock) -> None:
    idle = console.as_person("lena")
    clock.advance(timedelta(minutes=119))
    assert logged_in(idle)  # used in time: still on, and seen now
    clock.advance(timedelta(minutes=121))
    assert not logged_in(idle)
    set_password("bob")
    busy = console.anonymous()
    assert login(busy, "bob", PASSWORD).status_code == 303
    for _ in range(7):  # used every 100 minutes: never idle, but 12 hours is the end
        clock.advance(timedelta(minutes=100))
        assert logged_in(busy)
    clock.advance(timedelta(minutes=21))
    assert not logged_in(busy)


def test_logging_in_again_revokes_the_session_the_cookie_named_before(console: Console) -> None:
    client = console.as_person("lena")
    before = client.cookies[COOKIE]
    assert login(client, "lena").status_code == 303
    assert logged_in(client) and not logged_in(replay(console, before))


def test_an_api_login_token_works_until_revoked_as_tocsin_logout_does(api: Api) -> None:
    set_password("lena")
    made = api.client.post("/api/login", json={"handle": "lena", "password": PASSWORD, "name": "laptop"})
    assert made.status_code == 200, made.text
    token, token_id = made.json()["token"], made.json()["id"]
    auth = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/tokens", headers=auth).status_code == 200
    revoked = api.client.delete(f"/api/tokens/{token_id}", headers=auth)
    assert revoked.status_code == 200, revoked.text
    after = api.client.get("/api/tokens", headers=auth)
    assert after.status_code == 401 and "revoked" in after.text
