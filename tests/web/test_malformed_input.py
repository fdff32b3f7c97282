"""Malformed input at every door is a 4xx, never a 500 with a traceback in the log (the kinds found in
issue #15, on SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from pydantic import SecretStr
from tocsin.notifications.sendgrid_events import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tocsin.notifications.slack_inbound import expected_signature
from tocsin.web.app import create_app

from tests.web.conftest import SLACK_SECRET, Api
from tocsin.core.config import get_settings

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DEEP = "[" * 20_000 + "]" * 20_000  # deeper than json reads, within the Slack body limit


def slack_headers(body: bytes, stamp: str | None = None) -> dict[str, str]:
    stamp = stamp or str(int(time.time()))
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": expected_signature(body, stamp, SLACK_SECRET),
            **FORM}  # fmt: skip


def click(payload: object) -> bytes:
    return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)}).encode()


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Client errors leave no ERROR (traceback) in the log."""
    with caplog.at_level(logging.INFO):
        yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage()[:200] for r in errors]


SIGNED_SLACK_BODIES = {
    "raw byte 0xff": b"payload=\xff",
    "percent-encoded 0xff": b"payload=%FF",
    "user is a string": click({"type": "block_actions", "user": "U0ALICE", "actions": [{"action_id": "tocsin.ack"}]}),
    "deeply nested arrays": click(DEEP),
    "actions is a number": click({"type": "block_actions", "user": {"id": "U0ALICE"}, "actions": 5}),
    "type is a list": click({"type": ["block_actions"], "user": {"id": "U0ALICE"}}),
    "payload is a list": click([1, 2]),
}


@pytest.mark.parametrize("body", SIGNED_SLACK_BODIES.values(), ids=SIGNED_SLACK_BODIES.keys())
def test_signed_slack_clicks_of_odd_shape_are_422(api: Api, no_tracebacks: None, body: bytes) -> None:
    response = api.client.post("/slack/actions", content=body, headers=slack_headers(body))
    assert response.status_code == 422, response.text


def test_odd_slack_bodies_and_headers_are_refused_without_a_traceback(api: Api, no_tracebacks: None) -> None:
    body = b"payload=\xff"
    forged = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00", **FORM}
    assert api.client.post("/slack/actions", content=body, headers=forged).status_code == 401
    assert api.client.post("/slack/actions", content=body, headers=FORM).status_code == 401
    for stamp in ("1e9", "\u0661\u0662\u0663", "9" * 5000, "-5", " 12"):
        headers = {**slack_headers(body), "X-Slack-Request-Timestamp": stamp.encode("utf-8")}
        assert api.client.post("/slack/commands", content=body, headers=headers).status_code == 401, stamp
    command = b"command=%2Ftocsin&text=declare+--title+%22x&user_id=U0ALICE&text2=%FF"
    assert api.client.post("/slack/commands", content=command, headers=slack_headers(command)).status_code == 422


def test_a_button_value_nested_too_deeply_is_answered_not_raised(api: Api, no_tracebacks: None) -> None:
    body = click({"type": "block_actions", "user": {"id": "U0ALICE"}, "actions": [{"action_id": "tocsin.ack",
                  "value": DEEP}]})  # fmt: skip
    assert api.client.post("/slack/actions", content=body, headers=slack_headers(body)).status_code == 200


def test_malformed_sendgrid_posts_are_4xx(api: Api, no_tracebacks: None) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    configured = get_settings().model_copy(
        update={"sendgrid_webhook_public_key": SecretStr(base64.b64encode(public).decode())}
    )

    def signed(body: bytes) -> dict[str, str]:
        stamp = str(int(time.time()))
        signature = base64.b64encode(key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
        return {SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: stamp}

    with TestClient(create_app(configured)) as client:
        not_utf8 = b'[{"event": "spamreport", "email": "\xff@example.com"}]'
        assert client.post("/webhooks/sendgrid", content=not_utf8).status_code == 401
        forged = {SIGNATURE_HEADER: base64.b64encode(b"junk").decode(), TIMESTAMP_HEADER: str(int(time.time()))}
        assert client.post("/webhooks/sendgrid", content=not_utf8, headers=forged).status_code == 401
        assert client.post("/webhooks/sendgrid", content=not_utf8, headers=signed(not_utf8)).status_code == 422
        for body in (
            DEEP.encode(),
            b'[{"event": "bounce", "email": "a@example.org", "timestamp": 1e300}]',
            b'[{"event": "bounce", "email": "a@example.org", "timestamp": NaN}]',
            b'[{"event": "bounce", "email": "a@example.org", "timestamp": 1, "sg_event_id": {"a": 1}, "type": [1]}]',
        ):
            response = client.post("/webhooks/sendgrid", content=body, headers=signed(body))
            assert response.status_code in (200, 422), (body[:80], response.text)


def test_an_id_too_large_for_the_database_is_404(api: Api, no_tracebacks: None) -> None:
    assert api.get("/api/incidents/99999999999999999999999").status_code == 404
    assert api.get("/api/incidents/INC-2147483648/timeline").status_code == 404
    assert api.get("/api/incidents/%F0%9F%92%A5").status_code == 422
