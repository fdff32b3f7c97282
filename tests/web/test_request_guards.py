"""Request guards of issue #15: the replay cache of the signed doors, Slack and SendGrid (SQLite and PostgreSQL),
the SendGrid webhook refusing unsigned POSTs unless explicitly insecure, and uvicorn's proxy headers off unless
configured."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from typing import Any
from urllib.parse import urlencode

import anyio
import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tocsin.models import Incident, SignedDoor, SignedRequestSeen, Suppression
from tocsin.notifications.sendgrid_events import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tocsin.web.app import create_app
from tocsin.web.replay_cache import first_delivery, prune

from tests.web.conftest import Api, declare
from tests.web.test_slack import signed
from tests.web.test_webhooks_and_mentions import delivery_status, queued_delivery, sendgrid_body
from tocsin.cli.serve import uvicorn_options
from tocsin.core.config import Settings, get_settings
from tocsin.db.engine import current_engine, session_scope


def declare_command(title: str) -> bytes:
    return urlencode(
        {
            "command": "/tocsin",
            "text": f'declare --title "{title}" --severity SEV2',
            "user_id": "U0ALICE",
            "user_name": "alice",
            "channel_id": "C0INC",
            "team_id": "T0FAKE",
        }
    ).encode()


def incident_count() -> int:
    with session_scope() as session:
        return int(session.exec(select(func.count()).select_from(Incident)).one())


def test_a_replayed_slack_declare_is_refused_and_declares_once(api: Api) -> None:
    body = declare_command("Replayed DB leak")
    headers = signed(body)
    answers = [api.client.post("/slack/commands", content=body, headers=headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert answers[0].json()["text"].startswith("Working on `declare`")
    assert all("replay" in a.json()["text"] and a.json()["response_type"] == "ephemeral" for a in answers[1:])
    assert incident_count() == 1


def test_distinct_signed_slack_requests_are_each_accepted(api: Api) -> None:
    first, second = declare_command("First leak"), declare_command("Second leak")
    at = time.time()
    assert "Working on" in api.client.post("/slack/commands", content=first, headers=signed(first, at)).text
    assert "Working on" in api.client.post("/slack/commands", content=second, headers=signed(second, at)).text
    # The same body signed at another second is another request (Slack's own retry carries a new signature).
    assert "Working on" in api.client.post("/slack/commands", content=first, headers=signed(first, at - 2)).text
    assert incident_count() == 3


def test_a_replayed_slack_click_is_refused(api: Api) -> None:
    payload = {"type": "block_actions", "user": {"id": "U0NOBODY"}, "actions": [{"action_id": "tocsin_unknown"}]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = signed(body)
    assert api.client.post("/slack/actions", content=body, headers=headers).content == b""
    replay = api.client.post("/slack/actions", content=body, headers=headers)
    assert replay.status_code == 200 and "replay" in replay.json()["text"]


def test_two_concurrent_identical_slack_requests_accept_exactly_one(api: Api) -> None:
    body = declare_command("Raced DB leak")
    headers = signed(body)
    start = threading.Barrier(2)
    answers: list[Any] = []

    def post() -> None:
        start.wait()
        answers.append(api.client.post("/slack/commands", content=body, headers=headers))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    texts = sorted(a.json()["text"] for a in answers)
    assert len(texts) == 2 and texts[0].startswith("Refused: Slack already delivered") and "Working on" in texts[1]
    assert incident_count() == 1


def test_the_replay_cache_insert_is_atomic_across_threads(tocsin_db: str) -> None:
    current_engine()  # migrated before the race, which is about the cache, not the first migration
    stamp, now = str(int(time.time())), time.time()
    start = threading.Barrier(8)
    outcomes: list[bool] = []

    def record() -> None:
        start.wait()
        outcomes.append(first_delivery(SignedDoor.slack, stamp, b"same body", now=now))

    threads = [threading.Thread(target=record) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [False] * 7 + [True]


def test_the_replay_cache_forgets_requests_older_than_the_window(tocsin_db: str) -> None:
    now = time.time()
    slack, sendgrid = SignedDoor.slack, SignedDoor.sendgrid
    assert first_delivery(slack, str(int(now) - 400), b"old", now=now - 100)  # Slack's window is 300 s
    assert first_delivery(sendgrid, str(int(now) - 400), b"old", now=now - 100)  # SendGrid's is 600 s
    assert first_delivery(slack, str(int(now)), b"new", now=now)
    assert prune(now) == 1
    with session_scope() as session:
        kept = session.exec(select(SignedRequestSeen.door, SignedRequestSeen.signed_at)).all()
    assert sorted(kept) == [("sendgrid", int(now) - 400), ("slack", int(now))]
    assert not first_delivery(slack, str(int(now)), b"new", now=now)  # still remembered within the window
    assert not first_delivery(sendgrid, str(int(now) - 400), b"old", now=now)


def test_the_same_request_at_another_door_is_another_request(tocsin_db: str) -> None:
    stamp, now = str(int(time.time())), time.time()
    assert first_delivery(SignedDoor.slack, stamp, b"body", now=now)
    assert first_delivery(SignedDoor.sendgrid, stamp, b"body", now=now)
    assert not first_delivery(SignedDoor.sendgrid, stamp, b"body", now=now)


def webhook_client(api: Api, *, insecure: bool) -> TestClient:
    return TestClient(create_app(get_settings().model_copy(update={"sendgrid_webhook_insecure": insecure})))


def test_without_a_key_the_sendgrid_webhook_refuses_unsigned_posts(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    incident = api.post("/api/incidents", json={"title": "t", "severity": "SEV1", "commander": "alice"}).json()["id"]
    queued_delivery(incident, "customer@example.com", "msg-c")
    forged = sendgrid_body(("spamreport", "customer@example.com", "msg-c", 1_795_000_000))
    with caplog.at_level(logging.WARNING, logger="tocsin.web"):
        client = webhook_client(api, insecure=False)
    assert "refuses every POST" in caplog.text
    refused = client.post("/webhooks/sendgrid", content=forged, headers={"Content-Type": "application/json"})
    assert refused.status_code == 403
    assert "TOCSIN_SENDGRID_WEBHOOK_PUBLIC_KEY" in refused.json()["error"]
    assert "TOCSIN_SENDGRID_WEBHOOK_INSECURE" in refused.json()["error"]
    with session_scope() as session:
        assert session.exec(select(Suppression)).all() == []
    assert delivery_status("msg-c") == "accepted"


def test_the_insecure_switch_accepts_unsigned_posts_and_warns(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    incident = api.post("/api/incidents", json={"title": "t", "severity": "SEV1", "commander": "alice"}).json()["id"]
    queued_delivery(incident, "ann@example.com", "msg-ann")
    with caplog.at_level(logging.WARNING, logger="tocsin.web"):
        client = webhook_client(api, insecure=True)
    assert "INSECURE" in caplog.text and "UNSIGNED" in caplog.text
    body = sendgrid_body(("delivered", "ann@example.com", "msg-ann", 1_795_000_000))
    accepted = client.post("/webhooks/sendgrid", content=body)
    assert accepted.status_code == 200 and delivery_status("msg-ann") == "delivered"


def client_address(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.client.host if request.client else "none")


def address_seen(**settings: Any) -> str:
    """The client address an app sees behind `tocsin serve`'s uvicorn options, for a request from loopback
    carrying X-Forwarded-For."""
    options = uvicorn_options(Settings(**settings), host="127.0.0.1", port=8300, log_level="warning")
    config = uvicorn.Config(Starlette(routes=[Route("/", client_address)]), **options)
    config.load()  # wraps the app the way `uvicorn.run` does (ProxyHeadersMiddleware when proxy_headers)
    transport = httpx.ASGITransport(app=config.loaded_app, client=("127.0.0.1", 40000))

    async def ask() -> str:
        async with httpx.AsyncClient(transport=transport, base_url="http://tocsin") as client:
            return (await client.get("/", headers={"X-Forwarded-For": "203.0.113.9"})).text

    return anyio.run(ask)


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # uvicorn's own switch must not turn it on either
    assert address_seen() == "127.0.0.1"
    assert address_seen(web_trust_proxy=True) == "203.0.113.9"
    assert address_seen(web_trust_proxy=True, web_forwarded_allow_ips="10.0.0.1") == "127.0.0.1"


P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class SendGridSigner:
    """SendGrid's side of the Signed Event Webhook: a key pair, the app configured with its public half."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        public_der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        key = SecretStr(base64.b64encode(public_der).decode())
        self.settings = get_settings().model_copy(update={"sendgrid_webhook_public_key": key})

    def headers(self, body: bytes, at: float | None = None) -> dict[str, str]:
        stamp = str(int(time.time() if at is None else at))
        signature = self.private_key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {SIGNATURE_HEADER: base64.b64encode(signature).decode(), TIMESTAMP_HEADER: stamp}


