"""Fuzzing the signed doors: Slack (/slack/commands, /slack/actions) with valid signatures over random and
oddly shaped bodies, and the SendGrid webhook signed with a test ECDSA key and unsigned. Whatever comes in,
the answer is never a 5xx and nothing raises (background work included). Deterministic (derandomized) and
bounded: a few hundred requests on SQLite, a few seconds each test."""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from tocsin.notifications.sendgrid_events import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tocsin.notifications.slack_blocks import ACK_ACTION, APPROVE_DRAFT_ACTION, REJECT_DRAFT_ACTION
from tocsin.notifications.slack_inbound import expected_signature
from tocsin.web.app import create_app

from tests.web.conftest import SLACK_SECRET, add_people
from tocsin.core.config import get_settings

pytestmark = pytest.mark.fuzz

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples every run: no flaky CI, failures reproduce
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Printable ASCII and Latin-1: what an HTTP header can carry.
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=40)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=16,
)  # fmt: skip
DEEP = st.integers(min_value=500, max_value=50_000).map(lambda n: "[" * n + "]" * n)
SLACK_USERS = st.sampled_from(["U0ALICE", "U0LENA", "U0NOBODY", ""]) | JSON
BUTTON_VALUES = (
    st.fixed_dictionaries(
        {},
        optional={
            "incident_id": st.text(max_size=30) | st.integers().map(str),
            "escalation_id": st.text(max_size=30) | st.integers().map(str),
            "draft_id": st.text(max_size=30) | st.integers().map(str),
            "sha256": st.text(max_size=70),
        },
    ).map(json.dumps)
    | DEEP
    | JSON
)
ACTIONS = st.lists(
    st.fixed_dictionaries(
        {"action_id": st.sampled_from([ACK_ACTION, APPROVE_DRAFT_ACTION, REJECT_DRAFT_ACTION, "x"]) | JSON},
        optional={"value": BUTTON_VALUES, "block_id": JSON},
    )
    | JSON,
    max_size=3,
)
INTERACTIONS = st.fixed_dictionaries(
    {"type": st.just("block_actions") | JSON},
    optional={
        "user": st.fixed_dictionaries({"id": SLACK_USERS}, optional={"username": JSON, "team_id": JSON}) | JSON,
        "actions": ACTIONS | JSON,
        "team": JSON,
        "channel": JSON,
        "container": JSON,
        "message": JSON,
        "trigger_id": JSON,
    },
)
COMMAND_TEXT = (
    st.text(max_size=80)
    | st.sampled_from(['declare --title "DB leak" --severity SEV1', "declare --title", 'declare "', "help", ""])
    | st.builds(lambda title, rest: f"declare --title {title} {rest}", st.text(max_size=30), st.text(max_size=30))
)
SECONDS = itertools.count()
FORM_FIELDS = st.sampled_from(["command", "text", "user_id", "user_name", "channel_id", "team_id", "payload"])


@dataclass
class Doors:
    client: TestClient
    sendgrid_key: ec.EllipticCurvePrivateKey
    replies: list[Any]


