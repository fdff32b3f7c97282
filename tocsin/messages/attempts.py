"""Retry bookkeeping for outbound messages (pure: no I/O).

A message a channel refused keeps its state in its own columns: `attempts` (refused attempts so far),
`next_attempt_at` (the retry wait) and `failed_at` (Tocsin gave up), with the provider's words in `error`.
A permanent error (a 4xx other than 429: validation, unknown channel or user, too large) fails the message at
once; a transient one (429, 5xx, timeout, network) is retried after an exponential backoff, up to
`message_max_attempts` attempts in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class AttemptState:
    """Where an unsent message stands."""

    attempts: int = 0
    next_at: datetime | None = None  # not before this instant (None: whenever)
    failed: bool = False
    last_error: str | None = None

    @property
    def state(self) -> str:
        if self.failed:
            return "failed"
        return "retrying" if self.attempts else "pending"

    def due(self, now: datetime) -> bool:
        return not self.failed and (self.next_at is None or self.next_at <= now)

    def describe(self, max_attempts: int) -> str:
        """One line for people: what happened and what happens next."""
        if not self.attempts:
            return "not tried yet"
        tries = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        if self.failed:
            return f"failed after {tries}: {self.last_error}"
        return f"{tries} of {max_attempts} refused, next after {self.next_at:%Y-%m-%dT%H:%M:%SZ}: {self.last_error}"


def backoff(attempt: int, base_seconds: float, cap_seconds: float = 3600.0) -> timedelta:
    """Wait after the `attempt`-th failure: base, 2 x base, 4 x base, ... at most `cap_seconds`."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempt - 1, 0), cap_seconds))


def clean_error(error: str | None) -> str:
    """One line, bounded: what a provider said, fit for a column, a timeline event and a terminal."""
    text = " ".join((error or "refused without a reason").split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def after_failure(
    previous: AttemptState,
    error: str | None,
    *,
    retryable: bool,
    now: datetime,
    max_attempts: int,
    base_seconds: float,
) -> AttemptState:
    """The state after one more refused attempt."""
    attempts = previous.attempts + 1
    reason = clean_error(error)
    if not retryable or attempts >= max_attempts:
        return AttemptState(attempts, None, True, reason)
    return AttemptState(attempts, now + backoff(attempts, base_seconds), False, reason)
