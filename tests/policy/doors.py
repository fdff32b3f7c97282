"""How the matrix knocks at each door, as a person would: the CLI's commands, the API with the person's token,
the console's forms after logging in, Slack's signed requests. Each attempt ends `allowed`, `refused` (exit 4,
HTTP 403) or something else (a failure of the test: the door broke, not the policy)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from tests.policy.cases import Case
from tests.policy.world import PASSWORD, World, api_token

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FLASH_ERROR = re.compile(r'<p class="flash flash-error"[^>]*>([^<]*)</p>')

ALLOWED, REFUSED = "allowed", "refused"


class Door(Protocol):
    def attempt(self, case: Case, world: World, handle: str, tmp_path: Path) -> tuple[str, str]: ...


FIELD = {"cli": "cli", "client": "cli", "api": "api", "console": "console", "slack": "slack"}


def offers(door: str, case: Case) -> bool:
    if door == "client" and case.local_only:
        return False
    return getattr(case, FIELD[door]) is not None


class LocalCli:
    """The CLI on the database itself, acting as TOCSIN_USER (recorded as `via: local`)."""

    def __init__(self, run: Callable[..., Any]) -> None:
        self.run = run

    def attempt(self, case: Case, world: World, handle: str, tmp_path: Path) -> tuple[str, str]:
        import os

        assert case.cli is not None
        args, stdin = case.cli(world, tmp_path)
        saved = os.environ.get("TOCSIN_USER")
        os.environ["TOCSIN_USER"] = handle
        try:
            result = self.run(*args, stdin=stdin)
        finally:
            if saved is None:
                os.environ.pop("TOCSIN_USER", None)
            else:
                os.environ["TOCSIN_USER"] = saved
        outcome = {0: ALLOWED, 4: REFUSED}.get(result.exit_code, f"exit {result.exit_code}")
        return outcome, result.stderr + result.stdout


class ClientCli(LocalCli):
    """The same CLI commands as a client of a real `tocsin serve`, with the person's own token (`TOCSIN_SERVER` and
    `TOCSIN_TOKEN`, as a CI job would; `tocsin login` stores the same two)."""

    def __init__(self, run: Callable[..., Any], url: str) -> None:
        super().__init__(run)
        self.url = url
        self.tokens: dict[str, str] = {}

    def attempt(self, case: Case, world: World, handle: str, tmp_path: Path) -> tuple[str, str]:
        import os

        if handle not in self.tokens:
            self.tokens[handle] = api_token(handle)
        saved = {k: os.environ.get(k) for k in ("TOCSIN_SERVER", "TOCSIN_TOKEN")}
        os.environ.update(TOCSIN_SERVER=self.url, TOCSIN_TOKEN=self.tokens[handle])
        try:
            return super().attempt(case, world, handle, tmp_path)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


class ApiDoor:
    """The JSON API with the person's own token."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    @classmethod
    @contextmanager
    def open(cls) -> Iterator[ApiDoor]:
        from fastapi.testclient import TestClient
        from tocsin.web.app import create_app

        from tocsin.core.config import get_settings

        with TestClient(create_app(get_settings())) as client:
            yield cls(client)

    def attempt(self, case: Case, world: World, handle: str, tmp_path: Path) -> tuple[str, str]:
        assert case.api is not None
        if handle not in self.tokens:
            self.tokens[handle] = api_token(handle)
        method, path, body = case.api(world)
        response = self.client.request(
            method, path, json=body, headers={"Authorization": f"Bearer {self.tokens[handle]}"}
        )
        if 200 <= response.status_code < 300:
            return ALLOWED, response.text
        if response.status_code == 403:
            return REFUSED, response.text
        return f"HTTP {response.status_code}", response.text


