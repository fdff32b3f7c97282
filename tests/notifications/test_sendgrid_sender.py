from __future__ import annotations

import socket
import time

import pytest
from tocsin.notifications.email_sendgrid import SendGridSender
from tocsin.notifications.message import MESSAGE_ID_ARG, EmailMessage
from tocsin.notifications.sendgrid_batches import TEXT_TAG, SenderIdentity

from tests.fakes import FakeSendGrid

FROM = SenderIdentity("notices@tocsin.example", "Tocsin Notices")


def sender_for(fake: FakeSendGrid, sleeps=None, **options: object) -> SendGridSender:
    api_key = str(options.pop("api_key", "SG.fake-key"))
    settings: dict[str, object] = {"host": fake.url, "timeout": 5, "sleep": sleeps or (lambda s: None)}
    settings.update(options)
    return SendGridSender(api_key, FROM, **settings)  # type: ignore[arg-type]


def notice(n: int, *, personal: bool = False, **changes: object) -> EmailMessage:
    fields: dict[str, object] = {
        "message_id": f"msg-{n}",
        "to": f"customer{n}@example.com",
        "name": f"Customer {n}",
        "subject": "Notice of a data breach",
        "text": f"Dear customer {n}, ..." if personal else "Dear customer, ...",
        "html": f"<p>Dear customer {n}</p>" if personal else "<p>Dear customer</p>",
        "custom_args": {"incident_id": "INC-1"},
    }
    fields.update(changes)
    return EmailMessage(**fields)  # type: ignore[arg-type]


def delivered_once(fake: FakeSendGrid, messages: list[EmailMessage]) -> bool:
    counts = fake.custom_arg_counts(MESSAGE_ID_ARG)
    return all(counts[m.message_id] == 1 for m in messages) and sum(counts.values()) == len(messages)


def test_bulk_notice_goes_in_thousand_recipient_requests_exactly_once(fake_sendgrid: FakeSendGrid) -> None:
    messages = [notice(n) for n in range(2_500)]
    sender = sender_for(fake_sendgrid)
    results = sender.send(messages)
    assert all(r.accepted and r.attempts == 1 for r in results)
    assert fake_sendgrid.accepted_requests == sender.last_run_requests == 3
    assert delivered_once(fake_sendgrid, messages)
    first = fake_sendgrid.snapshot()[0]
    assert first.to == ("customer0@example.com",) and first.names == ("Customer 0",)
    assert first.custom_args == {"incident_id": "INC-1", MESSAGE_ID_ARG: "msg-0"}
    assert first.subject == "Notice of a data breach" and first.request.sender == "notices@tocsin.example"
    assert results[0].provider_id == first.x_message_id


def test_per_recipient_bodies_are_packed_and_arrive_intact(fake_sendgrid: FakeSendGrid) -> None:
    messages = [notice(n, personal=True, subject=f"Notice for {n}") for n in range(1_200)]
    assert all(r.accepted for r in sender_for(fake_sendgrid).send(messages))
    assert fake_sendgrid.accepted_requests == 2  # not 1,200
    by_id = {r.custom_args[MESSAGE_ID_ARG]: r for r in fake_sendgrid.snapshot()}
    for message in messages[::97]:
        received = by_id[message.message_id]
        assert received.body("text/plain") == message.text
        assert received.body("text/html") == message.html
        assert received.subject == message.subject
        assert received.request.content[0] == ("text/plain", TEXT_TAG)


def test_shared_template_with_substitutions_and_oversized_unique_bodies(fake_sendgrid: FakeSendGrid) -> None:
    templated = [notice(n, text="Hello -name-", html=None, substitutions={"-name-": f"N{n}"}) for n in range(3)]
    big = notice(99, personal=True, text="y" * 20_000)  # above the substitution budget: a request of its own
    results = sender_for(fake_sendgrid).send([*templated, big])
    assert all(r.accepted for r in results)
    assert fake_sendgrid.accepted_requests == 2
    texts = sorted(str(r.body("text/plain")) for r in fake_sendgrid.snapshot())
    assert texts == ["Hello N0", "Hello N1", "Hello N2", "y" * 20_000]


