from __future__ import annotations

import socket

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from tocsin.notifications.message import ChatMessage
from tocsin.notifications.slack import SlackCallError, SlackChannel, incident_channel_name
from tocsin.notifications.slack_blocks import escalation, incident_brief

from tests.fakes import FakeSlack


def channel_for(fake: FakeSlack, sleeps: object = None, **options: object) -> SlackChannel:
    return SlackChannel(fake.token, base_url=fake.api_url, timeout=5, sleep=sleeps or (lambda s: None), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("incident_id", "title", "expected"),
    [
        ("42", "Customer DB exposed. Vendor X", "inc-42-customer-db-exposed-vendor-x"),
        ("INC-2026-007", "Ransomware at Zürich office!!", "inc-inc-2026-007-ransomware-at-zurich-office"),
        ("7", "   ", "inc-7"),
        ("7", "x" * 200, "inc-7-" + "x" * 74),
    ],
)
def test_incident_channel_names_follow_slack_rules(incident_id: str, title: str, expected: str) -> None:
    name = incident_channel_name(incident_id, title)
    assert name == expected
    assert len(name) <= 80 and set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def test_open_incident_channel_is_idempotent_on_name_taken(fake_slack: FakeSlack) -> None:
    slack = channel_for(fake_slack)
    first = slack.open_incident_channel("42", "Customer DB exposed")
    second = slack.open_incident_channel("42", "Customer DB exposed")
    assert first.created and not second.created
    assert first.id == second.id
    assert [c.name for c in fake_slack.channels.values()] == ["inc-42-customer-db-exposed"]
    assert fake_slack.calls["conversations.create"] == 2  # the second create answered name_taken


def test_existing_channel_made_by_someone_else_is_joined(fake_slack: FakeSlack) -> None:
    for n in range(150):  # the match is on the second page of conversations.list
        fake_slack.add_channel(f"general-{n}", members=("U01ALICE",))
    existing = fake_slack.add_channel("inc-9-outage", members=("U01ALICE",))
    slack = channel_for(fake_slack)
    slack.list_page_size = 100
    ref = slack.open_incident_channel("9", "Outage")
    assert (ref.id, ref.created) == (existing.id, False)
    assert "U0TOCSINBOT" in fake_slack.channels[existing.id].members
    assert fake_slack.calls["conversations.list"] == 2


def test_invites_treat_already_in_channel_as_fine(fake_slack: FakeSlack) -> None:
    slack = channel_for(fake_slack)
    ref = slack.open_incident_channel("1", "Breach")
    first = slack.invite(ref.id, ["U01ALICE"])
    second = slack.invite(ref.id, ["U01ALICE", "U02BOB", "UNKNOWN1"])
    assert first.invited == ["U01ALICE"]
    assert second.invited == ["U02BOB"]
    assert second.already_in_channel == ["U01ALICE"]
    assert second.failed == {"UNKNOWN1": "user_not_found"}
    assert fake_slack.channels[ref.id].members == {"U0TOCSINBOT", "U01ALICE", "U02BOB"}


def test_block_kit_post_pin_update_and_dm(fake_slack: FakeSlack) -> None:
    from datetime import UTC, datetime

    slack = channel_for(fake_slack)
    ref = slack.open_incident_channel("3", "Phishing wave")
    brief = incident_brief(
        incident_id="3",
        title="Phishing wave",
        severity="SEV2",
        status="investigating",
        summary="Credential phishing against staff.",
        declared_at=datetime(2026, 11, 22, 8, 0, tzinfo=UTC),
    )
    posted = slack.post(ref.id, brief.text, brief.blocks)
    slack.pin(ref.id, posted.ts)
    slack.pin(ref.id, posted.ts)  # already_pinned is fine
    slack.update(ref.id, posted.ts, "updated", brief.blocks[:1])
    [stored] = fake_slack.messages(ref.id)
    assert stored["text"] == "updated" and stored["blocks"] == [brief.blocks[0]]
    assert fake_slack.channels[ref.id].pins == [posted.ts]

    page = escalation(
        incident_id="3",
        escalation_id="esc-1",
        title="Phishing wave",
        severity="SEV2",
        reason="No ack",
        step=2,
    )
    dm = slack.dm("U01ALICE", page.text, page.blocks)
    im = fake_slack.dm_channel("U01ALICE")
    assert im is not None and dm.channel == im.id
    assert fake_slack.messages(im.id)[0]["blocks"][2]["elements"][0]["action_id"] == "tocsin.ack"
    slack.dm("U01ALICE", "again")
    assert fake_slack.calls["conversations.open"] == 2 and len(fake_slack.messages(im.id)) == 2


