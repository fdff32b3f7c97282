"""Channel doubles for the wave's sending machinery (threads or forked processes: they keep no state)."""

from __future__ import annotations

from collections.abc import Sequence

from tocsin.notifications.message import EmailMessage, SendResult


class Refusing:
    """Accepts every message under one provider id per call (naming the call's first message), but refuses
    those whose address starts with `prefix` (error "bad", 2 attempts)."""

    name = "test"
    fork_safe = True

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def send(self, messages: Sequence[EmailMessage]) -> list[SendResult]:
        return [
            SendResult.failed(m.message_id, "bad", attempts=2)
            if m.to.startswith(self.prefix)
            else SendResult.ok(m.message_id, f"x-{messages[0].message_id}")
            for m in messages
        ]


class Broken:
    name = "test"
    fork_safe = True

    def send(self, messages: Sequence[EmailMessage]) -> list[SendResult]:
        raise ConnectionResetError("the provider hung up")