def suppressions() -> list[tuple[str, str]]:
    with session_scope() as session:
        return [(s.email, s.reason) for s in session.exec(select(Suppression))]


def sendgrid_requests_seen() -> int:
    with session_scope() as session:
        door = SignedRequestSeen.door == SignedDoor.sendgrid.value
        return int(session.exec(select(func.count()).select_from(SignedRequestSeen).where(door)).one())


def test_a_replayed_sendgrid_post_changes_nothing_and_is_answered_200(api: Api) -> None:
    incident = declare(api)["id"]
    queued_delivery(incident, "ann@example.com", "msg-ann")
    signer = SendGridSigner()
    delivered = sendgrid_body(("delivered", "ann@example.com", "msg-ann", 1_795_000_000))
    bounced = sendgrid_body(("bounce", "ann@example.com", "msg-ann", 1_795_000_100))
    delivered_headers, bounced_headers = signer.headers(delivered), signer.headers(bounced)
    with TestClient(create_app(signer.settings)) as client:
        first = client.post("/webhooks/sendgrid", content=delivered, headers=delivered_headers)
        assert first.status_code == 200 and first.json()["replay"] is False and first.json()["updated"] == 1
        second = client.post("/webhooks/sendgrid", content=bounced, headers=bounced_headers)
        assert second.json()["suppressed"] == 1 and delivery_status("msg-ann") == "bounced"
        for body, headers in ((delivered, delivered_headers), (bounced, bounced_headers)):
            replay = client.post("/webhooks/sendgrid", content=body, headers=headers)
            assert replay.status_code == 200, replay.text
            answer = replay.json()
            assert answer["replay"] is True and "nothing was applied again" in answer["detail"]
            assert (answer["events"], answer["updated"], answer["suppressed"]) == (0, 0, 0)
    assert delivery_status("msg-ann") == "bounced"  # not moved back to `delivered`
    assert suppressions() == [("ann@example.com", "bounce")]
    assert sendgrid_requests_seen() == 2


