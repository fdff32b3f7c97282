"""How Tocsin's emails are packed into SendGrid v3 `/v3/mail/send` request bodies (pure; no I/O).

SendGrid allows 1,000 personalizations (and 1,000 recipients) per request; every personalization here
has one recipient and carries Tocsin's message id in `custom_args`, so each event maps back to one message.

Packing, chosen to keep requests both correct and few:
* **shared** - messages with the same subject, text, html and headers (a bulk notice, possibly with
  per-recipient `substitutions`) go together, up to 1,000 per request, the body sent once.
* **packed** - a message whose body is unique (rendered per recipient) is packed with other unique
  messages: the request's content is a placeholder tag and each personalization carries its own subject and
  its whole body as `substitutions`. SendGrid caps substitutions per personalization (10,000 bytes is the
  conservative figure), so only bodies under that budget are packed.
* **single** - a unique body above the budget gets a request of its own.
Within one request an address appears at most once (SendGrid refuses repeats); a repeat moves to the next
request. Messages that SendGrid would refuse anyway (bad address, empty subject/text) are refused here,
before anything is sent, so they cannot sink a batch of 999 valid ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tocsin.notifications.message import MESSAGE_ID_ARG, EmailMessage, SendResult

MAX_PERSONALIZATIONS = 1000
SUBSTITUTION_BUDGET = 10_000
TEXT_TAG = "-tocsin-text-body-"
HTML_TAG = "-tocsin-html-body-"
_EMAIL = re.compile(r"[^@\s\"<>(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+\Z")
_PERSONALIZATION_FIELD = re.compile(r"^personalizations\.(\d+)(?:\.|$)")


@dataclass(frozen=True, slots=True)
class SenderIdentity:
    email: str
    name: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class MailBatch:
    kind: Literal["shared", "packed", "single"]
    messages: tuple[EmailMessage, ...]

    def body(self, sender: SenderIdentity) -> dict[str, Any]:
        """The `/v3/mail/send` JSON body for this batch."""
        first = self.messages[0]
        body: dict[str, Any] = {"from": _address(sender.email, sender.name)}
        if sender.reply_to:
            body["reply_to"] = {"email": sender.reply_to}
        if self.kind == "packed":
            body["content"] = [{"type": "text/plain", "value": TEXT_TAG}]
            if first.html is not None:
                body["content"].append({"type": "text/html", "value": HTML_TAG})
            body["personalizations"] = [_packed_personalization(m) for m in self.messages]
            return body
        body["subject"] = first.subject
        body["content"] = [{"type": "text/plain", "value": first.text}]
        if first.html is not None:
            body["content"].append({"type": "text/html", "value": first.html})
        if first.headers:
            body["headers"] = dict(first.headers)
        body["personalizations"] = [_personalization(m) for m in self.messages]
        return body

    def split(self) -> tuple[MailBatch, MailBatch]:
        middle = len(self.messages) // 2
        return MailBatch(self.kind, self.messages[:middle]), MailBatch(self.kind, self.messages[middle:])

    def without(self, indexes: Iterable[int]) -> MailBatch:
        drop = set(indexes)
        return MailBatch(self.kind, tuple(m for i, m in enumerate(self.messages) if i not in drop))


def _address(email: str, name: str | None) -> dict[str, str]:
    return {"email": email, "name": name} if name else {"email": email}


def _personalization(message: EmailMessage) -> dict[str, Any]:
    # Built a million times in a bulk wave: plain dict literals, and the message's own substitutions
    # dict when it is one (the body is encoded, never mutated).
    args = dict(message.custom_args)
    args[MESSAGE_ID_ARG] = message.message_id
    to = {"email": message.to, "name": message.name} if message.name else {"email": message.to}
    substitutions = message.substitutions
    if not substitutions:
        return {"to": [to], "custom_args": args}
    if substitutions.__class__ is not dict:
        substitutions = dict(substitutions)
    return {"to": [to], "custom_args": args, "substitutions": substitutions}


def _packed_personalization(message: EmailMessage) -> dict[str, Any]:
    substitutions = {TEXT_TAG: message.text}
    if message.html is not None:
        substitutions[HTML_TAG] = message.html
    item = {
        "to": [_address(message.to, message.name)],
        "subject": message.subject,
        "custom_args": {**message.custom_args, MESSAGE_ID_ARG: message.message_id},
        "substitutions": substitutions,
    }
    if message.headers:
        item["headers"] = dict(message.headers)
    return item


def packed_size(message: EmailMessage) -> int:
    """Bytes of substitutions a packed personalization of this message would carry."""
    size = len(TEXT_TAG) + len(message.text.encode())
    if message.html is not None:
        size += len(HTML_TAG) + len(message.html.encode())
    return size


def refusal(message: EmailMessage) -> SendResult | None:
    """A result for a message SendGrid would refuse (checked locally, never sent), else None."""
    if not _EMAIL.match(message.to) or len(message.to) > 320:
        return SendResult.failed(message.message_id, "Does not contain a valid address.", error_field="to")
    if not message.subject:
        return SendResult.failed(message.message_id, "The subject is required.", error_field="subject")
    if not message.text:
        return SendResult.failed(
            message.message_id, "The content value must be a string at least one character in length.",
            error_field="text",
        )  # fmt: skip
    return None


def _chunks(messages: Sequence[EmailMessage], size: int) -> list[tuple[EmailMessage, ...]]:
    """Consecutive chunks of <= size messages; a repeated address goes to a later chunk."""
    addresses = [message.to.lower() for message in messages]
    if len(set(addresses)) == len(addresses):  # the usual case: every address once, plain slices
        return [tuple(messages[start : start + size]) for start in range(0, len(messages), size)]
    chunks: list[list[EmailMessage]] = []
    in_chunk: list[set[str]] = []
    first_open = 0
    for message, email in zip(messages, addresses, strict=True):
        index = first_open
        while index < len(chunks) and (len(chunks[index]) >= size or email in in_chunk[index]):
            index += 1
        if index == len(chunks):
            chunks.append([])
            in_chunk.append(set())
        chunks[index].append(message)
        in_chunk[index].add(email)
        while first_open < len(chunks) and len(chunks[first_open]) >= size:
            first_open += 1
    return [tuple(chunk) for chunk in chunks]


def plan_batches(
    messages: Sequence[EmailMessage],
    *,
    max_per_request: int = MAX_PERSONALIZATIONS,
    substitution_budget: int = SUBSTITUTION_BUDGET,
) -> tuple[list[MailBatch], dict[str, SendResult]]:
    """Batches to send, and results for the messages refused before sending (by message id)."""
    refused: dict[str, SendResult] = {}
    groups: dict[tuple[Any, ...], list[EmailMessage]] = {}
    seen_ids: set[str] = set()
    for message in messages:
        if message.message_id in seen_ids:
            continue  # sent once; the caller reports the repeat
        seen_ids.add(message.message_id)
        problem = refusal(message)
        if problem is not None:
            refused[message.message_id] = SendResult.failed(
                message.message_id, str(problem.error), error_field=problem.error_field, attempts=0
            )
            continue
        groups.setdefault(message.content_key(), []).append(message)
    batches: list[MailBatch] = []
    packable: dict[bool, list[EmailMessage]] = {False: [], True: []}
    for members in groups.values():
        lone = members[0]
        if len(members) == 1 and not lone.substitutions:
            if packed_size(lone) <= substitution_budget:
                packable[lone.html is not None].append(lone)
            else:
                batches.append(MailBatch("single", (lone,)))
            continue
        batches.extend(MailBatch("shared", chunk) for chunk in _chunks(members, max_per_request))
    for members in packable.values():
        batches.extend(MailBatch("packed", chunk) for chunk in _chunks(members, max_per_request))
    return batches, refused


def personalization_index(field: str | None) -> int | None:
    """The personalization an error field points at ("personalizations.12.to.0.email" -> 12)."""
    match = _PERSONALIZATION_FIELD.match(field or "")
    return int(match.group(1)) if match else None
