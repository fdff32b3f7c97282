"""Retry bookkeeping of outbound messages, and the regulator filing address (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.core.config import Settings
from tocsin.messages.attempts import AttemptState, after_failure, backoff, clean_error
from tocsin.messages.channels import is_placeholder_address, placeholder_refusal, regulator_address

NOW = datetime(2027, 3, 9, 8, 0, tzinfo=UTC)


def fail(state: AttemptState, error: str, *, retryable: bool, at: datetime = NOW) -> AttemptState:
    return after_failure(state, error, retryable=retryable, now=at, max_attempts=3, base_seconds=60)


def test_a_transient_failure_waits_with_backoff_then_gives_up_at_the_limit() -> None:
    first = fail(AttemptState(), "ratelimited", retryable=True)
    assert first == AttemptState(1, NOW + timedelta(seconds=60), False, "ratelimited")
    assert first.describe(3) == "1 attempt of 3 refused, next after 2027-03-09T08:01:00Z: ratelimited"
    assert not first.due(NOW) and first.due(NOW + timedelta(seconds=60)) and first.state == "retrying"
    second = fail(first, "internal_error", retryable=True, at=NOW + timedelta(seconds=60))
    assert second.next_at == NOW + timedelta(seconds=180)  # 60 s, then 120 s
    third = fail(second, "internal_error", retryable=True, at=NOW + timedelta(seconds=180))
    assert third == AttemptState(3, None, True, "internal_error")
    assert third.describe(3) == "failed after 3 attempts: internal_error"
    assert not third.due(NOW + timedelta(days=1)) and third.state == "failed"


def test_a_permanent_failure_fails_at_once() -> None:
    state = fail(AttemptState(), "channel_not_found", retryable=False)
    assert state == AttemptState(1, None, True, "channel_not_found")
    assert state.describe(5) == "failed after 1 attempt: channel_not_found"


def test_a_permanent_failure_after_transient_ones_counts_every_attempt() -> None:
    first = fail(AttemptState(), "ratelimited", retryable=True)
    state = fail(first, "HTTP 400: Does not contain a valid address.", retryable=False)
    assert state.failed and state.attempts == 2 and state.last_error.startswith("HTTP 400")


def test_a_message_never_tried_is_pending_and_due() -> None:
    fresh = AttemptState()
    assert fresh.state == "pending" and fresh.due(NOW) and fresh.describe(5) == "not tried yet"


def test_backoff_doubles_up_to_a_cap_and_errors_are_one_bounded_line() -> None:
    assert [backoff(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(20, 60) == timedelta(hours=1)
    assert clean_error("line one\n  line two") == "line one line two"
    assert len(clean_error("x" * 5000)) == 500 and clean_error(None) == "refused without a reason"


@pytest.mark.parametrize(
    ("address", "placeholder"),
    [
        ("filing@regulator.invalid", True),
        ("Filing <filing@REGULATOR.INVALID>", True),
        ("x@invalid", True),
        ("breach@cnil.fr", False),
        ("someone@invalid.example.org", False),
    ],
)
def test_placeholder_addresses(address: str, placeholder: bool) -> None:
    assert is_placeholder_address(address) is placeholder


def test_regulator_address_configured_per_rule_then_the_input() -> None:
    settings = Settings(regulator_emails={"uk.gdpr.art33": "ico@ico.example", "eu.gdpr": "dpa@dpa.example"})
    assert regulator_address(settings, ["uk.gdpr.art33.ico"], "lead@dpa.example") == "ico@ico.example"
    assert regulator_address(settings, ["eu.gdpr.art33.supervisory_authority"], None) == "dpa@dpa.example"
    assert regulator_address(settings, ["us.ca.1798_82"], "lead@dpa.example") == "lead@dpa.example"
    assert regulator_address(Settings(), ["uk.gdpr.art33.ico"], None) is None
    assert (
        regulator_address(Settings(regulator_emails={"uk.gdpr.art3": "x@y.example"}), ["uk.gdpr.art33"], None) is None
    )
    refusal = placeholder_refusal("filing@regulator.invalid")
    assert "TOCSIN_REGULATOR_EMAILS" in refusal and "regulator_email" in refusal
