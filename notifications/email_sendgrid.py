"""Email through SendGrid with the official `sendgrid.SendGridAPIClient`, in 1,000-recipient requests.

Batching is planned by `sendgrid_batches` (shared / packed / single requests, one personalization per
message, Tocsin's message id in `custom_args`). This module sends the batches and decides what to retry:

| answer                          | what happens                                                           |
|---------------------------------|------------------------------------------------------------------------|
| 202                             | every message of the batch accepted (provider id = X-Message-Id)       |
| 429                             | wait until `X-RateLimit-Reset` (epoch s; else Retry-After, else        |
|                                 | backoff) + jitter, then retry                                          |
| 5xx, timeout, connection error  | exponential backoff with jitter, then retry                            |
| 400                             | not retried: errors naming a personalization fail that message (with   |
|                                 | SendGrid's message and field) and the others are sent again at once;   |
|                                 | errors about the whole request fail the whole batch                    |
| 413                             | the batch is split in two and each half sent (down to one message)     |
| 401 / 403                       | not retried; this and every remaining batch fail (the key is wrong)    |

Retries are bounded per request (`max_attempts`) and in total per `send()` call (`max_retry_seconds` of
waiting); past that, messages fail with `retryable=True`. A timeout after SendGrid accepted a request
cannot be told apart from a lost request: the retry may then deliver twice (SendGrid has no idempotency
key); the delivery rows and the Event Webhook's message ids are how duplicates are detected.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.error import URLError

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from tocsin.notifications.message import EmailMessage, SendOutcome, SendResult
from tocsin.notifications.sendgrid_batches import (
    MAX_PERSONALIZATIONS,
    SUBSTITUTION_BUDGET,
    MailBatch,
    SenderIdentity,
    personalization_index,
    plan_batches,
)

NETWORK_ERRORS = (URLError, TimeoutError, ConnectionError, http.client.HTTPException, OSError)


@dataclass
class _Run:
    """State of one `send()` call."""

    outcomes: list[SendOutcome] = field(default_factory=list)
    waited: float = 0.0
    fatal: tuple[str, str | None] | None = None
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True, slots=True)
class _Answer:
    kind: str  # accepted | invalid | too_large | fatal | refused | gave_up
    attempts: int  # requests made for the batch in this answer
    provider_id: str | None = None
    errors: tuple[dict[str, Any], ...] = ()
    reason: str = ""


def _error_items(body: bytes | str | None) -> tuple[dict[str, Any], ...]:
    try:
        decoded = json.loads(body or b"{}")
    except ValueError:
        return ()
    items = decoded.get("errors") if isinstance(decoded, dict) else None
    return tuple(item for item in items or () if isinstance(item, dict))


class SendGridSender:
    """Sends `EmailMessage`s; `send()` returns one `SendResult` per message, in input order."""

    name = "sendgrid"
    # Holds no open connection or thread between calls: a notice wave may run it in a forked process
    # (tocsin.wave.sender), where building and encoding the requests gets a core of its own.
    fork_safe = True

    def __init__(
        self,
        api_key: str,
        sender: SenderIdentity,
        *,
        host: str = "https://api.sendgrid.com",
        timeout: float = 30.0,
        max_per_request: int = MAX_PERSONALIZATIONS,
        substitution_budget: int = SUBSTITUTION_BUDGET,
        max_attempts: int = 6,
        max_retry_seconds: float = 300.0,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        workers: int = 1,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.client = SendGridAPIClient(api_key, host=host)
        self.client.client.timeout = timeout  # the client has no timeout of its own: a request could hang
        self.sender = sender
        self.max_per_request = max_per_request
        self.substitution_budget = substitution_budget
        self.max_attempts = max_attempts
        self.max_retry_seconds = max_retry_seconds
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.workers = max(1, workers)
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self.last_run_requests = 0
        self.last_run_waited = 0.0

    def send(self, messages: Sequence[EmailMessage]) -> list[SendResult]:
        by_id = {result.message_id: result for outcome in self.send_grouped(messages) for result in outcome.results()}
        results: list[SendResult] = []
        reported: set[str] = set()
        for m in messages:
            if m.message_id in reported:
                results.append(SendResult.failed(m.message_id, "duplicate message id in one send", attempts=0))
            else:
                results.append(by_id[m.message_id])
                reported.add(m.message_id)
        return results

    def send_grouped(self, messages: Sequence[EmailMessage]) -> list[SendOutcome]:
        """What `send()` does, answered per request and reason instead of per message (what a notice wave
        records); a message id given twice is sent once, and the repeat is not answered."""
        batches, refused = plan_batches(
            messages, max_per_request=self.max_per_request, substitution_budget=self.substitution_budget
        )
        run = _Run(outcomes=[SendOutcome.of(result) for result in refused.values()])
        if self.workers > 1 and len(batches) > 1:
            # Requests in flight overlap this process's JSON encoding with SendGrid's processing.
            with ThreadPoolExecutor(self.workers, thread_name_prefix="sendgrid") as pool:
                for _ in pool.map(lambda batch: self._send_batch(batch, run), batches):
                    pass
        else:
            for batch in batches:
                self._send_batch(batch, run)
        self.last_run_requests, self.last_run_waited = run.requests, run.waited
        return run.outcomes

    # -- one batch, with splitting and partial re-sends -----------------------------------------------------

    def _send_batch(self, batch: MailBatch, run: _Run) -> None:
        pending = [(batch, 0)]  # (batch, requests that already carried its messages)
        while pending:
            current, before = pending.pop()
            if not current.messages:
                continue
            if run.fatal is not None:
                self._fail(current, run, run.fatal[0], run.fatal[1], attempts=before)
                continue
            answer = self._post(current, run)
            attempts = before + answer.attempts
            if answer.kind == "accepted":
                ids = [m.message_id for m in current.messages]
                self._add(run, SendOutcome(ids, True, answer.provider_id, attempts=attempts))
            elif answer.kind == "too_large" and len(current.messages) > 1:
                pending.extend((half, attempts) for half in reversed(current.split()))
            elif answer.kind == "invalid":
                pending.extend((rest, attempts) for rest in self._settle_invalid(current, answer.errors, run, attempts))
            elif answer.kind == "fatal":
                run.fatal = (answer.reason, None)
                self._fail(current, run, answer.reason, None, attempts=attempts)
            else:
                self._fail(current, run, answer.reason, None, retryable=answer.kind == "gave_up", attempts=attempts)

    def _settle_invalid(
        self, batch: MailBatch, errors: tuple[dict[str, Any], ...], run: _Run, attempts: int
    ) -> list[MailBatch]:
        """Fail the messages SendGrid named; return what is left to send (nothing if it named none)."""
        named: dict[int, dict[str, Any]] = {}
        for item in errors:
            index = personalization_index(item.get("field"))
            if index is None or index >= len(batch.messages):
                first = errors[0] if errors else {"message": "Bad Request"}
                self._fail(batch, run, str(first.get("message")), first.get("field"), attempts=attempts)
                return []
            named.setdefault(index, item)
        for index, item in named.items():
            message_id = batch.messages[index].message_id
            failed = SendOutcome(
                [message_id], False, None, str(item.get("message")), item.get("field"), False, attempts
            )
            self._add(run, failed)
        return [batch.without(named)]

    def _fail(
        self,
        batch: MailBatch,
        run: _Run,
        error: str,
        error_field: str | None,
        *,
        attempts: int,
        retryable: bool = False,
    ) -> None:
        ids = [m.message_id for m in batch.messages]
        self._add(run, SendOutcome(ids, False, None, error, error_field, retryable, attempts))

    @staticmethod
    def _add(run: _Run, outcome: SendOutcome) -> None:
        with run.lock:
            run.outcomes.append(outcome)

    # -- one request, with retries --------------------------------------------------------------------------

    def _post(self, batch: MailBatch, run: _Run) -> _Answer:
        body = batch.body(self.sender)
        attempt = 0
        while True:
            attempt += 1
            with run.lock:
                run.requests += 1
            try:
                response = self.client.send(body)
                return _Answer("accepted", attempt, provider_id=response.headers.get("X-Message-Id"))
            except HTTPError as error:
                status, headers = int(error.status_code), error.headers
                errors = _error_items(error.body)
                reason = f"HTTP {status}: {errors[0].get('message') if errors else error.reason}"
                if status == 429:
                    wait = self._rate_limit_wait(headers, attempt)
                elif status >= 500:
                    wait = self._backoff(attempt)
                elif status == 400:
                    return _Answer("invalid", attempt, errors=errors or ({"message": "Bad Request", "field": None},))
                elif status == 413:
                    return _Answer("too_large", attempt, reason="payload too large (413) for a single message")
                elif status in (401, 403):
                    return _Answer("fatal", attempt, reason=reason)
                else:
                    return _Answer("refused", attempt, reason=reason)
            except NETWORK_ERRORS as error:
                reason = f"network: {error}"
                wait = self._backoff(attempt)
            with run.lock:
                if attempt >= self.max_attempts or run.waited + wait > self.max_retry_seconds:
                    return _Answer("gave_up", attempt, reason=f"gave up after {attempt} attempts ({reason})")
                run.waited += wait
            self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with 'equal jitter': half the step fixed, half random."""
        step = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return step / 2 + self._rng() * step / 2

    def _rate_limit_wait(self, headers: Any, attempt: int) -> float:
        reset = headers.get("X-RateLimit-Reset") if headers is not None else None
        retry_after = headers.get("Retry-After") if headers is not None else None
        try:
            if reset is not None:
                wait = max(0.0, float(reset) - self._clock())
            elif retry_after is not None:
                wait = max(0.0, float(retry_after))
            else:
                return self._backoff(attempt)
        except ValueError:
            return self._backoff(attempt)
        # Jitter so that parallel senders do not all come back in the same instant.
        return min(self.max_delay, wait + self._rng() * self.base_delay / 2)
