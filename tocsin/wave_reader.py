"""The recipient file, read and planned ahead of the wave.

Reading a CSV row and planning its delivery is pure Python. In the wave's own process it ran on a thread
that fought the database work for the GIL, which about doubled its cost and delayed every database round
trip. Where the platform can fork, a child process reads and plans instead (`ReaderProcess`), and each
planned chunk crosses a pipe as plain tuples (a third of the pickling cost of the planned objects); the
pipe is widened so that the child can be a few chunks ahead. Elsewhere a thread does it (`read_ahead`).

Either way the chunks come back in file order, and what the reading raised (an unreadable line, say) is
raised in the wave after the chunks read before it.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import pickle
import threading
from collections.abc import Generator, Iterator
from multiprocessing.connection import Connection
from queue import Full, Queue
from typing import Any, TypeVar

from tocsin.wave_plan import ChunkPlan, PlannedDelivery
from tocsin.wave_sender import die_with_parent, portable

T = TypeVar("T")
_PIPE_BYTES = 1 << 20  # about eight planned chunks of 1,000 rows in flight
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
_END = b""


def planned_ahead(chunks: Iterator[ChunkPlan], depth: int) -> Generator[ChunkPlan, None, None] | ReaderProcess:
    """`chunks`, produced ahead of the wave: by a forked process where possible (forked now, before the wave
    starts threads of its own), else by a thread. Close it when done, read to the end or not."""
    if "fork" in multiprocessing.get_all_start_methods():
        return ReaderProcess(chunks)
    return read_ahead(chunks, depth)


def _encoded(chunk: ChunkPlan) -> bytes:
    fields = [
        (p.line, p.draft_id, p.email, p.name, p.jurisdiction, p.substitutions, p.message_id)
        for p in chunk.planned.values()
    ]
    return pickle.dumps((chunk.rows, fields, chunk.invalid), protocol=pickle.HIGHEST_PROTOCOL)


def _decoded(data: bytes) -> ChunkPlan:
    rows, fields, invalid = pickle.loads(data)
    planned = {(f[1], f[2]): PlannedDelivery(*f) for f in fields}
    return ChunkPlan(rows, planned, invalid)


class ReaderProcess:
    """A forked child that plans the chunks and writes them to a pipe; killed when the wave stops reading."""

    def __init__(self, chunks: Iterator[ChunkPlan]) -> None:
        context = multiprocessing.get_context("fork")
        self._connection, child_end = context.Pipe(duplex=False)
        with contextlib.suppress(OSError):  # not Linux, or above the system's limit: the default size
            fcntl.fcntl(child_end.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)
        self._process = context.Process(
            target=_produce,
            args=(child_end, self._connection, chunks, os.getpid()),
            name="tocsin-wave-reader",
            daemon=True,
        )
        self._process.start()
        child_end.close()
        self._chunks = self._received()

    def __iter__(self) -> Iterator[ChunkPlan]:
        return self

    def __next__(self) -> ChunkPlan:
        return next(self._chunks)

    def close(self) -> None:
        self._chunks.close()
        self.stop()

    def _received(self) -> Generator[ChunkPlan, None, None]:
        try:
            while True:
                try:
                    data = self._connection.recv_bytes()
                except EOFError:
                    raise RuntimeError(
                        f"the wave's reader process stopped unexpectedly (exit code {self._process.exitcode})"
                    ) from None
                if data == _END:
                    return
                if data[:1] == b"!":
                    raise pickle.loads(data[1:])
                yield _decoded(data)
        finally:
            self.stop()

    def stop(self) -> None:
        if self._connection.closed:
            return
        if self._process.is_alive():
            self._process.kill()  # it only reads: nothing is lost
        self._process.join(10)
        self._connection.close()


def _produce(connection: Connection, parent_end: Connection, chunks: Iterator[ChunkPlan], parent: int) -> None:
    parent_end.close()
    die_with_parent(parent)
    try:
        for chunk in chunks:
            connection.send_bytes(_encoded(chunk))
        connection.send_bytes(_END)
    except BaseException as error:  # raised in the wave, after the chunks read before it
        with contextlib.suppress(OSError):
            connection.send_bytes(b"!" + pickle.dumps(portable(error)))


def read_ahead(items: Iterator[T], depth: int) -> Generator[T, None, None]:
    """`items`, produced by a thread up to `depth` ahead (where fork is not available): the file is read and
    planned while the wave waits on the database. What the thread raises is raised here, in order."""
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
