"""How a notice wave's emails are sent and what the provider said is handed back.

The wave's worker (tocsin.wave.worker) turns each released chunk into a `Job`: its delivery batch and
plain `JobRow` tuples; what the provider said comes back as an `Answer`: the batch and its `ResultGroup`s
(one per outcome, usually one per request). `ThreadSender` runs jobs on worker threads, at most
`in_flight` at once, for a wave whose channel runs in the wave's own process. How a job's messages are
posted is a `PostBatch`: the wave's is `BatchJournal.send_batch` (tocsin.wave.journal), which records the
request durably before it leaves; `post_unrecorded` only sends (tests of the sending machinery alone).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

from tocsin.notifications.base import Channel
from tocsin.notifications.message import EmailMessage, SendOutcome, SendResult

# (draft id, message id, address, name, substitutions): one message, as the wave hands it over
JobRow = tuple[int, str, str, str | None, dict[str, str]]
Job = tuple[int, list[JobRow]]  # (delivery batch id, its messages)
Builder = Callable[[Sequence[JobRow]], list[EmailMessage]]


class ResultGroup(NamedTuple):
    """Messages that got the same answer (accepted with one provider id, or refused for one reason)."""

    accepted: bool
    provider_id: str | None
    error: str | None
    attempts: int
    message_ids: list[str]


Answer = tuple[int, list[ResultGroup]]  # (delivery batch id, what the provider said of its messages)
# (channel, delivery batch id, its messages built when called) -> what the provider said
PostBatch = Callable[[Channel, int, Callable[[], Sequence[EmailMessage]]], list[ResultGroup]]


def post_unrecorded(
    channel: Channel, batch_id: int, messages: Callable[[], Sequence[EmailMessage]]
) -> list[ResultGroup]:
    return sent_and_grouped(channel, list(messages()))


def sent_and_grouped(channel: Channel, messages: Sequence[EmailMessage]) -> list[ResultGroup]:
    """Send and group what the provider said: from the channel's own outcomes where it gives them (SendGrid:
    one per request), else from its results per message."""
    grouped = getattr(channel, "send_grouped", None)
    if grouped is None:
        return group_results(channel.send(messages))
    return group_outcomes(grouped(messages))


def group_results(results: Sequence[SendResult]) -> list[ResultGroup]:
    return group_outcomes([SendOutcome.of(result) for result in results])


def group_outcomes(outcomes: Sequence[SendOutcome]) -> list[ResultGroup]:
    """One group per (accepted, provider id, reason, attempts), in order of first appearance."""
    groups: dict[tuple[bool, str | None, str | None, int], list[str]] = {}
    for outcome in outcomes:
        error = None if outcome.accepted else outcome.error or "refused"
        key = (outcome.accepted, outcome.provider_id, error, outcome.attempts)
        groups.setdefault(key, []).extend(outcome.message_ids)
    return [ResultGroup(*key, ids) for key, ids in groups.items()]


class ThreadSender:
    def __init__(self, channel: Channel, build: Builder, in_flight: int, post: PostBatch = post_unrecorded) -> None:
        self._send: Callable[[Job], Answer] = lambda job: (job[0], post(channel, job[0], lambda: build(job[1])))
        self._pool = ThreadPoolExecutor(max(1, in_flight), thread_name_prefix="wave")
        self._pending: deque[Future[Answer]] = deque()
        self.outstanding = 0

    def submit(self, job: Job) -> None:
        self._pending.append(self._pool.submit(self._send, job))
        self.outstanding += 1

    def collect(self, *, block: bool) -> list[Answer]:
        done: list[Answer] = []
        while self._pending and (block or self._pending[0].done()):
            done.append(self._pending.popleft().result())
            self.outstanding -= 1
            block = False
        return done

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def abort(self) -> None:
        for future in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True)
