"""Slack's inbound endpoints over HTTP: forged or stale requests are 401 and change nothing; a genuine click
is acknowledged at once, handled in the background as the mapped person, and answered on response_url."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier

from tests.web.conftest import SLACK_SECRET, Api, declare, timeline
from tests.web.test_approvals_and_acks import draft_in_review, start_page


class ResponseUrlServer:
    """A local stand-in for Slack's response_url endpoint: records what Tocsin posts back."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack(api: Api) -> Iterator[tuple[TestClient, ResponseUrlServer]]:
    """The app configured with the local response_url server as its Slack base URL."""
    from tocsin.web.app import create_app

    from tocsin.core.config import get_settings

    hooks = ResponseUrlServer()
    settings = get_settings().model_copy(update={"slack_base_url": f"{hooks.base}/api/"})
    try:
        with TestClient(create_app(settings)) as client:
            yield client, hooks
    finally:
        hooks.close()


def signed(body: bytes, at: float | None = None) -> dict[str, str]:
    stamp = str(int(at if at is not None else time.time()))
    signature = SignatureVerifier(SLACK_SECRET).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip


def ack_click(incident: int, page: int, user: str, response_url: str) -> bytes:
    from tocsin.notifications.slack_blocks import ACK_ACTION, escalation

    card = escalation(incident_id=f"INC-{incident}", escalation_id=f"E-{page}", title="t", severity="SEV1",
                      reason="r", step=1)  # fmt: skip
    return button_click(card, ACK_ACTION, user, response_url)


def button_click(card: Any, action_id: str, user: str, response_url: str) -> bytes:
    """The signed-to-be body of a click on `card`'s `action_id` button by Slack user `user`."""
    actions = next(b for b in card.blocks if b["type"] == "actions")
    button = next(e for e in actions["elements"] if e["action_id"] == action_id)
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower()},
        "team": {"id": "T0FAKE"},
        "channel": {"id": "C0INC"},
        "container": {"type": "message", "message_ts": "1.2", "channel_id": "C0INC"},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": actions["block_id"], "value": button["value"]}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def open_pages(api: Api, incident: int) -> list[int]:
    return [e["escalation"] for e in api.get(f"/api/incidents/{incident}/escalations").json()]


def test_forged_and_stale_clicks_are_401_and_nothing_is_done(api: Api, slack) -> None:  # type: ignore[no-untyped-def]
    client, hooks = slack
    incident = declare(api)["id"]
    api.post(f"/api/incidents/{incident}/roles", json={"role": "legal", "person": "lena"})
    page = start_page(incident)
    body = ack_click(incident, page, "U0LENA", f"{hooks.base}/actions/1")
    forged = client.post("/slack/actions", content=body.replace(b"U0LENA", b"U0EVIL"), headers=signed(body))
    assert forged.status_code == 401 and "signature does not match" in forged.json()["error"]
    stale = client.post("/slack/actions", content=body, headers=signed(body, at=time.time() - 6 * 60))
    assert stale.status_code == 401 and "stale" in stale.json()["error"]
    unsigned = client.post("/slack/actions", content=body)
    assert unsigned.status_code == 401 and "missing Slack signature" in unsigned.json()["error"]
    assert open_pages(api, incident) == [page] and hooks.received == []
    assert not [e for e in timeline(api, incident) if e["action"].startswith(("escalation.ack", "slack."))]


