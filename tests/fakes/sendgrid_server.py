"""A faithful fake of SendGrid's v3 Mail Send endpoint (`POST /v3/mail/send`) on 127.0.0.1.

Answers like SendGrid: 202 with an empty body and `X-Message-Id`; 400 with `{"errors": [{message, field,
help}]}` (see `sendgrid_validation`); 401 without a valid `Authorization: Bearer` key; 403 for a key
without the mail.send scope; 413 above `max_body_bytes` (30 MB like SendGrid, configurable); 429 with
`X-RateLimit-Limit/Remaining/Reset` (epoch seconds) when rate limited or told to. Every accepted
personalization is recorded (thread-safe): `snapshot()` lists them as `ReceivedEmail`s and
`custom_arg_counts(key)` counts them per custom arg value, for exactly-once checks. `answer_delay` makes
it slow: a request is taken at once and answered that many seconds later.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson

from tests.fakes.http_base import FakeServer, Fault, QuietHandler, reset_header
from tests.fakes.sendgrid_validation import error, validate_mail_send

THIRTY_MB = 30 * 1024 * 1024
_NO_ARGS: Mapping[str, str] = {}


@dataclass(frozen=True, slots=True)
class RequestContent:
    """What all personalizations of one accepted request share."""

    x_message_id: str
    sender: str
    subject: str | None
    content: tuple[tuple[str, str], ...]
    template_id: str | None


@dataclass(frozen=True, slots=True)
class ReceivedEmail:
    """One accepted personalization (one email as SendGrid would send it)."""

    to: tuple[str, ...]
    names: tuple[str | None, ...]
    custom_args: Mapping[str, str]
    request: RequestContent
    subject_override: str | None = None
    substitutions: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    dynamic_template_data: Mapping[str, Any] | None = None

    @property
    def x_message_id(self) -> str:
        return self.request.x_message_id

    def _substitute(self, value: str) -> str:
        for tag, replacement in self.substitutions.items():
            value = value.replace(tag, replacement)
        return value

    @property
    def subject(self) -> str:
        return self._substitute(self.subject_override or self.request.subject or "")

    def body(self, content_type: str = "text/plain") -> str | None:
        """The body of this content type with this personalization's substitutions applied."""
        for kind, value in self.request.content:
            if kind == content_type:
                return self._substitute(value)
        return None


class SendGridHandler(QuietHandler):
    fake: ClassVar[FakeSendGrid]

    def do_POST(self) -> None:
        fake = self.fake
        body = self.read_body()
        fault = fake.faults.take(self.path)
        if fault is not None and not fake.apply_fault(self, fault):
            return
        if self.path.split("?")[0].rstrip("/") != "/v3/mail/send":
            self.respond(404, _errors([error("resource not found", None)]))
            return
        status, payload, headers = fake.handle_mail_send(self.headers.get("Authorization"), body)
        if status == 202 and fake.answer_delay:
            threading.Event().wait(fake.answer_delay)  # taken (recorded) now, answered later: a slow provider
        self.respond(status, payload, headers)

    def do_GET(self) -> None:
        self.read_body()
        self.respond(405, _errors([error("method not allowed", None)]))


def _errors(items: list[dict[str, Any]]) -> bytes:
    return json.dumps({"errors": items}).encode()


