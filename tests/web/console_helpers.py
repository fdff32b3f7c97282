"""Driving the web console in tests: passwords through the real service, logging in through the real
/login form, and posting forms with the session's CSRF token.

    def test_something(console: Console) -> None:      # fixture in tests/web/conftest.py
        alice = console.as_person("alice")           # a TestClient logged in as alice (own cookie jar)
        page = alice.get("/incidents")
        response = console.post_form(alice, "/incidents", {"title": "..."})   # CSRF token added

`console.api` is the `api` fixture (people alice, lena, bob, carl with API tokens); `console.set_admin`
makes someone an admin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def set_password(handle: str, password: str = PASSWORD) -> None:
    from tocsin.db.engine import session_scope
    from tocsin.people.passwords import set_password as store

    with session_scope() as session:
        store(session, handle, password)


def set_admin(handle: str, admin: bool = True) -> None:
    from tocsin.db.engine import session_scope
    from tocsin.people.passwords import set_admin as store

    with session_scope() as session:
        store(session, handle, admin)


def csrf_token(client: TestClient, path: str = "/login") -> str:
    """The session's CSRF token, read from a page's form (the page sets the session cookie if needed)."""
    page = client.get(path)
    found = CSRF.search(page.text)
    assert found, f"no csrf_token in {path} ({page.status_code}): {page.text[:300]}"
    return found.group(1)


def login(client: TestClient, handle: str, password: str = PASSWORD) -> httpx.Response:
    """Log in through the form; returns the POST /login response (303 on success, 401 on failure)."""
    token = csrf_token(client, "/login")
    data = {"handle": handle, "password": password, "csrf_token": token, "next": "/incidents"}
    return client.post("/login", data=data, follow_redirects=False)


def post_form(client: TestClient, path: str, data: dict[str, Any], *, token_from: str = "/incidents") -> httpx.Response:
    """POST a form with the CSRF token of `client`'s session (not following the 303)."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)}, follow_redirects=False)


@dataclass
class Console:
    api: Any
    clients: dict[str, TestClient] = field(default_factory=dict)

    def anonymous(self) -> TestClient:
        return TestClient(self.api.client.app)

    def as_person(self, handle: str) -> TestClient:
        """A client logged in as `handle` (a password is set for them first); one per person, reused."""
        if handle not in self.clients:
            set_password(handle)
            client = self.anonymous()
            response = login(client, handle)
            assert response.status_code == 303, response.text
            self.clients[handle] = client
        return self.clients[handle]

    def post_form(self, client: TestClient, path: str, data: dict[str, Any]) -> httpx.Response:
        return post_form(client, path, data)

    def set_admin(self, handle: str, admin: bool = True) -> None:
        set_admin(handle, admin)