def test_same_address_twice_goes_in_separate_requests(fake_sendgrid: FakeSendGrid) -> None:
    messages = [notice(1), notice(2, to="customer1@example.com"), notice(3)]
    assert all(r.accepted for r in sender_for(fake_sendgrid).send(messages))
    assert fake_sendgrid.accepted_requests == 2 and fake_sendgrid.statuses[400] == 0


def test_429_waits_until_rate_limit_reset_then_nothing_lost_or_duplicated(fake_sendgrid: FakeSendGrid, sleeps) -> None:
    fake_sendgrid.fail_next(2, 429, reset_in=30)
    messages = [notice(n) for n in range(1_500)]
    results = sender_for(fake_sendgrid, sleeps, max_delay=60).send(messages)
    assert all(r.accepted for r in results)
    assert delivered_once(fake_sendgrid, messages)
    assert fake_sendgrid.statuses[429] == 2 and len(sleeps.waits) == 2
    assert all(28 <= w <= 31.5 for w in sleeps.waits), sleeps.waits  # until X-RateLimit-Reset, plus jitter
    assert results[0].attempts == 3 and results[-1].attempts == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_with_growing_backoff(fake_sendgrid: FakeSendGrid, sleeps, status: int) -> None:
    fake_sendgrid.fail_next(3, status)
    messages = [notice(n) for n in range(10)]
    results = sender_for(fake_sendgrid, sleeps, base_delay=1.0, rng=lambda: 0.5).send(messages)
    assert all(r.accepted and r.attempts == 4 for r in results)
    assert delivered_once(fake_sendgrid, messages)
    assert sleeps.waits == [0.75, 1.5, 3.0]


def test_retries_are_bounded_and_reported_as_retryable(fake_sendgrid: FakeSendGrid, sleeps) -> None:
    fake_sendgrid.fail_next(10, 503)
    results = sender_for(fake_sendgrid, sleeps, max_attempts=3).send([notice(1)])
    assert not results[0].accepted and results[0].retryable and results[0].attempts == 3
    assert "gave up after 3 attempts" in str(results[0].error) and fake_sendgrid.accepted_requests == 0
    fake_sendgrid.reset()
    fake_sendgrid.fail_next(1, 429, reset_in=3_600)  # an hour away: beyond the total retry budget
    results = sender_for(fake_sendgrid, sleeps, max_retry_seconds=120, max_delay=7_200).send([notice(1)])
    assert not results[0].accepted and results[0].retryable and sum(sleeps.waits) < 200


def test_timeouts_are_retried_without_duplicates(fake_sendgrid: FakeSendGrid, sleeps) -> None:
    fake_sendgrid.delay_next(1, 1.0)  # the fake answers after the client gave up, and drops the request
    messages = [notice(n) for n in range(5)]
    started = time.monotonic()
    results = sender_for(fake_sendgrid, sleeps, timeout=0.3).send(messages)
    assert time.monotonic() - started < 3
    assert all(r.accepted and r.attempts == 2 for r in results)
    assert delivered_once(fake_sendgrid, messages)


def test_a_timeout_after_acceptance_shows_up_as_a_visible_duplicate(fake_sendgrid: FakeSendGrid, sleeps) -> None:
    fake_sendgrid.delay_next(1, 0.6, accept_after_delay=True)  # accepted, but the client timed out
    results = sender_for(fake_sendgrid, sleeps, timeout=0.3).send([notice(1)])
    time.sleep(0.5)  # let the slow request finish on the fake
    assert results[0].accepted
    assert fake_sendgrid.custom_arg_counts(MESSAGE_ID_ARG)["msg-1"] == 2  # detectable by message id


def test_validation_errors_are_not_retried_and_reported_per_message(fake_sendgrid: FakeSendGrid, sleeps) -> None:
    messages = [
        notice(0),
        notice(1, custom_args={"incident_id": 7}),  # not a string: SendGrid refuses this personalization
        notice(2),
        notice(3, to="not-an-address"),  # refused locally, never sent
        notice(4, text="", html=None),
    ]
    results = sender_for(fake_sendgrid, sleeps).send(messages)
    assert [r.accepted for r in results] == [True, False, True, False, False]
    assert results[1].error == "Invalid type. Expected: string, given: int."
    assert results[1].error_field == "personalizations.1.custom_args.incident_id"
    assert not results[1].retryable and results[1].attempts == 1
    assert results[3].error_field == "to" and results[3].attempts == 0
    assert fake_sendgrid.statuses[400] == 1 and sleeps.waits == []
    assert delivered_once(fake_sendgrid, [messages[0], messages[2]])


