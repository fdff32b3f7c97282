"""Where a notice wave's emails are built and sent, beside the wave's own bookkeeping (and the thread that
reads the file ahead of it).

The wave (tocsin.wave) reads the file, plans the rows and writes the delivery rows; each chunk whose rows
are committed `queued` is handed here as plain tuples (`JobRow`), and what the provider said comes back as
`ResultGroup`s (one per outcome, usually one per request). Two ways to run:

* `ProcessSender`, for a channel that says it can run in a forked process (`fork_safe = True`, the SendGrid
  sender): a child process builds the messages, JSON-encodes and posts them, so this work runs on another
  core than the file reading and the database writes. The child dies with the wave (PR_SET_PDEATHSIG): a
  killed wave never leaves a sender behind that would still post rows the rerun sends again.
* `ThreadSender`, for any other channel (the outbox, test doubles): worker threads in this process.

Both keep at most `in_flight` sends running at once; the wave decides how many jobs it hands over ahead.
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
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from queue import Full, Queue
from typing import Any, NamedTuple, Protocol, TypeVar

from tocsin.notifications.base import Channel
from tocsin.notifications.message import EmailMessage, SendResult

# (draft id, message id, address, name, substitutions): one message, as the wave hands it over
JobRow = tuple[int, str, str, str | None, dict[str, str]]
Builder = Callable[[Sequence[JobRow]], list[EmailMessage]]
_PR_SET_PDEATHSIG = 1
T = TypeVar("T")


class ResultGroup(NamedTuple):
    """Messages that got the same answer (accepted with one provider id, or refused for one reason)."""

    accepted: bool
    provider_id: str | None
    error: str | None
    attempts: int
    message_ids: list[str]


def group_results(results: Sequence[SendResult]) -> list[ResultGroup]:
    groups: dict[tuple[bool, str | None, str | None, int], list[str]] = {}
    for result in results:
        key = (
            result.accepted,
            result.provider_id,
            None if result.accepted else result.error or "refused",
            result.attempts,
        )
        found = groups.get(key)
        if found is None:
            groups[key] = [result.message_id]
        else:
            found.append(result.message_id)
    return [
        ResultGroup(accepted, provider, error, attempts, ids)
        for (accepted, provider, error, attempts), ids in groups.items()
    ]


class Sender(Protocol):
    outstanding: int  # jobs handed over whose results were not collected yet

    def submit(self, rows: list[JobRow]) -> None: ...

    def collect(self, *, block: bool) -> list[list[ResultGroup]]:
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
        self._send = lambda rows: group_results(channel.send(build(rows)))
        self._pool = ThreadPoolExecutor(max(1, in_flight), thread_name_prefix="wave")
        self._pending: deque[Future[list[ResultGroup]]] = deque()
        self.outstanding = 0

    def submit(self, rows: list[JobRow]) -> None:
        self._pending.append(self._pool.submit(self._send, rows))
        self.outstanding += 1

    def collect(self, *, block: bool) -> list[list[ResultGroup]]:
        done: list[list[ResultGroup]] = []
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

    def submit(self, rows: list[JobRow]) -> None:
        self._connection.send(rows)
        self.outstanding += 1

    def collect(self, *, block: bool) -> list[list[ResultGroup]]:
        done: list[list[ResultGroup]] = []
        while self.outstanding and (block or self._connection.poll()):
            try:
                groups, error = self._connection.recv()
            except EOFError:
                raise RuntimeError(
                    f"the wave's sender process stopped unexpectedly (exit code {self._process.exitcode})"
                ) from None
            self.outstanding -= 1
            if error is not None:
                raise error
            done.append(groups)
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
    _die_with_parent(parent)
    answer_lock = threading.Lock()

    def send(rows: list[JobRow]) -> None:
        try:
            answer: tuple[Any, BaseException | None] = (group_results(channel.send(build(rows))), None)
        except BaseException as error:  # handed to the wave, which stops
            answer = (None, _portable(error))
        with answer_lock:
            connection.send(answer)

    with ThreadPoolExecutor(in_flight, thread_name_prefix="wave-send") as pool:
        while True:
            try:
                rows = connection.recv()
            except EOFError:
                break
            if rows is None:
                break
            pool.submit(send, rows)


def read_ahead(items: Iterator[T], depth: int) -> Generator[T, None, None]:
    """`items`, produced by a thread up to `depth` ahead: the file is read and planned while the wave waits on
    the database (both drivers let other threads run while the database works). What the thread raises is
    raised here, in order."""
    queue: Queue[tuple[bool, Any]] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> None:
        while not stop.is_set():
            try:
                queue.put(entry, timeout=0.1)
                return
            except Full:
                continue

    def produce() -> None:
        try:
            for item in items:
                put((True, item))
                if stop.is_set():
                    return
            put((False, None))
        except BaseException as error:
            put((False, error))

    thread = threading.Thread(target=produce, name="wave-reader", daemon=True)
    thread.start()
    try:
        while True:
            more, value = queue.get()
            if not more:
                if value is not None:
                    raise value
                return
            yield value
    finally:
        stop.set()
        thread.join()


def _die_with_parent(parent: int) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the pipe's end (EOFError) stops the loop
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the wave died before the signal was armed
        os._exit(1)


def _portable(error: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