@pytest.fixture
def doors(tocsin_home: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Doors]:
    """The app on SQLite with people, Slack's signing secret and a SendGrid key; replies to Slack recorded,
    never posted."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    monkeypatch.setenv("TOCSIN_DATABASE_URL", f"sqlite:///{tocsin_home / 'fuzz.db'}")
    monkeypatch.setenv("TOCSIN_SLACK_SIGNING_SECRET", SLACK_SECRET)
    monkeypatch.setenv("TOCSIN_PLAYBOOK_EXECUTOR", "inline")
    get_settings.cache_clear()
    add_people()
    replies: list[Any] = []
    monkeypatch.setattr("tocsin.web.slack.post_reply", lambda url, reply, _settings: replies.append((url, reply)))
    settings_ = get_settings().model_copy(
        update={"sendgrid_webhook_public_key": SecretStr(base64.b64encode(public).decode())}
    )
    with TestClient(create_app(settings_)) as client:  # raises on any unhandled error, background work included
        yield Doors(client, key, replies)


def assert_no_server_error(response: Any) -> None:
    assert response.status_code < 500, response.text


def slack_signed(body: bytes) -> dict[str, str]:
    """Slack's headers over any bytes; each call a different second within the window, so the replay cache
    does not answer for the parser when hypothesis repeats a body."""
    stamp = str(int(time.time()) - next(SECONDS) % 250)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": expected_signature(body, stamp, SLACK_SECRET),
            "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip


def post_signed(doors: Doors, path: str, body: bytes) -> None:
    assert_no_server_error(doors.client.post(path, content=body, headers=slack_signed(body)))


@FUZZ
@given(body=st.binary(max_size=600) | st.text(max_size=300).map(str.encode))
def test_signed_slack_doors_answer_random_bytes_with_4xx(doors: Doors, body: bytes) -> None:
    post_signed(doors, "/slack/commands", body)
    post_signed(doors, "/slack/actions", body)


@FUZZ
@given(payload=INTERACTIONS | JSON | DEEP, url=st.none() | st.text(max_size=20))
def test_signed_slack_clicks_of_any_shape_are_never_a_server_error(doors: Doors, payload: Any, url: Any) -> None:
    if isinstance(payload, dict) and url is not None:
        payload["response_url"] = url
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    post_signed(doors, "/slack/actions", urlencode({"payload": raw}).encode())


@FUZZ
@given(
    text=COMMAND_TEXT,
    user=st.sampled_from(["U0ALICE", "U0NOBODY"]) | st.text(max_size=10),
    extra=st.dictionaries(FORM_FIELDS, st.text(max_size=20), max_size=3),
)
def test_signed_slash_commands_of_any_text_are_never_a_server_error(
    doors: Doors, text: str, user: str, extra: dict[str, str]
) -> None:
    form = {"command": "/tocsin", "text": text, "user_id": user, **extra}
    post_signed(doors, "/slack/commands", urlencode(form).encode())


@FUZZ
@given(stamp=HEADER_TEXT, signature=HEADER_TEXT, body=st.binary(max_size=200))
def test_slack_doors_refuse_odd_signature_headers_with_4xx(
    doors: Doors, stamp: str, signature: str, body: bytes
) -> None:
    headers = {"X-Slack-Request-Timestamp": stamp.encode("latin-1"), "X-Slack-Signature": signature.encode("latin-1")}
    for path in ("/slack/commands", "/slack/actions"):
        response = doors.client.post(path, content=body, headers=headers)
        assert response.status_code in (401, 422), response.text


EVENT_TYPES = st.sampled_from(["delivered", "bounce", "dropped", "spamreport", "unsubscribe", "open"]) | JSON
EVENTS = st.lists(
    st.fixed_dictionaries(
        {"event": EVENT_TYPES},
        optional={
            "email": st.emails().map(str) | JSON,
            "timestamp": st.integers() | st.floats() | JSON,
            "tocsin_message_id": JSON,
            "unique_args": JSON,
            "reason": JSON,
            "type": JSON,
            "sg_event_id": JSON,
            "sg_message_id": JSON,
            "asm_group_id": JSON,
        },
    )
    | JSON,
    max_size=4,
).map(lambda events: json.dumps(events).encode())
SENDGRID_BODIES = (
    EVENTS | JSON.map(lambda value: json.dumps(value).encode()) | DEEP.map(str.encode) | st.binary(max_size=300)
)


def sendgrid_signed(key: ec.EllipticCurvePrivateKey, body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = base64.b64encode(key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    return {SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: stamp}


@FUZZ
@given(body=SENDGRID_BODIES)
def test_signed_sendgrid_events_of_any_shape_are_never_a_server_error(doors: Doors, body: bytes) -> None:
    response = doors.client.post("/webhooks/sendgrid", content=body, headers=sendgrid_signed(doors.sendgrid_key, body))
    assert_no_server_error(response)


@FUZZ
@given(body=SENDGRID_BODIES, signature=HEADER_TEXT, stamp=HEADER_TEXT)
def test_unsigned_or_forged_sendgrid_posts_are_401(doors: Doors, body: bytes, signature: str, stamp: str) -> None:
    assert doors.client.post("/webhooks/sendgrid", content=body).status_code == 401
    headers = {SIGNATURE_HEADER: signature.encode("latin-1"), TIMESTAMP_HEADER: stamp.encode("latin-1")}
    assert doors.client.post("/webhooks/sendgrid", content=body, headers=headers).status_code == 401
