"""The web app under test: a FastAPI TestClient over the real app and database (SQLite and PostgreSQL),
people in the directory, and an API token for each of them. Nobody holds a role until one is given: `declare`
makes alice the commander, and `assign` (alice assigning) gives the others theirs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PEOPLE = {"alice": "U0ALICE", "lena": "U0LENA", "bob": "U0BOB", "carl": "U0CARL"}


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, person: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[person]}"}

    def get(self, path: str, person: str = "alice", **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.auth(person), **kwargs)

    def post(self, path: str, person: str = "alice", **kwargs: Any) -> Any:
        return self.client.post(path, headers={**self.auth(person), **kwargs.pop("headers", {})}, **kwargs)

    def put(self, path: str, person: str = "alice", **kwargs: Any) -> Any:
        return self.client.put(path, headers=self.auth(person), **kwargs)

    def delete(self, path: str, person: str = "alice", **kwargs: Any) -> Any:
        return self.client.delete(path, headers=self.auth(person), **kwargs)


def add_people() -> dict[str, str]:
    """Everyone in the directory with a Slack id, and a token each (through the real token service)."""
    from tocsin.db.engine import session_scope
    from tocsin.people.directory import upsert_person
    from tocsin.people.tokens import create_token

    tokens = {}
    with session_scope() as session:
        for handle, slack_id in PEOPLE.items():
            upsert_person(session, handle, slack_user_id=slack_id, email=f"{handle}@example.org")
        for handle in PEOPLE:
            tokens[handle] = create_token(session, handle, name="tests", actor="admin").token
    return tokens


@pytest.fixture
def api(tocsin_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    from tocsin.web.app import create_app

    from tocsin.core.config import get_settings

    monkeypatch.setenv("TOCSIN_SLACK_SIGNING_SECRET", SLACK_SECRET)
    monkeypatch.setenv("TOCSIN_PLAYBOOK_EXECUTOR", "inline")
    get_settings.cache_clear()
    tokens = add_people()
    with TestClient(create_app(get_settings())) as client:
        yield Api(client, tokens)


def add_person(api: Api, handle: str, *, admin: bool = False) -> str:
    """One more person in the directory (an admin if asked), with an API token in `api.tokens`."""
    from tocsin.db.engine import session_scope
    from tocsin.people.directory import upsert_person
    from tocsin.people.passwords import set_admin
    from tocsin.people.tokens import create_token

    with session_scope() as session:
        upsert_person(session, handle, email=f"{handle}@example.org")
        if admin:
            set_admin(session, handle, True)
        api.tokens[handle] = create_token(session, handle, name="tests", actor="admin").token
    return handle


def assign(api: Api, incident: int, role: str, person: str, by: str = "alice") -> None:
    """Give `person` a role on the incident through the API (`by`, the commander, assigns)."""
    response = api.post(f"/api/incidents/{incident}/roles", person=by, json={"role": role, "person": person})
    assert response.status_code == 201, response.text


def declare(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"title": "Customer DB exposed", "severity": "SEV1", "commander": "alice", **fields}
    response = api.post("/api/incidents", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def timeline(api: Api, incident: int) -> list[dict[str, Any]]:
    response = api.get(f"/api/incidents/{incident}/timeline")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def console(api: Api) -> Any:
    """The web console over the same app and people as `api` (see tests/web/console_helpers.py)."""
    from tests.web.console_helpers import Console

    return Console(api)