def test_a_genuine_ack_click_acknowledges_as_the_mapped_person(api: Api, slack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client, hooks = slack
    woken: list[int] = []
    monkeypatch.setattr("tocsin.flows.launch.wake", lambda incident_id: woken.append(incident_id) or [])
    incident = declare(api)["id"]
    api.post(f"/api/incidents/{incident}/roles", json={"role": "legal", "person": "lena"})
    page = start_page(incident)
    woken.clear()  # the assignment woke the incident's playbooks already
    body = ack_click(incident, page, "U0LENA", f"{hooks.base}/actions/1")
    started = time.monotonic()
    response = client.post("/slack/actions", content=body, headers=signed(body))
    assert response.status_code == 200 and time.monotonic() - started < 3
    assert open_pages(api, incident) == []  # the TestClient ran the background work before returning
    acked = [e["actor"] for e in timeline(api, incident) if e["action"] == "escalation.acknowledged"]
    assert acked == ["lena"] and woken == [incident]
    assert hooks.received == [
        {
            "response_type": "ephemeral",
            "text": f"Acknowledged escalation {page} (INC-{incident}) as lena.",
            "replace_original": False,
        }
    ]


def test_the_approve_button_approves_the_hash_it_carries_as_legal_and_refuses_the_author(
    api: Api, slack, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from tocsin.notifications.slack_blocks import APPROVE_DRAFT_ACTION, draft_approval

    client, hooks = slack
    woken: list[int] = []
    monkeypatch.setattr("tocsin.flows.launch.wake", lambda incident_id: woken.append(incident_id) or [])
    incident = declare(api)["id"]
    for person in ("lena", "bob"):
        assert api.post(f"/api/incidents/{incident}/roles", json={"role": "legal", "person": person}).status_code == 201
    made = draft_in_review(incident, author="bob")
    card = draft_approval(incident_id=f"INC-{incident}", draft_id=f"D-{made['id']}", audience="individuals",
                          title="Notice", excerpt="...", sha256=made["sha256"])  # fmt: skip
    woken.clear()

    by_author = button_click(card, APPROVE_DRAFT_ACTION, "U0BOB", f"{hooks.base}/actions/1")
    assert client.post("/slack/actions", content=by_author, headers=signed(by_author)).status_code == 200
    assert hooks.received[-1]["text"].startswith("Could not approve:") and "four-eyes" in hooks.received[-1]["text"]
    refused = [e for e in timeline(api, incident) if e["action"] == "draft.approval_refused"]
    assert [(e["actor"], e["payload"]["via"], e["payload"]["slack_user"]) for e in refused] == [
        ("bob", "slack", "U0BOB")
    ]
    assert woken == [] and api.get(f"/api/drafts/{made['id']}").json()["status"] == "in_review"

    by_lena = button_click(card, APPROVE_DRAFT_ACTION, "U0LENA", f"{hooks.base}/actions/2")
    assert client.post("/slack/actions", content=by_lena, headers=signed(by_lena)).status_code == 200
    assert hooks.received[-1]["text"].startswith(f"Approved D-{made['id']} (sha256 {made['sha256'][:12]}) as lena")
    decision = api.get(f"/api/drafts/{made['id']}").json()["decision"]
    assert decision["decided_by"] == "lena" and decision["decided_sha256"] == made["sha256"]
    assert woken == [incident]  # the action woke the waiting runs once, after its commit


def test_an_unknown_slack_user_is_refused_on_the_timeline(api: Api, slack) -> None:  # type: ignore[no-untyped-def]
    client, hooks = slack
    incident = declare(api)["id"]
    api.post(f"/api/incidents/{incident}/roles", json={"role": "legal", "person": "lena"})
    page = start_page(incident)
    body = ack_click(incident, page, "U0MALLORY", f"{hooks.base}/actions/1")
    assert client.post("/slack/actions", content=body, headers=signed(body)).status_code == 200
    assert open_pages(api, incident) == [page]
    refused = [e["actor"] for e in timeline(api, incident) if e["action"] == "slack.refused"]
    assert refused == ["slack:U0MALLORY"] and hooks.received[0]["text"].startswith("Refused:")


def test_slash_command_usage_answers_at_once_and_declare_runs_in_the_background(api: Api, slack) -> None:  # type: ignore[no-untyped-def]
    client, hooks = slack

    def command(text: str) -> bytes:
        fields = {"command": "/tocsin", "user_id": "U0ALICE", "text": text, "response_url": f"{hooks.base}/cmd/1"}
        return urlencode(fields).encode()

    usage = command("declare --severity SEV9")
    answered = client.post("/slack/commands", content=usage, headers=signed(usage))
    assert answered.status_code == 200 and "Usage" in answered.json()["text"] and hooks.received == []
    body = command('declare --title "Payments API leaking card numbers" --severity SEV1')
    response = client.post("/slack/commands", content=body, headers=signed(body))
    assert response.json() == {"response_type": "ephemeral", "text": "Working on `declare`…"}
    declared = api.get("/api/incidents").json()
    assert [(i["title"], i["commander"]) for i in declared] == [("Payments API leaking card numbers", "alice")]
    assert hooks.received[0]["text"].startswith(f"INC-{declared[0]['id']} declared")


def test_slack_is_refused_when_no_signing_secret_is_configured(api: Api) -> None:
    from tocsin.web.app import create_app

    from tocsin.core.config import get_settings

    with TestClient(create_app(get_settings().model_copy(update={"slack_signing_secret": None}))) as client:
        refused = client.post("/slack/commands", content=b"command=/tocsin")
    assert refused.status_code == 503 and "not configured" in refused.json()["error"]


def test_replies_go_only_to_slack_or_the_configured_base() -> None:
    from tocsin.web.slack import reply_allowed

    from tocsin.core.config import Settings

    plain = Settings()
    assert reply_allowed("https://hooks.slack.com/actions/T0/1/xyz", plain)
    assert not reply_allowed("http://hooks.slack.com/actions/T0/1/xyz", plain)
    assert not reply_allowed("https://evil.example/hooks.slack.com", plain)
    assert not reply_allowed(None, plain)
    local = Settings(slack_base_url="http://127.0.0.1:9999/api/")
    assert reply_allowed("http://127.0.0.1:9999/cmd/1", local) and not reply_allowed("http://127.0.0.1:1/x", local)
