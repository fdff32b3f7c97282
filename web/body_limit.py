"""Request body limits, enforced before anything reads the body (and so before authentication).

A pure ASGI middleware: a declared `Content-Length` over the limit is answered 413 without calling the app;
a body streamed without one (chunked) is counted chunk by chunk and reading stops at the first chunk over
the limit (413, unless the app already started answering). Limits are per path (settings `web_max_*`):
Slack and the SendGrid webhook are small, file uploads (the console's launch form and `POST /api/uploads`:
recipient and mention files, spooled to disk by the multipart parser) and mention batches are large,
everything else the default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.core.config import Settings

# Multipart uploads of recipient / mention files (web/console/uploads.py), spooled to disk by the parser:
# the console's launch form and the API's `POST /api/uploads`.
UPLOAD_PATHS = re.compile(r"^(/incidents/[^/]+/launch|/api/uploads)/?$")
MENTION_PATHS = re.compile(r"^/api/mentions/?$")
SLACK_PATHS = re.compile(r"^/slack/")
WEBHOOK_PATHS = re.compile(r"^/webhooks/")


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit; an HTTP error, so FastAPI's body parsing
    passes it on instead of turning it into a 400."""

    def __init__(self, limit: int, path: str) -> None:
        super().__init__(413, too_large(limit, path))


def too_large(limit: int, path: str) -> str:
    return f"request body to {path[:100]} is larger than the limit of {limit} bytes"


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """The largest body accepted per path: the first matching rule, else `default`."""

    default: int
    rules: tuple[tuple[re.Pattern[str], int], ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> BodyLimits:
        return cls(
            default=settings.web_max_body_bytes,
            rules=(
                (SLACK_PATHS, settings.web_max_slack_body_bytes),
                (WEBHOOK_PATHS, settings.web_max_webhook_body_bytes),
                (UPLOAD_PATHS, settings.web_max_upload_bytes),
                (MENTION_PATHS, settings.web_max_mentions_body_bytes),
            ),
        )

    def for_path(self, path: str) -> int:
        for pattern, limit in self.rules:
            if pattern.match(path):
                return limit
        return self.default


def _declared_length(scope: Scope) -> int | str | None:
    """The Content-Length header as a number, None without one, or the header text when it is not a number."""
    values = [value for name, value in scope.get("headers", ()) if name.lower() == b"content-length"]
    if not values:
        return None
    text = values[0].decode("latin-1").strip()
    if len(set(values)) > 1 or not text.isascii() or not text.isdigit() or len(text) > 18:
        return text
    return int(text)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = self.limits.for_path(path)
        declared = _declared_length(scope)
        if isinstance(declared, str):
            await _refuse(scope, receive, send, 400, f"Content-Length {declared[:40]!r} is not a number")
            return
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, 413, too_large(limit, path))
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # stop here: the rest of the body is never read
                    raise BodyTooLarge(limit, path)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge as error:  # read outside FastAPI's error handling (e.g. by a middleware)
            if started:
                raise
            await _refuse(scope, receive, send, 413, str(error.detail))


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    # Connection: close, so the server does not wait for (or read) the body the client still sends.
    response = JSONResponse({"error": message}, status_code=status, headers={"Connection": "close"})
    await response(scope, receive, send)
