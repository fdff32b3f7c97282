"""Slack's interactive side through Tocsin's handler entry points: signed requests only, Slack users mapped
to people, acknowledgements, draft decisions and `/tocsin declare`; escalation CLI."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier
from tocsin.notifications.slack_blocks import ACK_ACTION, APPROVE_DRAFT_ACTION, REJECT_DRAFT_ACTION, draft_approval
from tocsin.notifications.slack_blocks import escalation as escalation_blocks
from tocsin.notifications.slack_inbound import ForgedSlackRequest

from tests.helpers import ok, run_cli
from tests.wave.conftest import declare_incident, draft_for

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture(autouse=True)
def slack_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from tocsin.core.config import get_settings

    monkeypatch.setenv("TOCSIN_SLACK_SIGNING_SECRET", SECRET)
    get_settings.cache_clear()


def signed(body: bytes, at: float | None = None) -> dict[str, str]:
    stamp = str(int(at if at is not None else time.time()))
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body),
    }


def click(blocks, action_id: str, user: str) -> bytes:  # type: ignore[no-untyped-def]
    actions = next(b for b in blocks.blocks if b["type"] == "actions")
    button = next(e for e in actions["elements"] if e["action_id"] == action_id)
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower()},
        "team": {"id": "T0FAKE"},
        "channel": {"id": "C0INC"},
        "container": {"type": "message", "message_ts": "1.2", "channel_id": "C0INC"},
        "actions": [{"action_id": action_id, "block_id": actions["block_id"], "value": button["value"]}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def start_page(incident: int) -> int:
    from tocsin.models import Role

    from tocsin.db.engine import session_scope
    from tocsin.messages.escalations import start_escalation

    with session_scope() as session:
        page = start_escalation(
            session,
            incident,
            Role.legal,
            subject="Approve the notice",
            body="Please look",
            ack_timeout=timedelta(minutes=15),
        )
        return page.id or 0


def timeline(incident: int) -> list[dict]:
    return ok("show", str(incident), "--json").json()["timeline"]


def test_the_acknowledge_button_acks_as_the_mapped_person(wave_db: str) -> None:
    from tocsin.web.slack_actions import handle_slack_interaction

    incident = declare_incident()
    ok("people", "add", "lena", "--slack-user", "U0LENA")
    page = start_page(incident)
    body = click(escalation_blocks(incident_id=f"INC-{incident}", escalation_id=f"E-{page}", title="t",
                                   severity="SEV1", reason="r", step=1), ACK_ACTION, "U0LENA")  # fmt: skip
    reply = handle_slack_interaction(body, signed(body))
    assert reply == {"response_type": "ephemeral", "text": f"Acknowledged escalation {page} (INC-{incident}) as lena."}
    acked = [e for e in timeline(incident) if e["action"] == "escalation.acknowledged"]
    assert [e["actor"] for e in acked] == ["lena"]
    again = handle_slack_interaction(body, signed(body))
    assert "already acknowledged by lena" in again["text"]
    assert ok("escalations", str(incident), "--json").json() == []


def test_an_unknown_slack_user_is_refused_and_the_refusal_is_audited(wave_db: str) -> None:
    from tocsin.web.slack_actions import handle_slack_interaction

    incident = declare_incident()
    page = start_page(incident)
    body = click(escalation_blocks(incident_id=f"INC-{incident}", escalation_id=str(page), title="t",
                                   severity="SEV1", reason="r", step=1), ACK_ACTION, "U0MALLORY")  # fmt: skip
    reply = handle_slack_interaction(body, signed(body))
    assert reply["response_type"] == "ephemeral" and reply["text"].startswith("Refused: your Slack account (U0MALLORY)")
    refused = [e for e in timeline(incident) if e["action"] == "slack.refused"]
    assert [(e["actor"], e["payload"]["attempted"]) for e in refused] == [("slack:U0MALLORY", "acknowledge")]
    assert ok("escalations", str(incident), "--json").json()[0]["escalation"] == page  # still open


def test_forged_and_stale_requests_are_refused_before_any_handler_runs(wave_db: str) -> None:
    from tocsin.web.slack_actions import handle_slack_command, handle_slack_interaction

    incident = declare_incident()
    ok("people", "add", "lena", "--slack-user", "U0LENA")
    page = start_page(incident)
    body = click(escalation_blocks(incident_id=f"INC-{incident}", escalation_id=str(page), title="t",
                                   severity="SEV1", reason="r", step=1), ACK_ACTION, "U0LENA")  # fmt: skip
    with pytest.raises(ForgedSlackRequest, match="does not match"):
        handle_slack_interaction(body.replace(b"U0LENA", b"U0EVIL"), signed(body))
    with pytest.raises(ForgedSlackRequest, match="stale"):
        handle_slack_interaction(body, signed(body, at=time.time() - 600))
    command = urlencode({"command": "/tocsin", "user_id": "U0LENA", "text": 'declare --title "x"'}).encode()
    with pytest.raises(ForgedSlackRequest, match="missing"):
        handle_slack_command(command, {})
    assert ok("escalations", str(incident), "--json").json()[0]["escalation"] == page  # nothing acknowledged


def test_approve_and_reject_buttons_go_through_the_approval_rules(wave_db: str) -> None:
    from tocsin.web.slack_actions import handle_slack_interaction

    incident = declare_incident()
    ok("people", "add", "lena", "--slack-user", "U0LENA")
    ok("people", "add", "bob", "--slack-user", "U0BOB")
    first = draft_for(incident, approve=False)
    card = draft_approval(incident_id=f"INC-{incident}", draft_id=f"D-{first}", audience="individuals",
                          title="Notice", excerpt="...")  # fmt: skip
    by_bob = click(card, APPROVE_DRAFT_ACTION, "U0BOB")  # bob is not legal (and wrote it)
    assert "Could not approve" in handle_slack_interaction(by_bob, signed(by_bob))["text"]
    by_lena = click(card, APPROVE_DRAFT_ACTION, "U0LENA")
    assert handle_slack_interaction(by_lena, signed(by_lena))["text"] == f"Approved D-{first} as lena."
    second = draft_for(incident, approve=False, subject="Other -name-")
    card = draft_approval(incident_id=f"INC-{incident}", draft_id=f"D-{second}", audience="individuals",
                          title="Notice", excerpt="...")  # fmt: skip
    reject = click(card, REJECT_DRAFT_ACTION, "U0LENA")
    assert handle_slack_interaction(reject, signed(reject))["text"].startswith(f"Rejected D-{second} as lena.")
    decisions = [(e["actor"], e["action"]) for e in timeline(incident) if e["action"].startswith("draft.")]
    assert ("lena", "draft.approved") in decisions and ("lena", "draft.rejected") in decisions


def test_slash_declare_creates_the_incident_with_the_caller_as_commander(wave_db: str) -> None:
    from tocsin.web.slack_actions import handle_slack_command

    ok("people", "add", "alice", "--slack-user", "U0ALICE")
    text = 'declare --title "Laptop stolen" --severity 2 --summary "HR laptop, unencrypted"'
    body = urlencode({"command": "/tocsin", "user_id": "U0ALICE", "channel_id": "C0GEN", "text": text}).encode()
    reply = handle_slack_command(body, signed(body))
    assert reply["text"].endswith("declared: Laptop stolen (SEV2). Commander: alice.")
    incidents = ok("incidents", "--json").json()
    assert [(i["title"], i["commander"]) for i in incidents] == [("Laptop stolen", "alice")]
    events = timeline(incidents[0]["id"])
    assert events[-1]["action"] == "incident.declared_from_slack"
    assert events[-1]["payload"]["summary"] == "HR laptop, unencrypted"
    stranger = urlencode({"command": "/tocsin", "user_id": "U0NOBODY", "text": text}).encode()
    assert handle_slack_command(stranger, signed(stranger))["text"].startswith("Refused")
    assert len(ok("incidents", "--json").json()) == 1


def test_ack_cli(wave_db: str) -> None:
    incident = declare_incident()
    page = start_page(incident)
    listed = ok("escalations", "--json").json()
    assert [(e["escalation"], e["paged"]) for e in listed] == [(page, ["lena"])]
    assert "lena" in ok("escalations", f"INC-{incident}").stdout
    refused = run_cli("ack", f"E-{page}", "--as", "mallory")
    assert refused.exit_code == 2 and "was not paged" in refused.stderr
    acked = ok("ack", f"E-{page}", "--as", "lena", "--json").json()
    assert (acked["escalation"], acked["acked_by"]) == (page, "lena")
    assert ok("escalations").stdout.strip() == "No open escalations."
    assert run_cli("ack", "seven").exit_code == 2
