from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier
from tocsin.notifications.slack_blocks import ACK_ACTION, APPROVE_DRAFT_ACTION, escalation
from tocsin.notifications.slack_command import CommandError, DeclareCommand, parse_command
from tocsin.notifications.slack_inbound import (
    ForgedSlackRequest,
    HandlerRegistry,
    SlackAction,
    SlashCommand,
    handle_interaction,
    handle_slash_command,
    parse_interaction,
    parse_slash_command,
    verify_request,
)

from tocsin.core.errors import InvalidInput

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_795_000_000.0


def signed(body: bytes, timestamp: float = NOW, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(timestamp))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": str(signature)}


def interaction_body(action_id: str = ACK_ACTION) -> bytes:
    page = escalation(incident_id="INC-1", escalation_id="E-9", title="t", severity="SEV2", reason="r", step=1)
    button = page.blocks[2]["elements"][0]
    payload = {
        "type": "block_actions",
        "user": {"id": "U01ALICE", "username": "alice", "team_id": "T0FAKETEAM"},
        "api_app_id": "A0TOCSIN",
        "team": {"id": "T0FAKETEAM", "domain": "fake"},
        "container": {"type": "message", "message_ts": "1795000000.000100", "channel_id": "C0INC1"},
        "channel": {"id": "C0INC1", "name": "inc-1-breach"},
        "trigger_id": "123.456.abc",
        "response_url": "https://hooks.slack.com/actions/T0/1/xyz",
        "message": {"ts": "1795000000.000100", "blocks": list(page.blocks)},
        "actions": [
            {
                "action_id": action_id,
                "block_id": page.blocks[2]["block_id"],
                "value": button["value"],
                "type": "button",
                "action_ts": "1795000001.000200",
                "text": button["text"],
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def command_body(text: str) -> bytes:
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": "T0FAKETEAM",
            "channel_id": "C0GENERAL",
            "user_id": "U02BOB",
            "user_name": "bob",
            "command": "/tocsin",
            "text": text,
            "response_url": "https://hooks.slack.com/commands/T0/1/xyz",
            "trigger_id": "789.012.def",
        }
    ).encode()


def test_valid_signature_within_five_minutes_passes() -> None:
    body = interaction_body()
    verify_request(body, signed(body), SECRET, now=lambda: NOW + 299)
    verify_request(body, {k.lower(): v for k, v in signed(body).items()}, SECRET, now=lambda: NOW)


@pytest.mark.parametrize(
    ("headers_for", "now", "reason"),
    [
        (lambda body: signed(body, secret="not-the-secret"), NOW, "does not match"),
        (lambda body: signed(body + b"&tampered=1"), NOW, "does not match"),
        (lambda body: signed(body), NOW + 301, "stale"),
        (lambda body: signed(body, timestamp=NOW + 3600), NOW, "stale"),
        (lambda body: {"X-Slack-Request-Timestamp": str(int(NOW))}, NOW, "missing"),
        (lambda body: {**signed(body), "X-Slack-Request-Timestamp": "yesterday"}, NOW, "malformed"),
    ],
)
def test_forged_or_replayed_requests_are_refused(headers_for, now: float, reason: str) -> None:
    body = interaction_body()
    with pytest.raises(ForgedSlackRequest, match=reason) as refused:
        verify_request(body, headers_for(body), SECRET, now=lambda: now)
    assert refused.value.exit_code == 4  # a Forbidden


def test_block_actions_payload_becomes_a_typed_action() -> None:
    [action] = parse_interaction(interaction_body())
    assert action == SlackAction(
        action_id="tocsin.ack",
        value=action.value,
        slack_user_id="U01ALICE",
        slack_user_name="alice",
        team_id="T0FAKETEAM",
        channel_id="C0INC1",
        message_ts="1795000000.000100",
        block_id="tocsin.escalation.E-9",
        response_url="https://hooks.slack.com/actions/T0/1/xyz",
        trigger_id="123.456.abc",
    )
    assert action.ids == {"incident_id": "INC-1", "escalation_id": "E-9"}


@pytest.mark.parametrize(
    "body",
    [
        b"no_payload=1",
        urlencode({"payload": "{not json"}).encode(),
        urlencode({"payload": json.dumps({"type": "view_submission"})}).encode(),
        urlencode({"payload": json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": []})}).encode(),
    ],
)
def test_malformed_interactions_are_invalid_input(body: bytes) -> None:
    with pytest.raises(InvalidInput):
        parse_interaction(body)


def test_registered_handlers_receive_actions_and_commands() -> None:
    handlers = HandlerRegistry()
    seen: list[object] = []

    @handlers.on_action(ACK_ACTION)
    def acknowledge(action: SlackAction) -> str:
        seen.append(action.ids)
        return f"Acknowledged escalation {action.ids['escalation_id']}."

    @handlers.on_command("declare")
    def declare(command: DeclareCommand, request: SlashCommand) -> str:
        seen.append((command, request.user_id))
        return f"Declared {command.severity}: {command.title}"

    with pytest.raises(ValueError, match="already registered"):
        handlers.on_action(ACK_ACTION)(acknowledge)

    body = interaction_body()
    reply = handle_interaction(body, signed(body), SECRET, handlers=handlers, now=lambda: NOW)
    assert reply == {"response_type": "ephemeral", "text": "Acknowledged escalation E-9."}
    unknown = interaction_body(APPROVE_DRAFT_ACTION)
    assert (
        "does not know"
        in handle_interaction(unknown, signed(unknown), SECRET, handlers=handlers, now=lambda: NOW)["text"]
    )

    body = command_body('declare --title "Customer DB exposed" --severity sev2')
    reply = handle_slash_command(body, signed(body), SECRET, handlers=handlers, now=lambda: NOW)
    assert reply["text"] == "Declared SEV2: Customer DB exposed"
    assert seen[-1] == (DeclareCommand(title="Customer DB exposed", severity="SEV2"), "U02BOB")

    body = command_body("declare --severity SEV9 --title x")
    error = handle_slash_command(body, signed(body), SECRET, handlers=handlers, now=lambda: NOW)
    assert error["response_type"] == "ephemeral" and "Severity must be one of" in error["text"]
    with pytest.raises(ForgedSlackRequest):
        handle_slash_command(body, signed(body), SECRET, handlers=handlers, now=lambda: NOW + 600)


def test_slash_command_form_is_parsed() -> None:
    request = parse_slash_command(command_body("declare --title x"))
    assert (request.command, request.text, request.user_id, request.channel_id) == (
        "/tocsin",
        "declare --title x",
        "U02BOB",
        "C0GENERAL",
    )
    with pytest.raises(InvalidInput):
        parse_slash_command(b"text=hello")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('declare --title "DB exposed" --severity SEV1', DeclareCommand("DB exposed", "SEV1")),
        ("declare --title “Smart quotes” --severity 2", DeclareCommand("Smart quotes", "SEV2")),
        (
            "DECLARE --title=Outage --summary 'API down' --kind Outage --drill",
            DeclareCommand("Outage", "SEV3", "API down", "outage", True),
        ),
    ],
)
def test_declare_arguments(text: str, expected: DeclareCommand) -> None:
    assert parse_command(text) == ("declare", expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Usage"),
        ("help", "Usage"),
        ("declare", "`--title` is required"),
        ("declare --title", "`--title` needs a value"),
        ("declare --title a --title b", "given twice"),
        ("declare --title a --colour red", "Unknown option `--colour`"),
        ('declare --title "unclosed', "Could not read"),
        ("resolve INC-1", "Unknown subcommand `resolve`"),
    ],
)
def test_declare_usage_errors(text: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        parse_command(text)
