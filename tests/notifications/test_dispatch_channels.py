"""deliver_pending end to end: Slack DMs and channel posts (fake Slack Web API), the outbox fallback, retries
with backoff, permanent failures on the timeline, and the regulator's placeholder address kept away from SendGrid."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from tocsin.models import AuditEvent, IncidentKind, OutboundMessage, Severity
from tocsin.models.enums import Role
from tocsin.notifications.slack import SlackChannel

from tests.fakes import FakeSendGrid, FakeSlack
from tests.helpers import ok, send_email_through
from tocsin.core.clocks import FixedClock, use_clock
from tocsin.core.config import get_settings
from tocsin.db.engine import session_scope
from tocsin.incidents.service import Declaration, assign, declare, get_incident
from tocsin.messages.queue import deliver_pending, queue_to_channel, queue_to_person, undelivered_messages
from tocsin.people.directory import upsert_person

START = datetime(2027, 3, 9, 7, 30, tzinfo=UTC)
FACTS = {
    "entity": {"name": "Boutique SAS", "roles": ["controller"], "main_establishment": "FR", "timezone": "Europe/Paris"},
    "facts": {"personal_data_breach": True, "data_subjects": {"FR": 900}},
    "events": {"aware_personal_data_breach": "2027-03-09T07:00:00Z"},
}


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    fixed = FixedClock(START)
    previous = use_clock(fixed)
    yield fixed
    use_clock(previous)


@pytest.fixture
def incident(tocsin_db: str, clock: FixedClock) -> int:
    """alice (commander) and bob (legal) have Slack user ids and no email; carl has neither."""
    with session_scope() as session:
        upsert_person(session, "alice", slack_user_id="U01ALICE")
        upsert_person(session, "bob", slack_user_id="U02BOB")
        upsert_person(session, "carl")
        record = declare(
            session,
            Declaration(
                kind=IncidentKind.breach,
                title="Backups exposed",
                severity=Severity.SEV1,
                aware_at=datetime(2027, 3, 9, 7, tzinfo=UTC),
                commander="alice",
                facts=FACTS,
            ),
            actor="alice",
        )
        assign(session, record.id or 0, "legal", "bob", actor="alice")
        return record.id or 0


@pytest.fixture
def slack_on(fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> FakeSlack:
    monkeypatch.setenv("TOCSIN_SLACK_TOKEN", fake_slack.token)
    monkeypatch.setenv("TOCSIN_SLACK_BASE_URL", fake_slack.api_url)
    get_settings.cache_clear()
    return fake_slack


def page(incident_id: int, handle: str, message_id: str, purpose: str = "escalation") -> None:
    with session_scope() as session:
        person = upsert_person(session, handle)
        queue_to_person(
            session,
            person,
            incident_id=incident_id,
            purpose=purpose,
            subject=f"[INC-{incident_id}] legal needed",
            body=f"Acknowledge: tocsin ack 1 --as {handle}",
            message_id=message_id,
        )


def deliver(slack: SlackChannel | None = None) -> int:
    with session_scope() as session:
        return deliver_pending(session, slack=slack)


def row(message_id: str) -> OutboundMessage:
    with session_scope() as session:
        found = session.exec(select(OutboundMessage).where(OutboundMessage.message_id == message_id)).one()
        session.expunge(found)
        return found


def events(incident_id: int, action: str) -> list[dict]:
    with session_scope() as session:
        found = session.exec(
            select(AuditEvent).where(AuditEvent.incident_id == incident_id, AuditEvent.action == action)
        ).all()
        return [e.payload for e in found]


def dm_texts(fake: FakeSlack, user: str) -> list[str]:
    channel = fake.dm_channel(user)
    return [m["text"] for m in fake.messages(channel.id)] if channel else []


def test_slack_dms_channel_posts_and_the_outbox_fallback_each_once(incident: int, slack_on: FakeSlack) -> None:
    from tocsin.messages.incident_channel import open_incident_channel

    with session_scope() as session:
        opened = open_incident_channel(
            session, get_incident(session, incident), [Role.commander, Role.legal], key="run1:war-room"
        )
    assert opened.via == "slack" and opened.name == f"inc-{incident}-backups-exposed"
    page(incident, "bob", "page-bob")
    page(incident, "carl", "page-carl")  # no Slack user id: outbox, with a warning
    with session_scope() as session:
        queue_to_channel(
            session,
            f"#inc-{incident}",
            incident_id=incident,
            purpose="sentiment",
            subject="Sentiment: negativity spike",
            body="120 mentions vs about 10 expected",
            message_id="sentiment-1",
        )
    assert deliver() == 3

    assert dm_texts(slack_on, "U02BOB") == [f"*[INC-{incident}] legal needed*\nAcknowledge: tocsin ack 1 --as bob"]
    channel = slack_on.channel_named(opened.name)
    assert channel is not None
    posts = [m["text"] for m in slack_on.messages(channel.id)]
    assert len(posts) == 2 and posts[1].startswith("*Sentiment: negativity spike*")  # the brief, then the alert
    assert (row("page-bob").channel, row("sentiment-1").channel, row("page-carl").channel) == (
        "slack",
        "slack",
        "outbox",
    )
    assert row("page-bob").provider_id.startswith(slack_on.dm_channel("U02BOB").id + ":")
    [kept] = list((get_settings().outbox_dir).glob("*page-carl*.json"))
    assert json.loads(kept.read_text())["user"] == "carl"
    assert events(incident, "message.kept_in_outbox") == [
        {
            "message_id": "page-carl",
            "purpose": "escalation",
            "to": "carl",
            "reason": "carl has no Slack user id: `tocsin people add carl --slack-user U...`",
        }
    ]
    brief = row("brief:run1:war-room")  # posted by the channel step itself and recorded as sent
    assert brief.channel == "slack" and brief.sent_at is not None

    calls = dict(slack_on.calls)
    assert deliver() == 0  # a second pass sends nothing again
    with session_scope() as session:  # nor does opening the channel again (the brief is on record)
        again = open_incident_channel(session, get_incident(session, incident), [Role.legal], key="run1:war-room")
    assert not again.created
    assert slack_on.calls["chat.postMessage"] == calls["chat.postMessage"] and len(slack_on.messages(channel.id)) == 2
    assert channel.pins and len(channel.pins) == 1
    assert len(list(get_settings().outbox_dir.glob("*.json"))) == 1


def test_without_slack_chat_goes_to_the_outbox_even_with_a_slack_user_id(incident: int, fake_slack: FakeSlack) -> None:
    page(incident, "bob", "page-bob")
    assert deliver() == 1
    assert row("page-bob").channel == "outbox" and fake_slack.calls["chat.postMessage"] == 0
    assert events(incident, "message.kept_in_outbox") == []


def test_a_429_is_waited_out_with_retry_after_and_posted_once(incident: int, slack_on: FakeSlack, sleeps) -> None:
    slack = SlackChannel(slack_on.token, base_url=slack_on.api_url, sleep=sleeps)
    page(incident, "bob", "page-bob")
    slack_on.fail_next(1, 429, retry_after=2, route="chat.postMessage")
    assert deliver(slack) == 1
    assert len(dm_texts(slack_on, "U02BOB")) == 1
    assert len(sleeps.waits) == 1 and 2 <= sleeps.waits[0] <= 3  # Retry-After, plus up to 1 s of jitter
    assert deliver(slack) == 0 and len(dm_texts(slack_on, "U02BOB")) == 1


def test_rate_limited_past_the_sdk_budget_is_retried_after_backoff(
    incident: int, slack_on: FakeSlack, sleeps, clock: FixedClock
) -> None:
    slack = SlackChannel(slack_on.token, base_url=slack_on.api_url, sleep=sleeps, rate_limit_retries=1)
    page(incident, "bob", "page-bob")
    slack_on.fail_next(2, 429, retry_after=0, route="chat.postMessage")
    assert deliver(slack) == 0
    waiting = row("page-bob")
    assert waiting.sent_at is None and waiting.channel == "slack"
    assert (waiting.error, waiting.attempts, waiting.failed_at) == ("ratelimited", 1, None)
    assert waiting.next_attempt_at == datetime(2027, 3, 9, 7, 31, tzinfo=UTC)
    [listed] = undelivered_messages_of(incident)
    assert (listed["state"], listed["attempts"], listed["next_attempt_at"]) == ("retrying", 1, "2027-03-09T07:31:00Z")

    posts = slack_on.calls["chat.postMessage"]
    assert deliver(slack) == 0 and slack_on.calls["chat.postMessage"] == posts  # backoff not over: no request
    clock.advance(timedelta(seconds=60))
    assert deliver(slack) == 1
    assert row("page-bob").error is None and len(dm_texts(slack_on, "U02BOB")) == 1
    clock.advance(timedelta(hours=1))
    assert deliver(slack) == 0 and len(dm_texts(slack_on, "U02BOB")) == 1
    assert undelivered_messages_of(incident) == [] and events(incident, "message.failed") == []


def undelivered_messages_of(incident: int) -> list[dict]:
    with session_scope() as session:
        return undelivered_messages(session, incident)


def test_a_refused_message_fails_at_once_and_shows_on_the_timeline(incident: int, slack_on: FakeSlack) -> None:
    with session_scope() as session:
        upsert_person(session, "dora", slack_user_id="U09GONE")  # not in the workspace
    page(incident, "dora", "page-dora")
    assert deliver() == 0
    failed = row("page-dora")
    assert failed.sent_at is None and (failed.error, failed.attempts) == ("user_not_found", 1)
    assert failed.failed_at is not None and failed.next_attempt_at is None
    [event] = events(incident, "message.failed")
    assert event == {
        "message_id": "page-dora",
        "purpose": "escalation",
        "kind": "chat",
        "to": "dora",
        "channel": "slack",
        "attempts": 1,
        "permanent": True,
        "error": "user_not_found",
    }
    calls = sum(slack_on.calls.values())
    assert deliver() == 0 and sum(slack_on.calls.values()) == calls  # never tried again
    shown = ok("show", str(incident), "--json").json()
    assert [(m["message_id"], m["state"], m["error"]) for m in shown["undelivered_messages"]] == [
        ("page-dora", "failed", "user_not_found")
    ]
    assert "Acknowledge" not in json.dumps(shown["timeline"])  # the body never reaches the timeline
    text = ok("show", str(incident)).stdout
    assert "Undelivered messages" in text and "page-dora" in text and "user_not_found" in text


def test_transient_failures_stop_at_the_configured_limit(
    incident: int, slack_on: FakeSlack, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOCSIN_MESSAGE_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("TOCSIN_MESSAGE_RETRY_SECONDS", "30")
    get_settings.cache_clear()
    page(incident, "bob", "page-bob")
    slack_on.fail_next(5, 500, route="chat.postMessage")
    assert deliver() == 0
    first = row("page-bob")
    assert (first.error, first.attempts, first.failed_at) == ("internal_error", 1, None)
    assert first.next_attempt_at == datetime(2027, 3, 9, 7, 30, 30, tzinfo=UTC)
    clock.advance(timedelta(seconds=30))
    assert deliver() == 0
    gave_up = row("page-bob")
    assert (gave_up.error, gave_up.attempts) == ("internal_error", 2) and gave_up.failed_at is not None
    [event] = events(incident, "message.failed")
    assert (event["attempts"], event["permanent"], event["error"]) == (2, False, "internal_error")
    clock.advance(timedelta(hours=2))
    assert deliver() == 0 and dm_texts(slack_on, "U02BOB") == []
    assert len(slack_on.faults) == 3  # two requests took a 500 each; none after the message failed


def queue_email(incident: int, to: str, message_id: str) -> None:
    with session_scope() as session:
        queue_to_channel(
            session,
            to,
            incident_id=incident,
            purpose="regulator",
            subject="Personal data breach notification",
            body="Art. 33 notice",
            message_id=message_id,
            kind="email",
        )


def test_sendgrid_is_never_handed_the_placeholder_filing_address(
    incident: int, fake_sendgrid: FakeSendGrid, monkeypatch: pytest.MonkeyPatch
) -> None:
    send_email_through(fake_sendgrid.url, monkeypatch)
    queue_email(incident, "filing@regulator.invalid", "send-regulator")
    queue_email(incident, "breach@dpa.example", "send-dpa")
    assert deliver() == 1
    assert [address for email in fake_sendgrid.snapshot() for address in email.to] == ["breach@dpa.example"]
    refused = row("send-regulator")
    assert refused.sent_at is None and refused.channel == "sendgrid"
    assert refused.error and refused.error.startswith("filing@regulator.")
    assert refused.attempts == 1 and refused.failed_at is not None
    [event] = events(incident, "message.failed")
    assert "TOCSIN_REGULATOR_EMAILS" in event["error"] and "regulator_email" in event["error"]
    assert deliver() == 0 and len(fake_sendgrid.snapshot()) == 1


def test_the_outbox_still_files_the_placeholder_address(incident: int) -> None:
    queue_email(incident, "filing@regulator.invalid", "send-regulator")
    assert deliver() == 1
    [filed] = list(Path(get_settings().outbox_dir).glob("*send-regulator*.eml"))
    assert "To: filing@regulator.invalid" in filed.read_text()


def test_an_escalation_page_by_slack_dm_carries_the_acknowledge_button(incident: int, slack_on: FakeSlack) -> None:
    from tocsin.models import Role
    from tocsin.notifications.slack_blocks import ACK_ACTION

    from tocsin.messages.escalations import start_escalation

    with session_scope() as session:
        escalation = start_escalation(
            session, incident, Role.legal, subject="Legal needed", body="Review D-1.", ack_timeout=timedelta(minutes=15)
        )
        escalation_id = escalation.id
    assert deliver() == 1
    [dm] = slack_on.messages(slack_on.dm_channel("U02BOB").id)
    buttons = [element for block in dm["blocks"] if block["type"] == "actions" for element in block["elements"]]
    assert [button["action_id"] for button in buttons] == [ACK_ACTION]
    assert json.loads(buttons[0]["value"]) == {"incident_id": f"INC-{incident}", "escalation_id": f"E-{escalation_id}"}
    assert "Legal needed" in dm["text"] and "Review D-1." in json.dumps(dm["blocks"])
