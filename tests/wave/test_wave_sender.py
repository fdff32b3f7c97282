"""Sending a wave's jobs on threads, and the provider's answers grouped."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from tocsin.notifications.message import EmailMessage, SendResult

from tests.wave.channels import Broken, Refusing
from tocsin.wave.sender import JobRow, ResultGroup, ThreadSender, group_results


def rows(start: int, count: int) -> list[JobRow]:
    return [(1, f"m{n}", f"p{n}@example.com", None, {}) for n in range(start, start + count)]


def build(jobs: Sequence[JobRow]) -> list[EmailMessage]:
    return [EmailMessage(message, email, "s", "t") for _, message, email, _, _ in jobs]


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


def test_every_job_comes_back_grouped_from_the_threads() -> None:
    sender = ThreadSender(Refusing(prefix="p1"), build, 2)
    for start in (0, 20, 40):
        sender.submit((start, rows(start, 20)))
    answers = []
    while sender.outstanding:
        answers += sender.collect(block=True)
    sender.close()
    assert sorted(batch for batch, _ in answers) == [0, 20, 40]
    for batch, groups in answers:  # each answer names its own batch
        assert all(int(m[1:]) // 20 * 20 == batch for g in groups for m in g.message_ids)
    accepted = sorted(m for _, groups in answers for g in groups if g.accepted for m in g.message_ids)
    failed = sorted(m for _, groups in answers for g in groups if not g.accepted for m in g.message_ids)
    assert failed == sorted(f"m{n}" for n in [1, *range(10, 20)])  # p1, p10..p19
    assert len(accepted) + len(failed) == 60 and not set(accepted) & set(failed)
    assert all(g.attempts == 2 and g.error == "bad" for _, groups in answers for g in groups if not g.accepted)


def test_what_a_send_raises_is_raised_to_the_wave() -> None:
    sender = ThreadSender(Broken(), build, 1)
    sender.submit((1, rows(0, 3)))
    with pytest.raises(ConnectionResetError, match="hung up"):
        sender.collect(block=True)
    sender.abort()


def test_groups_straight_from_sendgrid_equal_the_grouped_results_per_message(fake_sendgrid) -> None:
    from tocsin.notifications.email_sendgrid import SendGridSender
    from tocsin.notifications.sendgrid_batches import SenderIdentity

    from tocsin.wave.sender import sent_and_grouped

    def messages() -> list[EmailMessage]:
        made = [EmailMessage(f"m{n}", f"p{n}@example.com", "s", "t") for n in range(25)]
        made[3] = EmailMessage("m3", "not an address", "s", "t")  # refused before sending
        return made

    def canonical(groups: list[ResultGroup]) -> list[tuple]:
        return sorted(
            (g.accepted, g.provider_id is not None, g.error, g.attempts, sorted(g.message_ids)) for g in groups
        )

    sender = SendGridSender("SG.fake-key", SenderIdentity("n@example.org"), host=fake_sendgrid.url,
                            max_per_request=10, sleep=lambda _: None)  # fmt: skip
    fake_sendgrid.fail_next(1, 500)  # the first request is retried once
    direct = sent_and_grouped(sender, messages())
    fake_sendgrid.fail_next(1, 500)
    per_message = group_results(sender.send(messages()))
    assert canonical(direct) == canonical(per_message)
    assert sorted(g.attempts for g in direct if g.accepted) == [1, 1, 2]  # three requests of up to 10
    assert [g.message_ids for g in direct if not g.accepted] == [["m3"]]
