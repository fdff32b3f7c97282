from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tocsin.notifications.sendgrid_events import (
    DeliveryEvent,
    EventType,
    ForgedSendGridEvent,
    parse_events,
    verify_event_signature,
)

from tocsin.core.errors import InvalidInput

STAMP = 1_795_000_000


def event(kind: str, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "email": "Customer1@Example.com",
        "timestamp": STAMP,
        "event": kind,
        "sg_event_id": f"evt-{kind}",
        "sg_message_id": "fRdtIXYWm6pcQvVP0BsgGQ.filter0001.16648.5515E0B88.0",
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "tocsin_message_id": "msg-1",
        "incident_id": "INC-1",
    }
    base.update(fields)
    return base


BODY = json.dumps(
    [
        event("processed"),
        event("delivered", response="250 OK"),
        event("deferred", response="400 try again later", attempt="5"),
        event("open", useragent="Mozilla/5.0", ip="255.255.255.255"),
        event("click", url="https://tocsin.example/faq"),
        event("bounce", reason="500 unknown recipient", status="5.0.0", type="bounce"),
        event("bounce", reason="550 blocked by policy", type="blocked"),
        event("dropped", reason="Bounced Address", status="5.0.0"),
        event("dropped", reason="Invalid SMTPAPI header"),
        event("spamreport"),
        event("unsubscribe"),
        event("group_unsubscribe", asm_group_id=42),
        event("account_status_change", type="compliance_suspend"),
    ]
).encode()


def test_events_become_typed_with_message_id_and_utc_time() -> None:
    events = parse_events(BODY)
    assert len(events) == 12  # the account event is not a delivery event: skipped
    delivered = events[1]
    assert delivered == DeliveryEvent(
        message_id="msg-1",
        email="customer1@example.com",
        event=EventType.DELIVERED,
        timestamp=datetime.fromtimestamp(STAMP, UTC),
        reason="250 OK",
        sg_event_id="evt-delivered",
        sg_message_id="fRdtIXYWm6pcQvVP0BsgGQ.filter0001.16648.5515E0B88.0",
    )
    assert delivered.timestamp.tzinfo is UTC
    assert events[11].asm_group_id == 42
    assert events[5].bounce_type == "bounce" and events[5].reason == "500 unknown recipient"


def test_which_events_suppress_the_address() -> None:
    suppressing = [(e.event.value, e.reason) for e in parse_events(BODY) if e.suppresses]
    assert suppressing == [
        ("bounce", "500 unknown recipient"),
        ("dropped", "Bounced Address"),
        ("spamreport", None),
        ("unsubscribe", None),
        ("group_unsubscribe", None),
    ]


def test_legacy_unique_args_and_missing_message_id() -> None:
    legacy = {
        "email": "a@b.co",
        "timestamp": STAMP,
        "event": "delivered",
        "unique_args": {"tocsin_message_id": "m9"},
    }
    foreign = {"email": "a@b.co", "timestamp": STAMP, "event": "delivered"}
    assert [e.message_id for e in parse_events(json.dumps([legacy, foreign]))] == ["m9", None]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"{not json", "sendgrid events"),
        (b'{"event": "delivered"}', "sendgrid events"),
        (b'[{"event": "delivered", "timestamp": 1}]', "sendgrid event [0]"),
        (b'[{"event": "delivered", "email": "a@b.co", "timestamp": "soon"}]', "sendgrid event [0]"),
        (b"[1]", "sendgrid event [0]"),
    ],
)
def test_malformed_bodies_are_invalid_input(body: bytes, where: str) -> None:
    with pytest.raises(InvalidInput) as failure:
        parse_events(body)
    assert failure.value.where == where


def test_signed_event_webhook_is_verified_with_the_public_key() -> None:
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_key = base64.b64encode(public_der).decode()
    timestamp = str(STAMP)
    signature = base64.b64encode(private_key.sign(timestamp.encode() + BODY, ec.ECDSA(hashes.SHA256()))).decode()

    verify_event_signature(public_key, BODY, signature, timestamp, now=lambda: STAMP + 5)
    with pytest.raises(ForgedSendGridEvent, match="does not match"):
        verify_event_signature(public_key, BODY + b" ", signature, timestamp, now=lambda: STAMP)
    with pytest.raises(ForgedSendGridEvent, match="stale"):
        verify_event_signature(public_key, BODY, signature, timestamp, now=lambda: STAMP + 3_600)
    with pytest.raises(ForgedSendGridEvent, match="missing"):
        verify_event_signature(public_key, BODY, None, timestamp, now=lambda: STAMP)
    with pytest.raises(ForgedSendGridEvent, match="malformed"):
        verify_event_signature(public_key, BODY, "%%%", timestamp, now=lambda: STAMP)
