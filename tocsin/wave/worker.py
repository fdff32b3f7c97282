"""The notice wave's worker: it reads and plans the recipient file ahead of the wave, and sends each chunk
once the wave has committed its delivery rows.

The wave itself (tocsin.wave.run) only classifies the planned rows against the database and writes them. It
takes each planned chunk from the worker, writes the chunk's rows `queued`, commits, and then *releases*
the chunk: which of its planned rows go out (`None`: all of them), under which message id (a row an
earlier run left unaccepted keeps its stored id), in which delivery batch. The worker sends only what
was released, and hands back what the provider said as `Answer`s.

Two ways to run, one interface (`Worker`):

* `WorkerProcess`, for a channel that can run in a forked process (`fork_safe = True`, the SendGrid
  sender): a reader process reads and plans the file, and a sender process builds the released chunks'
  emails on threads of its own and posts them one request at a time through the batch journal, so that
  the reading, the sending and the wave's database work run beside each other on the machine's cores. A
  chunk is pickled once, as plain tuples, in the reader; the wave reads it and hands the same bytes on
  with the release. Both children die with the wave (PR_SET_PDEATHSIG): a killed wave never leaves a
  sender behind that would post rows the rerun sends again, and when the wave stops early they are killed
  (the one request the sender had in flight is in doubt, as after a crash, and held by the next run:
  tocsin.wave.journal; nothing was posted that the wave had not committed).
* `LocalWorker`, for any other channel (the outbox, test doubles) or where fork is not available: a
  thread reads ahead (tocsin.wave.reader) and worker threads send (tocsin.wave.sender).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import gc
import multiprocessing
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any, NoReturn, Protocol

from tocsin.notifications.base import Channel
from tocsin.wave.plan import DRAFT, EMAIL, MESSAGE_ID, NAME, SUBSTITUTIONS, ChunkPlan
from tocsin.wave.reader import read_ahead
from tocsin.wave.sender import Answer, Builder, JobRow, PostBatch, ThreadSender, post_unrecorded

# Which planned rows of a chunk go out, by their index in `ChunkPlan.planned`, and under which message id;
# None: every planned row, under its planned id (a first wave's every chunk).
Selection = list[tuple[int, str]] | None
_PIPE_BYTES = 1 << 20  # about ten planned chunks of 1,000 rows read ahead of the wave
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
_END = b""
_PR_SET_PDEATHSIG = 1
# a child allocates a few container objects per row, nearly all short-lived: collect the youngest generation
# every 20,000 allocations instead of 700 (with the freeze in `_child`, the children's CPU fell by a quarter:
# BENCHMARKS.md)
_CHILD_GC_THRESHOLDS = (20_000, 10, 10)


class Worker(Protocol):
    @property
    def outstanding(self) -> int:
        """Chunks released to be sent whose answers were not collected yet."""
        ...

    def __iter__(self) -> Iterator[ChunkPlan]:
        """The planned chunks in file order; what the reading raised is raised after the chunks before it."""
        ...

    def release(self, chunk: ChunkPlan, batch_id: int | None, selection: Selection = None) -> None:
        """After its rows are committed: send the chunk's `selection` as delivery batch `batch_id`; with no
        batch, send nothing of it. Every chunk is released once."""
        ...

    def collect(self, *, block: bool) -> list[Answer]:
        """Answers of finished sends (at least one when `block`); raises what a send raised."""
        ...

    def close(self) -> None:
        """The wave is done: every chunk was read and released and every answer collected."""
        ...

    def abort(self) -> None:
        """The wave stops early: stop reading and sending now. Safe to call more than once, or after close."""
        ...


def start_worker(
    chunks: Iterator[ChunkPlan], channel: Channel, build: Builder, in_flight: int, depth: int, post: PostBatch
) -> Worker:
    """A worker for `chunks` (a lazy iterator: planning happens in the worker) and `channel`, posting each batch
    through `post`; call it before the wave starts threads of its own, since it may fork."""
    if getattr(channel, "fork_safe", False) and "fork" in multiprocessing.get_all_start_methods():
        return WorkerProcess(chunks, channel, build, in_flight, post)
    return LocalWorker(chunks, channel, build, in_flight, depth, post)


def job_rows(chunk: ChunkPlan, selection: Selection) -> list[JobRow]:
    planned = chunk.planned
    if selection is None:
        return [(p[DRAFT], p[MESSAGE_ID], p[EMAIL], p[NAME], p[SUBSTITUTIONS]) for p in planned]
    picked = [(planned[index], message) for index, message in selection]
    return [(p[DRAFT], message, p[EMAIL], p[NAME], p[SUBSTITUTIONS]) for p, message in picked]


class LocalWorker:
    def __init__(
        self,
        chunks: Iterator[ChunkPlan],
        channel: Channel,
        build: Builder,
        in_flight: int,
        depth: int,
        post: PostBatch = post_unrecorded,
    ) -> None:
        self._chunks = read_ahead(chunks, depth)
        self._sender = ThreadSender(channel, build, in_flight, post)

    @property
    def outstanding(self) -> int:
        return self._sender.outstanding

    def __iter__(self) -> Iterator[ChunkPlan]:
        return self._chunks

    def release(self, chunk: ChunkPlan, batch_id: int | None, selection: Selection = None) -> None:
        if batch_id is not None:
            self._sender.submit((batch_id, job_rows(chunk, selection)))

    def collect(self, *, block: bool) -> list[Answer]:
        return self._sender.collect(block=block)

    def close(self) -> None:
        self._chunks.close()
        self._sender.close()

    def abort(self) -> None:
        self._chunks.close()
        self._sender.abort()


class WorkerProcess:
    """The forked worker, seen from the wave: a reader process and a sender process. Each planned chunk
    crosses from the reader to the wave once, pickled as plain tuples; the wave keeps those bytes and hands
    them on to the sender with the release, so no row is pickled twice."""

    def __init__(
        self,
        chunks: Iterator[ChunkPlan],
        channel: Channel,
        build: Builder,
        in_flight: int,
        post: PostBatch = post_unrecorded,
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._chunk_pipe, chunks_out = context.Pipe(duplex=False)
        with contextlib.suppress(OSError):  # not Linux, or above the system's limit: the default size
            fcntl.fcntl(chunks_out.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)
        self._reader = context.Process(
            target=_child, args=(_read, chunks, chunks_out, [self._chunk_pipe], os.getpid()), name="tocsin-wave-reader"
        )
        self._reader.daemon = True
        self._reader.start()
        chunks_out.close()
        jobs_in, self._job_pipe = context.Pipe(duplex=False)
        self._answer_pipe, answers_out = context.Pipe(duplex=False)
        ours = [self._chunk_pipe, self._job_pipe, self._answer_pipe]
        self._sender = context.Process(
            target=_child,
            args=(_send, jobs_in, answers_out, ours, channel, build, post, max(1, in_flight), os.getpid()),
            name="tocsin-wave-sender",
        )
        self._sender.daemon = True
        self._sender.start()
        jobs_in.close()
        answers_out.close()
        self._pickled: dict[int, bytes] = {}  # chunks handed to the wave and not released yet, as read
        self._chunks = self._received()
        self.outstanding = 0

    def __iter__(self) -> Iterator[ChunkPlan]:
        return self._chunks

    def _received(self) -> Generator[ChunkPlan, None, None]:
        while True:
            try:
                data = self._chunk_pipe.recv_bytes()
            except EOFError:
                raise _stopped(self._reader) from None
            if data == _END:
                return
            if data[:1] == b"!":
                raise pickle.loads(data[1:])
            chunk = _unpickled(data)
            self._pickled[chunk.seq] = data
            yield chunk

    def release(self, chunk: ChunkPlan, batch_id: int | None, selection: Selection = None) -> None:
        data = self._pickled.pop(chunk.seq)
        if batch_id is None:
            return
        self._job_pipe.send((batch_id, selection, data))
        self.outstanding += 1

    def collect(self, *, block: bool) -> list[Answer]:
        done: list[Answer] = []
        while self.outstanding and (block or self._answer_pipe.poll()):
            try:
                answer, error = self._answer_pipe.recv()
            except EOFError:
                raise _stopped(self._sender) from None
            self.outstanding -= 1
            if error is not None:
                raise error
            done.append(answer)
            block = False
        return done

    def close(self) -> None:
        self._job_pipe.send(None)
        self._sender.join(30)
        self._reader.join(10)  # it sent its last chunk
        self._close_pipes()

    def abort(self) -> None:
        for process in (self._sender, self._reader):  # the sender first: nothing more leaves
            if process.is_alive():
                process.kill()
            process.join(10)
        self._close_pipes()

    def _close_pipes(self) -> None:
        self._chunks.close()
        self._pickled.clear()
        for pipe in (self._chunk_pipe, self._job_pipe, self._answer_pipe):
            pipe.close()


def _stopped(process: multiprocessing.process.BaseProcess) -> RuntimeError:
    process.join(1)
    return RuntimeError(f"the wave's {process.name} process stopped unexpectedly (exit code {process.exitcode})")


def _child(work: Callable[..., None], *args: Any) -> NoReturn:
    """Run a child's work, then leave at once with its own exit code: the exit handlers the child inherited
    are the wave's (and those of what the wave's process loaded, Prefect's say), not its own to run."""
    gc.freeze()  # the wave's objects, inherited: never traversed (nor copied on write) by this child's collections
    gc.set_threshold(*_CHILD_GC_THRESHOLDS)
    code = 0
    try:
        work(*args)
    except BaseException:
        traceback.print_exc()
        code = 1
    os._exit(code)


