"""The file read and planned ahead of the wave: by a forked process (or, without fork, a thread), in file
order, raising what the reading raised after what it read, and stopped when the wave stops early."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tocsin.wave_plan import ChunkPlan, PlannedDelivery
from tocsin.wave_reader import ReaderProcess, read_ahead


def chunk(n: int) -> ChunkPlan:
    plan = PlannedDelivery(n, 1, f"p{n}@example.com", f"Pé {n}", "FR", {"-n-": f"\t{n}\\"}, f"m{n}")
    return ChunkPlan(3, {(1, plan.email): plan}, [(n + 1, "no address"), (n + 2, "bad locale")])


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


def test_the_reader_process_hands_over_every_chunk_as_planned_in_order_then_the_error() -> None:
    def chunks() -> Iterator[ChunkPlan]:
        yield from (chunk(n) for n in range(50))
        raise ValueError("line 151: not UTF-8")

    reader = ReaderProcess(chunks())
    received: list[ChunkPlan] = []
    with pytest.raises(ValueError, match="line 151"):
        for planned in reader:
            received.append(planned)
    assert received == [chunk(n) for n in range(50)]  # the same values, dataclasses rebuilt
    assert not reader._process.is_alive()


def test_the_reader_process_is_stopped_when_the_wave_stops_early(tmp_path: Path) -> None:
    marker = tmp_path / "produced"

    def chunks() -> Iterator[ChunkPlan]:
        for n in range(100_000):
            with marker.open("a") as handle:
                handle.write(f"{n}\n")
            yield chunk(n)

    reader = ReaderProcess(chunks())
    assert next(reader) == chunk(0)
    pid = reader._process.pid
    reader.close()
    assert not reader._process.is_alive()
    with pytest.raises(ProcessLookupError):
        os.kill(pid or 0, 0)
    written = len(marker.read_text().split())
    time.sleep(0.2)
    assert len(marker.read_text().split()) == written < 100_000  # nothing read after the stop


def test_a_reader_process_never_iterated_is_stopped_by_close() -> None:
    reader = ReaderProcess(iter([chunk(1), chunk(2)]))
    reader.close()
    assert not reader._process.is_alive()
