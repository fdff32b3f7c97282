"""Typed messages that Tocsin hands to a channel, and the typed result of sending each one.

Every message carries Tocsin's own `message_id`: it travels to the provider (SendGrid `custom_args`, the
outbox file name) so that a delivery event or a re-send can be matched back to exactly one message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The SendGrid custom arg (echoed in every Event Webhook event) that carries Tocsin's message id.
MESSAGE_ID_ARG = "tocsin_message_id"


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One email to one recipient. `text` is required (the plain part); `html` is optional.

    `substitutions` (tag -> value, e.g. {"-first_name-": "Ada"}) are applied by the provider to subject, text
    and html: messages that share a template and differ only by substitutions travel in one request.
    """

    message_id: str
    to: str
    subject: str
    text: str
    html: str | None = None
    name: str | None = None
    custom_args: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    substitutions: Mapping[str, str] = field(default_factory=dict)

    def rendered(self) -> tuple[str, str, str | None]:
        """(subject, text, html) with the substitutions applied, as the recipient will see them."""

        def apply(value: str) -> str:
            for tag, replacement in self.substitutions.items():
                value = value.replace(tag, replacement)
            return value

        return apply(self.subject), apply(self.text), apply(self.html) if self.html is not None else None

    def content_key(self) -> tuple[Any, ...]:
        """Messages with equal keys share subject, bodies and headers, so one request can carry them all."""
        return (self.subject, self.text, self.html, tuple(sorted(self.headers.items())))


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A chat post: to a channel (id or name) or, when `user` is set instead, as a direct message.

    `text` is the notification/fallback text; `blocks` is the Block Kit layout (may be empty).
    """

    message_id: str
    text: str
    channel: str | None = None
    user: str | None = None
    blocks: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if (self.channel is None) == (self.user is None):
            raise ValueError("a ChatMessage needs exactly one of channel or user")


@dataclass(frozen=True, slots=True)
class SendResult:
    """What happened to one message.

    accepted: the provider (or the outbox) took the message; `provider_id` is its id there (SendGrid
    X-Message-Id, Slack `channel:ts`, outbox file name).
    error / error_field: why it was refused (the provider's own message and field when it gave one).
    retryable: the failure was transient (rate limit, 5xx, network) and the retry budget ran out; sending
    the same message again later is reasonable. False for validation errors, which will fail again.
    attempts: HTTP requests that carried this message (1 = no retry).
    """

    message_id: str
    accepted: bool
    provider_id: str | None = None
    error: str | None = None
    error_field: str | None = None
    retryable: bool = False
    attempts: int = 1

    @classmethod
    def ok(cls, message_id: str, provider_id: str | None, attempts: int = 1) -> SendResult:
        return cls(message_id=message_id, accepted=True, provider_id=provider_id, attempts=attempts)

    @classmethod
    def failed(
        cls,
        message_id: str,
        error: str,
        *,
        error_field: str | None = None,
        retryable: bool = False,
        attempts: int = 1,
    ) -> SendResult:
        return cls(
            message_id=message_id,
            accepted=False,
            error=error,
            error_field=error_field,
            retryable=retryable,
            attempts=attempts,
        )


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """Messages of one send that got the same answer: a request the provider accepted as a whole, or one
    reason for failing. A bulk sender reports these instead of a result per message (a notice wave's
    million `SendResult`s cost more to build than the requests that carried them)."""

    message_ids: list[str]
    accepted: bool
    provider_id: str | None = None
    error: str | None = None
    error_field: str | None = None
    retryable: bool = False
    attempts: int = 1

    @classmethod
    def of(cls, result: SendResult) -> SendOutcome:
        return cls([result.message_id], result.accepted, result.provider_id, result.error, result.error_field,
                   result.retryable, result.attempts)  # fmt: skip

    def results(self) -> list[SendResult]:
        """One result per message."""
        return [
            SendResult(message_id, self.accepted, self.provider_id, self.error, self.error_field, self.retryable,
                       self.attempts)
            for message_id in self.message_ids
        ]  # fmt: skip
