"""SendGrid's Event Webhook and mention ingestion over HTTP."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import Api, declare, timeline

START = datetime(2026, 3, 2, tzinfo=UTC)
SURGE_AT = START + timedelta(days=2, hours=14, minutes=3)


def queued_delivery(incident: int, email: str, message_id: str) -> None:
    from tocsin.models import Delivery, DeliveryBatch, NoticeWave

    from tocsin.core.clocks import utcnow
    from tocsin.db.engine import session_scope

    with session_scope() as session:
        wave = NoticeWave(incident_id=incident, channel="email", started_by="alice", started_at=utcnow())
        session.add(wave)
        session.flush()
        batch = DeliveryBatch(wave_id=wave.id or 0, accepted_at=utcnow())
        session.add(batch)
        session.flush()
        session.add(Delivery(incident_id=incident, wave_id=wave.id or 0, batch_id=batch.id or 0, draft_id=1,
                             email=email, message_id=message_id, queued_at=utcnow()))  # fmt: skip


def delivery_status(message_id: str) -> str:
    from sqlalchemy import select

    from tocsin.db.engine import session_scope
    from tocsin.wave.status import DELIVERIES, STATUS, WITH_BATCH

    statement = select(STATUS).select_from(WITH_BATCH).where(DELIVERIES.c.message_id == message_id)
    with session_scope() as session:
        return str(session.execute(statement).scalar_one())


def sendgrid_body(*events: tuple[str, str, str, int]) -> bytes:
    from tocsin.notifications.message import MESSAGE_ID_ARG

    return json.dumps(
        [
            {"event": kind, "email": email, "timestamp": stamp, MESSAGE_ID_ARG: mid, "sg_event_id": f"e{n}"}
            for n, (kind, email, mid, stamp) in enumerate(events)
        ]
    ).encode()


def insecure_webhook_client() -> TestClient:
    """The app with TOCSIN_SENDGRID_WEBHOOK_INSECURE=true and no key: unsigned webhook POSTs are accepted."""
    from tocsin.web.app import create_app

    from tocsin.core.config import get_settings

    return TestClient(create_app(get_settings().model_copy(update={"sendgrid_webhook_insecure": True})))


def test_the_sendgrid_webhook_updates_delivery_status_and_suppresses(api: Api) -> None:
    incident = declare(api)["id"]
    queued_delivery(incident, "ann@example.com", "msg-ann")
    queued_delivery(incident, "ben@example.com", "msg-ben")
    body = sendgrid_body(
        ("delivered", "ann@example.com", "msg-ann", 1_795_000_000),
        ("bounce", "ben@example.com", "msg-ben", 1_795_000_000),
        ("delivered", "stranger@example.com", "not-ours", 1_795_000_000),
    )
    # Unsigned POSTs only with the explicit insecure switch (tests/web/test_request_guards.py: refused otherwise).
    insecure = insecure_webhook_client()
    response = insecure.post("/webhooks/sendgrid", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["events"], summary["matched"], summary["updated"], summary["suppressed"]) == (3, 2, 2, 1)
    assert (delivery_status("msg-ann"), delivery_status("msg-ben")) == ("delivered", "bounced")
    broken = insecure.post("/webhooks/sendgrid", content=b"{not json")
    assert broken.status_code == 422 and "not JSON" in broken.json()["error"]


def test_with_a_public_key_only_signed_webhooks_are_accepted(api: Api) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from pydantic import SecretStr
    from tocsin.notifications.sendgrid_events import SIGNATURE_HEADER, TIMESTAMP_HEADER
    from tocsin.web.app import create_app

    from tocsin.core.config import get_settings

    private_key = ec.generate_private_key(ec.SECP256R1())
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings = get_settings().model_copy(
        update={"sendgrid_webhook_public_key": SecretStr(base64.b64encode(public_der).decode())}
    )
    incident = declare(api)["id"]
    queued_delivery(incident, "ann@example.com", "msg-ann")
    body = sendgrid_body(("delivered", "ann@example.com", "msg-ann", 1_795_000_000))
    stamp = str(int(time.time()))
    signature = base64.b64encode(private_key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    with TestClient(create_app(settings)) as client:
        unsigned = client.post("/webhooks/sendgrid", content=body)
        assert unsigned.status_code == 401 and "missing" in unsigned.json()["error"]
        forged = client.post("/webhooks/sendgrid", content=body.replace(b"delivered", b"bounce"),
                             headers={SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: stamp})  # fmt: skip
        assert forged.status_code == 401 and delivery_status("msg-ann") == "accepted"
        signed = client.post("/webhooks/sendgrid", content=body,
                             headers={SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: stamp})  # fmt: skip
        assert signed.status_code == 200 and delivery_status("msg-ann") == "delivered"


@cache
def crisis_stream() -> tuple[list[str], list[str]]:
    """Two days of routine mentions (history), then the day of a crisis: two JSONL batches."""
    from tocsin.sentiment.synthetic import RoutineProfile, Surge, mention_stream

    surge = Surge(SURGE_AT, peak_per_hour=600, ramp_minutes=10, hours=3)
    lines = [json.dumps(r) for r in mention_stream(START, 2.75, RoutineProfile(per_hour=30), (surge,), seed=4)]
    split = next(i for i, line in enumerate(lines) if json.loads(line)["created_at"] >= "2026-03-04T00:00:00Z")
    return lines[:split], lines[split:]


def test_mentions_raise_an_alert_on_the_incident(api: Api) -> None:
    incident = declare(api, kind="crisis")["id"]
    history, crisis_day = crisis_stream()
    private = json.dumps({"id": "p", "created_at": "2026-03-02T00:00:00Z", "text": "x", "visibility": "private"})
    first_batch = "\n".join([history[0], "{broken", private, *history[1:]]) + "\n"
    first = api.post(f"/api/mentions?incident={incident}", content=first_batch.encode())
    assert first.status_code == 200, first.text
    counts = first.json()
    assert (counts["accepted"], counts["rejected"], counts["not_public"]) == (len(history), 2, 1)
    assert [(r["line"], r["not_public"]) for r in counts["rejects"]] == [(2, False), (3, True)]
    assert counts["rejects"][0]["reason"].startswith("invalid JSON") and counts["alerts"] == []
    assert not [e for e in timeline(api, incident) if e["action"] == "sentiment.alert"]

    second = api.post(f"/api/mentions?incident=INC-{incident}", content="\n".join(crisis_day).encode()).json()
    kinds = {a["kind"] for a in second["alerts"]}
    assert "negativity" in kinds and second["raised"] == len(second["alerts"])
    attached = [e["payload"] for e in timeline(api, incident) if e["action"] == "sentiment.alert"]
    assert {a["kind"] for a in attached} == kinds
    for alert in attached:
        detected = datetime.fromisoformat(alert["detected_at"])
        assert SURGE_AT < detected <= SURGE_AT + timedelta(minutes=20)


def test_only_the_commander_comms_or_an_admin_raise_alerts_onto_an_incident(api: Api) -> None:
    incident = declare(api, kind="crisis")["id"]
    history, _crisis_day = crisis_stream()
    refused = api.post(f"/api/mentions?incident={incident}", "carl", content="\n".join(history[:50]).encode())
    assert refused.status_code == 403 and "policy sentiment.raise" in refused.json()["error"]
    assert [e["actor"] for e in timeline(api, incident) if e["action"] == "sentiment.raise_refused"] == ["carl"]
    assign = api.post(f"/api/incidents/{incident}/roles", json={"role": "comms", "person": "carl"})
    assert assign.status_code == 201
    accepted = api.post(f"/api/mentions?incident={incident}", "carl", content="\n".join(history[:50]).encode())
    assert accepted.status_code == 200 and accepted.json()["accepted"] == 50
    anyone = api.post("/api/mentions?brand=acme", "bob", content="\n".join(history[:50]).encode())
    assert anyone.status_code == 200  # without an incident: at most a proposal to the on-duty commander


def test_without_an_incident_a_negative_spike_is_proposed_to_the_on_duty_commander(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlmodel import select
    from tocsin.models import OutboundMessage

    from tocsin.core.config import get_settings
    from tocsin.db.engine import session_scope

    monkeypatch.setenv("TOCSIN_ON_DUTY_COMMANDER", "alice")
    get_settings.cache_clear()
    history, crisis_day = crisis_stream()
    as_array = json.dumps([json.loads(line) for line in history]).encode()  # a JSON array works too
    assert api.post("/api/mentions?brand=Acme", content=as_array).json()["accepted"] == len(history)
    result = api.post("/api/mentions?brand=acme", content="\n".join(crisis_day).encode()).json()
    assert "proposed a crisis to alice" in result["actions"]
    with session_scope() as session:
        purposes = [m.purpose for m in session.exec(select(OutboundMessage))]
    assert "proposal" in purposes
    assert api.post("/api/mentions?incident=999", content=b"").status_code == 404