def test_request_level_validation_error_fails_the_batch_once(fake_sendgrid: FakeSendGrid, sleeps) -> None:
    bad_sender = SendGridSender("SG.fake-key", SenderIdentity("no-at-sign"), host=fake_sendgrid.url, sleep=sleeps)
    results = bad_sender.send([notice(n) for n in range(3)])
    assert all(not r.accepted and r.error_field == "from.email" for r in results)
    assert results[0].error == "The from email does not contain a valid address."
    assert fake_sendgrid.statuses[400] == 1 and sleeps.waits == []


def test_payload_too_large_splits_the_batch(sleeps) -> None:
    with FakeSendGrid(max_body_bytes=150_000) as fake:
        messages = [notice(n, personal=True, text=f"{n} " + "z" * 300) for n in range(1_000)]
        results = sender_for(fake, sleeps).send(messages)
        assert all(r.accepted for r in results)
        assert fake.statuses[413] >= 1 and fake.accepted_requests >= 4
        assert delivered_once(fake, messages) and sleeps.waits == []


def test_a_single_message_too_large_fails_alone(sleeps) -> None:
    with FakeSendGrid(max_body_bytes=5_000) as fake:
        results = sender_for(fake, sleeps).send([notice(1, personal=True, text="q" * 8_000), notice(2)])
        assert [r.accepted for r in results] == [False, True]
        assert "payload too large" in str(results[0].error) and not results[0].retryable


@pytest.mark.parametrize(("key", "status"), [("SG.wrong", 401), ("SG.no-mail-send-scope", 403)])
def test_bad_key_stops_at_the_first_request(fake_sendgrid: FakeSendGrid, key: str, status: int) -> None:
    results = sender_for(fake_sendgrid, api_key=key).send([notice(n) for n in range(2_100)])
    assert all(not r.accepted and not r.retryable for r in results)
    assert str(results[-1].error).startswith(f"HTTP {status}")
    assert sum(fake_sendgrid.statuses.values()) == 1


def test_rate_limit_mode_is_honoured_with_real_waits(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.rate_limit(2, window=1.0)
    messages = [notice(n) for n in range(5 * 200)]
    sender = sender_for(fake_sendgrid, sleep=time.sleep, max_per_request=200, base_delay=0.1)
    results = sender.send(messages)
    assert all(r.accepted for r in results)
    assert delivered_once(fake_sendgrid, messages) and fake_sendgrid.accepted_requests == 5


def test_parallel_requests_with_faults_still_deliver_exactly_once(fake_sendgrid: FakeSendGrid, sleeps) -> None:
    fake_sendgrid.fail_next(2, 503)
    fake_sendgrid.fail_next(2, 429, reset_in=1)
    messages = [notice(n, personal=n % 2 == 0) for n in range(4_000)]
    results = sender_for(fake_sendgrid, sleeps, workers=4).send(messages)
    assert all(r.accepted for r in results)
    assert delivered_once(fake_sendgrid, messages)
    assert len(sleeps.waits) == 4 and fake_sendgrid.accepted_requests == 4


def test_connection_refused_is_retried_then_retryable(sleeps) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = SendGridSender("SG.x", FROM, host=f"http://127.0.0.1:{port}", sleep=sleeps, max_attempts=3)
    [result] = sender.send([notice(1)])
    assert not result.accepted and result.retryable and "network" in str(result.error)
    assert len(sleeps.waits) == 2


def test_duplicate_message_ids_in_one_send_are_refused(fake_sendgrid: FakeSendGrid) -> None:
    results = sender_for(fake_sendgrid).send([notice(1), notice(1)])
    assert results[0].accepted and not results[1].accepted
    assert results[1].error == "duplicate message id in one send"
    assert fake_sendgrid.custom_arg_counts(MESSAGE_ID_ARG)["msg-1"] == 1
