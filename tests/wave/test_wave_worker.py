"""The wave's worker, forked or local: the file read ahead in order, only released rows sent, under the
message ids and batches the wave gave, what the reading or a send raised raised in the wave, and nothing
left running when the wave stops early."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from tocsin.notifications.message import EmailMessage

from tests.wave.channels import Broken, Refusing
from tocsin.wave.plan import ChunkPlan
from tocsin.wave.reader import read_ahead
from tocsin.wave.sender import JobRow
from tocsin.wave.worker import LocalWorker, Worker, WorkerProcess

KINDS = ["process", "local"]


def chunk(n: int, size: int = 3) -> ChunkPlan:
    planned = [
        (n * 10 + i, 1, f"p{n}-{i}@example.com", f"Pé {n}", "FR", {"-n-": f"\t{n}\\"}, f"m{n}-{i}") for i in range(size)
    ]
    return ChunkPlan(n, size + 1, planned, [(n * 10 + size, "no address")])


def build(rows: Sequence[JobRow]) -> list[EmailMessage]:
    return [
        EmailMessage(message, email, "s", "t", name, substitutions=values) for _, message, email, name, values in rows
    ]


def worker_of(kind: str, chunks: Iterator[ChunkPlan], channel: object = None, in_flight: int = 2) -> Worker:
    if kind == "process":
        return WorkerProcess(chunks, channel or Refusing(prefix="refuse"), build, in_flight)  # type: ignore[arg-type]
    return LocalWorker(chunks, channel or Refusing(prefix="refuse"), build, in_flight, depth=2)  # type: ignore[arg-type]


def collect_all(worker: Worker) -> list:
    answers = []
    while worker.outstanding:
        answers += worker.collect(block=True)
    return answers


@pytest.mark.parametrize("kind", KINDS)
def test_every_chunk_comes_in_file_order_as_planned_then_what_the_reading_raised(kind: str) -> None:
    def chunks() -> Iterator[ChunkPlan]:
        yield from (chunk(n) for n in range(50))
        raise ValueError("line 151: not UTF-8")

    worker = worker_of(kind, chunks())
    received: list[ChunkPlan] = []
    with pytest.raises(ValueError, match="line 151"):
        for planned in worker:
            received.append(planned)
            worker.release(planned, None)
    assert received == [chunk(n) for n in range(50)]  # tabs, backslashes and accents intact
    worker.abort()


@pytest.mark.parametrize("kind", KINDS)
def test_only_released_rows_are_sent_under_the_ids_and_batches_the_wave_gave(kind: str) -> None:
    worker = worker_of(kind, iter([chunk(0), chunk(1), chunk(2), chunk(3)]))
    chunks = list(worker)
    worker.release(chunks[0], 100)  # every planned row, under its planned id
    worker.release(chunks[1], None)  # nothing of it
    worker.release(chunks[2], 102, [(2, "m2-2"), (0, "kept-id-from-an-earlier-run")])
    worker.release(chunks[3], 103, [])  # an empty selection sends an empty request's worth: nothing
    answers = sorted(collect_all(worker))
    worker.close()
    sent = {batch: sorted(m for g in groups for m in g.message_ids) for batch, groups in answers}
    assert sent == {100: ["m0-0", "m0-1", "m0-2"], 102: ["kept-id-from-an-earlier-run", "m2-2"], 103: []}
    assert all(g.accepted for _, groups in answers for g in groups)


@pytest.mark.parametrize("kind", KINDS)
def test_a_refused_message_comes_back_in_a_group_of_its_own(kind: str) -> None:
    planned = chunk(0)
    planned.planned[1] = (*planned.planned[1][:2], "refuse@example.com", *planned.planned[1][3:])
    worker = worker_of(kind, iter([planned]))
    worker.release(next(iter(worker)), 7)
    (answer,) = collect_all(worker)
    worker.close()
    batch, groups = answer
    assert batch == 7
    assert [(g.accepted, g.error, g.attempts, g.message_ids) for g in groups] == [
        (True, None, 1, ["m0-0", "m0-2"]),
        (False, "bad", 2, ["m0-1"]),
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_what_a_send_raises_is_raised_to_the_wave(kind: str) -> None:
    worker = worker_of(kind, iter([chunk(0)]), Broken(), in_flight=1)
    worker.release(next(iter(worker)), 1)
    with pytest.raises(ConnectionResetError, match="hung up"):
        worker.collect(block=True)
    worker.abort()
    worker.abort()  # twice is harmless


def test_the_worker_process_ends_when_the_wave_closes_it() -> None:
    worker = WorkerProcess(iter([chunk(0), chunk(1)]), Refusing(prefix="refuse"), build, 2)
    for planned in worker:
        worker.release(planned, planned.seq)
    assert sorted(batch for batch, _ in collect_all(worker)) == [0, 1]
    worker.close()
    assert (worker._reader.exitcode, worker._sender.exitcode) == (0, 0)


def test_the_worker_process_is_stopped_when_the_wave_stops_early(tmp_path: Path) -> None:
    marker = tmp_path / "produced"

    def chunks() -> Iterator[ChunkPlan]:
        for n in range(100_000):
            with marker.open("a") as handle:
                handle.write(f"{n}\n")
            yield chunk(n)

    worker = WorkerProcess(chunks(), Refusing(prefix="refuse"), build, 2)
    assert next(iter(worker)) == chunk(0)
    pid = worker._reader.pid
    worker.abort()
    assert not worker._reader.is_alive() and not worker._sender.is_alive()
    with pytest.raises(ProcessLookupError):
        os.kill(pid or 0, 0)
    written = len(marker.read_text().split())
    time.sleep(0.2)
    assert len(marker.read_text().split()) == written < 100_000  # nothing read after the stop


def test_a_worker_process_never_iterated_is_stopped_by_abort() -> None:
    worker = WorkerProcess(iter([chunk(1), chunk(2)]), Refusing(prefix="refuse"), build, 2)
    worker.abort()
    assert not worker._reader.is_alive() and not worker._sender.is_alive()


def test_read_ahead_keeps_the_order_and_raises_what_the_reader_raised_after_what_it_read() -> None:
    def items() -> Iterator[int]:
        yield from range(5)
        raise ValueError("line 7: unreadable")

    seen: list[int] = []
    with pytest.raises(ValueError, match="line 7"):
        for item in read_ahead(items(), 2):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]


def test_read_ahead_stops_its_reader_when_the_wave_stops_early() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for n in range(1000):
            produced.append(n)
            yield n

    ahead = read_ahead(items(), 2)
    assert [next(ahead), next(ahead)] == [0, 1]
    ahead.close()
    assert not [t for t in threading.enumerate() if t.name == "wave-reader"]
    assert len(produced) <= 5  # two handed over, two waiting, one being put
