"""Where a notice wave's emails are built and sent, beside the wave's own bookkeeping.

The wave (tocsin.wave) reads the file, plans the rows and writes the delivery rows; each chunk whose rows
are committed `queued` is handed here as a `Job` (its delivery batch and plain `JobRow` tuples), and what
the provider said comes back as an `Answer`: the batch and its `ResultGroup`s (one per outcome, usually one
per request). Two ways to run:

* `ProcessSender`, for a channel that says it can run in a forked process (`fork_safe = True`, the SendGrid
  sender): a child process builds the messages, JSON-encodes and posts them, so this work runs on another
  core than the file reading and the database writes. The child dies with the wave (PR_SET_PDEATHSIG): a
  killed wave never leaves a sender behind that would still post rows the rerun sends again.
* `ThreadSender`, for any other channel (the outbox, test doubles): worker threads in this process.

Both keep at most `in_flight` sends running at once; the wave decides how many jobs it hands over ahead.
(The file is read ahead of the wave by tocsin.wave_reader.)
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import pickle
import signal
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any, NamedTuple, Protocol

from tocsin.notifications.base import Channel
from tocsin.notifications.message import EmailMessage, SendOutcome, SendResult

# (draft id, message id, address, name, substitutions): one message, as the wave hands it over
JobRow = tuple[int, str, str, str | None, dict[str, str]]
Job = tuple[int, list[JobRow]]  # (delivery batch id, its messages)
Builder = Callable[[Sequence[JobRow]], list[EmailMessage]]
_PR_SET_PDEATHSIG = 1


class ResultGroup(NamedTuple):
    """Messages that got the same answer (accepted with one provider id, or refused for one reason)."""

    accepted: bool
    provider_id: str | None
    error: str | None
    attempts: int
    message_ids: list[str]


Answer = tuple[int, list[ResultGroup]]  # (delivery batch id, what the provider said of its messages)


def sent_and_grouped(channel: Channel, messages: list[EmailMessage]) -> list[ResultGroup]:
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


class Sender(Protocol):
    outstanding: int  # jobs handed over whose results were not collected yet

    def submit(self, job: Job) -> None: ...

    def collect(self, *, block: bool) -> list[Answer]:
        """Results of finished jobs (at least one when `block`); raises what a send raised."""
        ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


def sender_for(channel: Channel, build: Builder, in_flight: int) -> Sender:
    if getattr(channel, "fork_safe", False) and "fork" in multiprocessing.get_all_start_methods():
        return ProcessSender(channel, build, in_flight)
    return ThreadSender(channel, build, in_flight)


class ThreadSender:
    def __init__(self, channel: Channel, build: Builder, in_flight: int) -> None:
        self._send: Callable[[Job], Answer] = lambda job: (job[0], sent_and_grouped(channel, build(job[1])))
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


class ProcessSender:
    def __init__(self, channel: Channel, build: Builder, in_flight: int) -> None:
        context = multiprocessing.get_context("fork")
        self._connection, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(child_end, self._connection, channel, build, max(1, in_flight), os.getpid()),
            name="tocsin-wave-sender",
            daemon=True,
        )
        self._process.start()
        child_end.close()
        self.outstanding = 0

    def submit(self, job: Job) -> None:
        self._connection.send(job)
        self.outstanding += 1

    def collect(self, *, block: bool) -> list[Answer]:
        done: list[Answer] = []
        while self.outstanding and (block or self._connection.poll()):
            try:
                answer, error = self._connection.recv()
            except EOFError:
                raise RuntimeError(
                    f"the wave's sender process stopped unexpectedly (exit code {self._process.exitcode})"
                ) from None
            self.outstanding -= 1
            if error is not None:
                raise error
            done.append(answer)
            block = False
        return done

    def close(self) -> None:
        self._connection.send(None)
        self._process.join(30)
        self._connection.close()

    def abort(self) -> None:
        self._process.kill()  # nothing more leaves; what it had sent is in doubt, as after a crash
        self._process.join(10)
        self._connection.close()


def _serve(
    connection: Connection, parent_end: Connection, channel: Channel, build: Builder, in_flight: int, parent: int
) -> None:
    """The sender process: send each job it gets, answer with the grouped results, until told to stop."""
    parent_end.close()
    die_with_parent(parent)
    answer_lock = threading.Lock()

    def send(job: Job) -> None:
        batch_id, rows = job
        try:
            answer: tuple[Any, BaseException | None] = ((batch_id, sent_and_grouped(channel, build(rows))), None)
        except BaseException as error:  # handed to the wave, which stops
            answer = (None, portable(error))
        with answer_lock:
            connection.send(answer)

    with ThreadPoolExecutor(in_flight, thread_name_prefix="wave-send") as pool:
        while True:
            try:
                job = connection.recv()
            except EOFError:
                break
            if job is None:
                break
            pool.submit(send, job)


def die_with_parent(parent: int) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the pipe's end (EOFError) stops the loop
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the wave died before the signal was armed
        os._exit(1)


def portable(error: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