def test_rate_limited_post_is_retried_after_retry_after_and_posted_once(fake_slack: FakeSlack, sleeps) -> None:
    slack = channel_for(fake_slack, sleeps)
    ref = slack.open_incident_channel("5", "Outage")
    fake_slack.fail_next(2, 429, retry_after=3, route="chat.postMessage")
    slack.post(ref.id, "status: mitigated")
    assert len(fake_slack.messages(ref.id)) == 1
    assert len(sleeps.waits) == 2 and all(3 <= w <= 4 for w in sleeps.waits)


def test_rate_limit_beyond_the_retry_budget_surfaces_ratelimited(fake_slack: FakeSlack, sleeps) -> None:
    slack = channel_for(fake_slack, sleeps, rate_limit_retries=1)
    ref = slack.open_incident_channel("5", "Outage")
    fake_slack.fail_next(3, 429, retry_after=0, route="chat.postMessage")
    [result] = slack.send([ChatMessage(message_id="m1", channel=ref.id, text="hello")])
    assert not result.accepted and result.error == "ratelimited" and result.retryable
    assert fake_slack.messages(ref.id) == []


def test_server_error_and_bad_token_become_typed_errors(fake_slack: FakeSlack) -> None:
    slack = channel_for(fake_slack)
    ref = slack.open_incident_channel("6", "Outage")
    fake_slack.fail_next(1, 500, route="chat.postMessage")
    with pytest.raises(SlackCallError) as failure:
        slack.post(ref.id, "hello")
    assert failure.value.code == "internal_error"
    bad = SlackChannel("xoxb-wrong", base_url=fake_slack.api_url)
    with pytest.raises(SlackCallError) as refused:
        bad.post(ref.id, "hello")
    assert refused.value.code == "invalid_auth"
    with pytest.raises(SlackCallError) as missing:
        slack.post("C-NOPE", "hello")
    assert missing.value.code == "channel_not_found"


def test_long_text_is_truncated_so_slack_accepts_it(fake_slack: FakeSlack) -> None:
    slack = channel_for(fake_slack)
    ref = slack.open_incident_channel("8", "Long")
    raw = WebClient(token=fake_slack.token, base_url=fake_slack.api_url)
    with pytest.raises(SlackApiError) as refused:
        raw.chat_postMessage(channel=ref.id, text="x" * 40_001)
    assert refused.value.response["error"] == "msg_too_long"
    slack.post(ref.id, "x" * 50_000)
    [stored] = fake_slack.messages(ref.id)
    assert len(stored["text"]) == 40_000 and "characters omitted]" in stored["text"]
    with pytest.raises(SlackCallError, match="too_many_blocks"):
        slack.post(ref.id, "many", [{"type": "divider"}] * 51)


def test_send_protocol_reports_each_message(fake_slack: FakeSlack) -> None:
    slack = channel_for(fake_slack)
    ref = slack.open_incident_channel("10", "Drill")
    results = slack.send(
        [
            ChatMessage(message_id="a", channel=ref.id, text="to channel"),
            ChatMessage(message_id="b", user="U02BOB", text="to bob"),
            ChatMessage(message_id="c", channel="C-NOPE", text="lost"),
        ]
    )
    assert [r.accepted for r in results] == [True, True, False]
    assert results[0].provider_id and results[0].provider_id.startswith(ref.id + ":")
    assert results[2].error == "channel_not_found" and not results[2].retryable
    assert slack.lookup_user_id("bob@example.com") == "U02BOB"
    assert slack.lookup_user_id("nobody@example.com") is None


def test_connection_errors_are_retried_then_raised() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    slack = SlackChannel("xoxb-x", base_url=f"http://127.0.0.1:{port}/api/", connection_retries=1)
    [result] = slack.send([ChatMessage(message_id="m", channel="C1", text="hi")])
    assert not result.accepted and result.retryable and result.error and result.error.startswith("network")