def test_the_same_events_signed_anew_are_applied_as_sendgrid_retries_them(api: Api) -> None:
    incident = declare(api)["id"]
    queued_delivery(incident, "ann@example.com", "msg-ann")
    signer = SendGridSigner()
    body = sendgrid_body(("spamreport", "ann@example.com", "msg-ann", 1_795_000_000))
    now = time.time()
    with TestClient(create_app(signer.settings)) as client:
        first = client.post("/webhooks/sendgrid", content=body, headers=signer.headers(body, now))
        retry = client.post("/webhooks/sendgrid", content=body, headers=signer.headers(body, now - 3))
    assert first.json()["replay"] is False and first.json()["suppressed"] == 1
    assert retry.json()["replay"] is False and retry.json()["suppressed"] == 0  # applied, and idempotent
    assert delivery_status("msg-ann") == "spamreport" and len(suppressions()) == 1


def test_a_replay_with_a_re_encoded_signature_is_still_a_replay(api: Api) -> None:
    """An ECDSA signature (r, s) is also valid as (r, n - s): the cache keys on the signed bytes, not on it."""
    signer = SendGridSigner()
    body = sendgrid_body(("delivered", "nobody@example.com", "not-ours", 1_795_000_000))
    headers = signer.headers(body)
    r, s = decode_dss_signature(base64.b64decode(headers[SIGNATURE_HEADER]))
    twin = base64.b64encode(encode_dss_signature(r, P256_ORDER - s)).decode()
    with TestClient(create_app(signer.settings)) as client:
        assert client.post("/webhooks/sendgrid", content=body, headers=headers).json()["replay"] is False
        replay = client.post("/webhooks/sendgrid", content=body, headers={**headers, SIGNATURE_HEADER: twin})
    assert replay.status_code == 200 and replay.json()["replay"] is True


def test_a_signed_post_that_fails_is_not_remembered(api: Api) -> None:
    signer = SendGridSigner()
    body = json.dumps({"event": "delivered"}).encode()  # signed, but not the array SendGrid sends
    headers = signer.headers(body)
    with TestClient(create_app(signer.settings)) as client:
        answers = [client.post("/webhooks/sendgrid", content=body, headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [422, 422]  # refused for its shape each time, never "a replay"
    assert sendgrid_requests_seen() == 0


def test_two_concurrent_identical_sendgrid_posts_apply_once(api: Api) -> None:
    incident = declare(api)["id"]
    queued_delivery(incident, "ann@example.com", "msg-ann")
    signer = SendGridSigner()
    body = sendgrid_body(("delivered", "ann@example.com", "msg-ann", 1_795_000_000))
    headers = signer.headers(body)
    start = threading.Barrier(2)
    answers: list[Any] = []
    with TestClient(create_app(signer.settings)) as client:

        def post() -> None:
            start.wait()
            answers.append(client.post("/webhooks/sendgrid", content=body, headers=headers))

        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(a.status_code for a in answers) == [200, 200]
    assert sorted(a.json()["replay"] for a in answers) == [False, True]
    assert sum(a.json()["updated"] for a in answers) == 1
