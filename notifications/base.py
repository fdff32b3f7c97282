"""The one interface every outbound channel implements (outbox, Slack, SendGrid).

Kept deliberately small, like Dispatch's typed plugin interfaces: a channel takes a batch of typed messages
and returns one typed `SendResult` per message, in the same order. A channel never raises for a single bad
message; it reports it. It may raise for a problem that concerns the whole channel (bad configuration).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar, runtime_checkable

from tocsin.notifications.message import ChatMessage, EmailMessage, SendResult

MessageT_contra = TypeVar("MessageT_contra", bound=EmailMessage | ChatMessage, contravariant=True)


@runtime_checkable
class Channel(Protocol[MessageT_contra]):
    """`name` identifies the channel in logs and delivery rows ("outbox", "slack", "sendgrid")."""

    name: str

    def send(self, messages: Sequence[MessageT_contra]) -> list[SendResult]:
        """Send every message; return one result per message, in input order."""
        ...