def _pickled(chunk: ChunkPlan) -> bytes:
    """A chunk as it crosses the pipes: its fields as plain tuples (no class to look up or rebuild per row)."""
    return pickle.dumps((chunk.seq, chunk.rows, chunk.planned, chunk.invalid), protocol=pickle.HIGHEST_PROTOCOL)


def _unpickled(data: bytes) -> ChunkPlan:
    return ChunkPlan(*pickle.loads(data))


def _read(chunks: Iterator[ChunkPlan], out: Connection, parent_ends: Sequence[Connection], parent: int) -> None:
    """The reader process: plan each chunk and hand it over as plain tuples, then the end (or the error)."""
    for end in parent_ends:
        end.close()
    die_with_parent(parent)
    try:
        for chunk in chunks:
            out.send_bytes(_pickled(chunk))
        out.send_bytes(_END)
    except BaseException as error:  # raised in the wave, after the chunks read before it
        with contextlib.suppress(OSError):
            out.send_bytes(b"!" + pickle.dumps(portable(error)))


def _send(
    jobs: Connection,
    answers: Connection,
    parent_ends: Sequence[Connection],
    channel: Channel,
    build: Builder,
    post: PostBatch,
    in_flight: int,
    parent: int,
) -> None:
    """The sender process: send each released chunk's selection, answer with the grouped results, until the
    wave says it is done."""
    for end in parent_ends:
        end.close()
    die_with_parent(parent)
    answer_lock = threading.Lock()

    def send(batch_id: int, selection: Selection, data: bytes) -> None:
        try:
            rows = job_rows(_unpickled(data), selection)
            answer: tuple[Any, BaseException | None] = ((batch_id, post(channel, batch_id, lambda: build(rows))), None)
        except BaseException as error:  # handed to the wave, which stops
            answer = (None, portable(error))
        with answer_lock:
            answers.send(answer)

    with ThreadPoolExecutor(in_flight, thread_name_prefix="wave-send") as pool:
        while True:
            try:
                job = jobs.recv()
            except EOFError:
                break
            if job is None:
                break
            pool.submit(send, *job)


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
