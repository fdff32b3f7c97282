"""The wave's plumbing: the sender process or threads, the grouped results, the file read ahead."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import pytest
from tocsin.notifications.message import EmailMessage, SendResult

from tocsin.wave_sender import JobRow, ProcessSender, ResultGroup, ThreadSender, group_results, read_ahead


def rows(start: int, count: int) -> list[JobRow]:
    return [(1, f"m{n}", f"p{n}@example.com", None, {}) for n in range(start, start + count)]


def build(jobs: Sequence[JobRow]) -> list[EmailMessage]:
    return [EmailMessage(message, email, "s", "t") for _, message, email, _, _ in jobs]


class Refusing:
    """Accepts every message but those whose address starts with p1 (one provider id per call)."""

    name = "test"
    fork_safe = True

    def send(self, messages: Sequence[EmailMessage]) -> list[SendResult]:
        return [
            SendResult.failed(m.message_id, "bad", attempts=2)
            if m.to.startswith("p1")
            else SendResult.ok(m.message_id, f"x-{messages[0].message_id}")
            for m in messages
        ]


class Broken:
    name = "test"
    fork_safe = True

    def send(self, messages: Sequence[EmailMessage]) -> list[SendResult]:
        raise ConnectionResetError("the provider hung up")


def test_results_are_grouped_by_outcome_provider_id_and_attempts() -> None:
    results = [
        SendResult.ok("a", "x1"), SendResult.ok("b", "x1"), SendResult.ok("c", "x2"),
        SendResult.failed("d", "bad", attempts=2), SendResult.failed("e", "bad", attempts=2),
        SendResult.failed("f", "", attempts=1),
    ]  # fmt: skip
    assert group_results(results) == [
        ResultGroup(True, "x1", None, 1, ["a", "b"]),
        ResultGroup(True, "x2", None, 1, ["c"]),
        ResultGroup(False, None, "bad", 2, ["d", "e"]),
        ResultGroup(False, None, "refused", 1, ["f"]),
    ]


@pytest.mark.parametrize("kind", [ProcessSender, ThreadSender])
def test_every_job_comes_back_grouped_from_the_process_or_the_threads(kind: type) -> None:
    sender = kind(Refusing(), build, 2)
    for start in (0, 20, 40):
        sender.submit(rows(start, 20))
    answers = []
    while sender.outstanding:
        answers += sender.collect(block=True)
    sender.close()
    accepted = sorted(m for groups in answers for g in groups if g.accepted for m in g.message_ids)
    failed = sorted(m for groups in answers for g in groups if not g.accepted for m in g.message_ids)
    assert failed == sorted(f"m{n}" for n in [1, *range(10, 20)])  # p1, p10..p19
    assert len(accepted) + len(failed) == 60 and not set(accepted) & set(failed)
    assert all(g.attempts == 2 and g.error == "bad" for groups in answers for g in groups if not g.accepted)


@pytest.mark.parametrize("kind", [ProcessSender, ThreadSender])
def test_what_a_send_raises_is_raised_to_the_wave(kind: type) -> None:
    sender = kind(Broken(), build, 1)
    sender.submit(rows(0, 3))
    with pytest.raises(ConnectionResetError, match="hung up"):
        sender.collect(block=True)
    sender.abort()


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