class ConsoleDoor:
    """The web console's forms, logged in as the person through /login (CSRF token and all)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.clients: dict[str, Any] = {}

    @classmethod
    @contextmanager
    def open(cls) -> Iterator[ConsoleDoor]:
        from fastapi.testclient import TestClient
        from tocsin.web.app import create_app

        from tocsin.core.config import get_settings

        with TestClient(create_app(get_settings())) as client:
            yield cls(client.app)

    def _client(self, handle: str) -> Any:
        from fastapi.testclient import TestClient

        from tests.web.console_helpers import login

        if handle not in self.clients:
            client = TestClient(self.app)
            assert login(client, handle, PASSWORD).status_code == 303
            self.clients[handle] = client
        return self.clients[handle]

    def attempt(self, case: Case, world: World, handle: str, tmp_path: Path) -> tuple[str, str]:
        from tests.web.console_helpers import post_form

        assert case.console is not None
        client = self._client(handle)
        path, fields = case.console(world)
        response = post_form(client, path, fields, token_from="/incidents")
        if response.status_code == 403:
            return REFUSED, response.text[:300]
        if response.status_code != 303:
            return f"HTTP {response.status_code}", response.text[:500]
        landed = client.get(response.headers["location"])  # the flash, if any, shows on the next page
        error = FLASH_ERROR.search(landed.text)
        return (f"flashed: {error.group(1)}", landed.text[:300]) if error else (ALLOWED, response.headers["location"])


class SlackDoor:
    """Slack's signed requests from the person's linked Slack user: the review card's buttons, the page's
    Acknowledge button, `/tocsin declare`. Slack is answered at once; the outcome is read from the record."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @classmethod
    @contextmanager
    def open(cls) -> Iterator[SlackDoor]:
        from fastapi.testclient import TestClient
        from tocsin.web.app import create_app

        from tocsin.core.config import get_settings

        with TestClient(create_app(get_settings())) as client:
            yield cls(client)

    def attempt(self, case: Case, world: World, handle: str, tmp_path: Path) -> tuple[str, str]:
        import json
        import time
        from urllib.parse import urlencode

        from slack_sdk.signature import SignatureVerifier
        from tocsin.notifications import slack_blocks

        assert case.slack is not None
        kind, what = case.slack(world)
        user = f"U{handle.upper()}"
        if kind == "command":
            fields = {"command": "/tocsin", "text": what["text"], "user_id": user, "channel_id": "C0INC",
                      "team_id": "T0FAKE", "response_url": ""}  # fmt: skip
            body, path = urlencode(fields).encode(), "/slack/commands"
        else:
            if kind == "ack":
                card = slack_blocks.escalation(
                    incident_id=f"INC-{world.incident_id}", escalation_id=f"E-{what['escalation']}", title="t",
                    severity="SEV2", reason="r", step=1,
                )  # fmt: skip
                action_id = slack_blocks.ACK_ACTION
            else:
                card = slack_blocks.draft_approval(
                    incident_id=f"INC-{world.incident_id}", draft_id=f"D-{what['draft']}", audience="individuals",
                    title="t", excerpt="e", sha256=what.get("sha") or world.hashes["in_review:individuals"],
                )  # fmt: skip
                action_id = slack_blocks.APPROVE_DRAFT_ACTION if kind == "approve" else slack_blocks.REJECT_DRAFT_ACTION
            actions = next(b for b in card.blocks if b["type"] == "actions")
            button = next(e for e in actions["elements"] if e["action_id"] == action_id)
            payload = {
                "type": "block_actions",
                "user": {"id": user, "username": handle},
                "team": {"id": "T0FAKE"},
                "channel": {"id": "C0INC"},
                "response_url": "",
                "actions": [{"action_id": action_id, "block_id": actions["block_id"], "value": button["value"]}],
            }
            body, path = urlencode({"payload": json.dumps(payload)}).encode(), "/slack/actions"  # fmt: skip
        stamp = str(int(time.time()))
        signature = SignatureVerifier(SLACK_SECRET).generate_signature(timestamp=stamp, body=body)
        headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature,
                   "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
        response = self.client.post(path, content=body, headers=headers)  # background work runs before it returns
        if response.status_code != 200:
            return f"HTTP {response.status_code}", response.text
        return _recorded(case, world, handle)


SUCCESS_EVENT = {
    "incident.declare": "incident.declared_from_slack",
    "draft.approval": "draft.approved",
    "draft.rejection": "draft.rejected",
    "escalation.ack": "escalation.acknowledged",
}


def _recorded(case: Case, world: World, handle: str) -> tuple[str, str]:
    """What the Slack request did, read from the timeline: its success event, its refusal, or nothing."""
    from sqlmodel import col, select
    from tocsin.models import AuditEvent

    from tocsin.db.engine import session_scope

    wanted = (SUCCESS_EVENT[case.action.value], f"{case.action.value}_refused")
    with session_scope() as session:
        statement = select(AuditEvent.action).where(AuditEvent.actor == handle, col(AuditEvent.action).in_(wanted))
        if case.incident:
            statement = statement.where(AuditEvent.incident_id == world.incident_id)
        else:
            statement = statement.where(AuditEvent.incident_id > world.incident_id)
        done = set(session.exec(statement))
    if wanted[1] in done:
        return REFUSED, "refused on the timeline"
    if wanted[0] in done:
        return ALLOWED, wanted[0]
    return "nothing recorded", ""