class FakeSendGrid(FakeServer):
    handler_class = SendGridHandler

    def __init__(
        self,
        *,
        api_keys: tuple[str, ...] = ("SG.fake-key",),
        forbidden_keys: tuple[str, ...] = ("SG.no-mail-send-scope",),
        max_body_bytes: int = THIRTY_MB,
        max_personalizations: int = 1000,
        keep_content: bool = True,
    ) -> None:
        """`keep_content=False` records only each personalization's recipients and custom_args (about a
        fifth of the memory: for pushing a million recipients through); bodies then read as None."""
        super().__init__()
        self.keep_content = keep_content
        self.api_keys = set(api_keys)
        self.forbidden_keys = set(forbidden_keys)
        self.max_body_bytes = max_body_bytes
        self.max_personalizations = max_personalizations
        self._lock = threading.Lock()
        # (request, request-level custom_args, personalizations as parsed, or (emails, custom_args) tuples)
        self._accepted: list[tuple[RequestContent, Mapping[str, str], list[Any]]] = []
        self._received_count = 0
        self.statuses: Counter[int] = Counter()
        self.accepted_requests = 0
        # seconds between taking a request (it counts as received) and answering 202: a slow provider, and the
        # window in which a client killed mid-request leaves a request taken but never answered
        self.answer_delay = 0.0

    # -- inspection ---------------------------------------------------------------------------------------

    def snapshot(self) -> list[ReceivedEmail]:
        """Every accepted personalization so far, in arrival order."""
        with self._lock:
            accepted = list(self._accepted)
        return [_received(request, args, item) for request, args, items in accepted for item in items]

    @property
    def received_count(self) -> int:
        return self._received_count

    def custom_arg_counts(self, key: str) -> Counter[str]:
        """How many accepted emails carried each value of custom arg `key` (1 each = exactly once)."""
        with self._lock:
            accepted = list(self._accepted)
        counts: Counter[str] = Counter()
        for _, shared_args, items in accepted:
            default = shared_args.get(key, "")
            for item in items:
                args = item[1] if isinstance(item, tuple) else item.get("custom_args")
                counts[(args or _NO_ARGS).get(key, default)] += 1
        return counts

    def reset(self) -> None:
        """Forget everything received and every planned fault."""
        with self._lock:
            self._accepted.clear()
            self._received_count = 0
            self.statuses.clear()
            self.accepted_requests = 0
        self.faults.clear()

    # -- request handling ---------------------------------------------------------------------------------

    def _count(self, status: int) -> None:
        with self._lock:
            self.statuses[status] += 1

    def apply_fault(self, handler: SendGridHandler, fault: Fault) -> bool:
        """Play the fault; True when the request should then be processed normally."""
        if fault.delay:
            threading.Event().wait(fault.delay)
            if fault.accept_after_delay:
                return True
            if fault.status is None:
                handler.respond(503, _errors([error("service unavailable", None)]))
                self._count(503)
                return False
        status = fault.status or 500
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(int(fault.retry_after))
        if status == 429:
            headers |= {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0"}
            headers["X-RateLimit-Reset"] = reset_header(fault.reset_in or 0.0)
            message = "too many requests"
        else:
            message = {500: "internal server error", 503: "service unavailable"}.get(status, "error")
        handler.respond(status, _errors([error(message, None)]), headers)
        self._count(status)
        return False

    def handle_mail_send(self, authorization: str | None, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        if len(body) > self.max_body_bytes:
            self._count(413)
            return 413, _errors([error("Payload Too Large", None)]), {}
        key = authorization[7:] if authorization and authorization.startswith("Bearer ") else None
        if key is None:
            self._count(401)
            return 401, _errors([error("authorization required", None)]), {}
        if key in self.forbidden_keys:
            self._count(403)
            return 403, _errors([error("access forbidden", None)]), {}
        if key not in self.api_keys:
            self._count(401)
            message = "The provided authorization grant is invalid, expired, or revoked"
            return 401, _errors([error(message, None)]), {}
        limit_headers: dict[str, str] = {}
        if self.rate_limiter is not None:
            allowed, remaining, reset = self.rate_limiter.hit()
            limit_headers = {
                "X-RateLimit-Limit": str(self.rate_limiter.limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(math.ceil(reset)),
            }
            if not allowed:
                self._count(429)
                return 429, _errors([error("too many requests", None)]), limit_headers
        try:
            # orjson: the same values as json.loads, about 3x faster, and strict like SendGrid's own parser
            # (json.loads would also take NaN and Infinity, which are not JSON)
            payload = orjson.loads(body)
        except ValueError:
            self._count(400)
            return 400, _errors([error("Bad Request", None)]), {}
        problems = validate_mail_send(payload, self.max_personalizations)
        if problems:
            self._count(400)
            return 400, _errors(problems), {}
        x_message_id = secrets.token_urlsafe(16)
        self._record(payload, x_message_id)
        return 202, b"", {"X-Message-Id": x_message_id, **limit_headers}

    def _record(self, payload: dict[str, Any], x_message_id: str) -> None:
        # Only the parsed request is kept here (O(1) per request); ReceivedEmail objects are built on demand.
        request = RequestContent(
            x_message_id=x_message_id,
            sender=payload["from"]["email"],
            subject=payload.get("subject"),
            content=tuple((c["type"], c["value"]) for c in payload.get("content") or ()),
            template_id=payload.get("template_id"),
        )
        items = payload["personalizations"]
        if not self.keep_content:
            request = RequestContent(x_message_id, request.sender, None, (), None)
            items = [(tuple([r["email"] for r in item["to"]]), item.get("custom_args")) for item in items]
        entry = (request, payload.get("custom_args") or _NO_ARGS, items)
        with self._lock:
            self._accepted.append(entry)
            self._received_count += len(entry[2])
            self.statuses[202] += 1
            self.accepted_requests += 1


def _received(request: RequestContent, shared_args: Mapping[str, str], item: Any) -> ReceivedEmail:
    if isinstance(item, tuple):  # recorded with keep_content=False
        to_emails, args = item
        merged = {**shared_args, **args} if args else shared_args
        return ReceivedEmail(to=to_emails, names=(None,) * len(to_emails), custom_args=merged, request=request)
    to = item["to"]
    args = item.get("custom_args")
    return ReceivedEmail(
        to=tuple(r["email"] for r in to),
        names=tuple(r.get("name") for r in to),
        custom_args={**shared_args, **args} if args else shared_args,
        request=request,
        subject_override=item.get("subject"),
        substitutions=item.get("substitutions") or _NO_ARGS,
        headers=item.get("headers") or _NO_ARGS,
        dynamic_template_data=item.get("dynamic_template_data"),
    )
