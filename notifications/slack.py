"""Slack adapter around the official `slack_sdk.WebClient` (incident channel, invites, posts, pins, DMs).

Retries: slack_sdk's `ConnectionErrorRetryHandler` (network errors) and a `RateLimitErrorRetryHandler` that
honours Slack's `Retry-After` (subclassed only to make the sleep injectable and capped for tests). Slack's
`ok: false` answers (HTTP 200) become `SlackCallError` with Slack's error code.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    HttpRequest,
    HttpResponse,
    RateLimitErrorRetryHandler,
    RetryState,
)
from tocsin.notifications.message import ChatMessage, SendResult
from tocsin.notifications.slack_blocks import MAX_BLOCKS, fit_message_text

from tocsin.core.errors import TocsinError

MAX_CHANNEL_NAME = 80
_NOT_NAME_CHARS = re.compile(r"[^a-z0-9_-]+")
_INVITE_USER_ERRORS = frozenset({"already_in_channel", "user_not_found", "cant_invite_self", "user_is_restricted"})


# Slack's answers that say "try again later" (HTTP 429 / 5xx); any other `ok: false` is about the message itself.
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def is_transient(code: str) -> bool:
    """A rate limit, a Slack-side failure, or a bare HTTP 5xx (the status code when the body was not JSON)."""
    return code in _TRANSIENT_ERRORS or (code.isdigit() and (int(code) >= 500 or int(code) == 429))


class SlackCallError(TocsinError):
    """Slack answered `ok: false` (or an HTTP error). `code` is Slack's error, e.g. `channel_not_found`."""

    def __init__(self, method: str, code: str, detail: Any = None) -> None:
        self.method = method
        self.code = code
        self.detail = detail
        super().__init__(f"Slack {method} failed: {code}", where=f"slack:{method}")


def incident_channel_name(incident_id: str, title: str) -> str:
    """`inc-<id>-<slug>` within Slack's rules: lowercase a-z 0-9 - _, no spaces or periods, <= 80 chars."""

    def clean(value: str) -> str:
        ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
        return re.sub(r"-{2,}", "-", _NOT_NAME_CHARS.sub("-", ascii_text.lower())).strip("-_")

    prefix = f"inc-{clean(incident_id) or 'x'}"[:MAX_CHANNEL_NAME]
    slug = clean(title)
    if not slug:
        return prefix
    return f"{prefix}-{slug}"[:MAX_CHANNEL_NAME].rstrip("-_")


@dataclass(frozen=True, slots=True)
class SlackChannelRef:
    id: str
    name: str
    created: bool


@dataclass(frozen=True, slots=True)
class PostedMessage:
    channel: str
    ts: str


@dataclass(slots=True)
class InviteOutcome:
    invited: list[str] = field(default_factory=list)
    already_in_channel: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class RateLimitRetry(RateLimitErrorRetryHandler):
    """slack_sdk's rate-limit handler: waits `Retry-After` (+ up to `jitter` s) then retries, at most
    `max_retry_count` times; `sleep` is injectable and each wait is capped by `max_wait`."""

    def __init__(
        self,
        max_retry_count: int = 3,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 120.0,
        jitter: float = 1.0,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep
        self._max_wait = max_wait
        self._jitter = jitter
        self.waits: list[float] = []

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        state.next_attempt_requested = True
        retry_after = 1.0
        for name, values in response.headers.items():
            if name.lower() == "retry-after" and values:
                with contextlib.suppress(ValueError):
                    retry_after = float(values[0])
        wait = min(retry_after + random.random() * self._jitter, self._max_wait)
        self.waits.append(wait)
        self._sleep(wait)
        state.increment_current_attempt()


class SlackChannel:
    """Tocsin's Slack operations. `base_url` points the SDK at a fake in tests ("http://127.0.0.1:PORT/api/")."""

    name = "slack"

    def __init__(
        self,
        token: str,
        *,
        base_url: str = WebClient.BASE_URL,
        timeout: int = 15,
        rate_limit_retries: int = 3,
        connection_retries: int = 2,
        sleep: Callable[[float], None] = time.sleep,
        retry_jitter: float = 1.0,
    ) -> None:
        self.list_page_size = 1000  # conversations.list page size (Slack's maximum)
        self.rate_limit_handler = RateLimitRetry(rate_limit_retries, sleep=sleep, jitter=retry_jitter)
        connection_handler = ConnectionErrorRetryHandler(
            max_retry_count=connection_retries,
            interval_calculator=BackoffRetryIntervalCalculator(backoff_factor=0.2),
        )
        self.client = WebClient(
            token=token,
            base_url=base_url,
            timeout=timeout,
            retry_handlers=[connection_handler, self.rate_limit_handler],
        )

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        sdk_method = getattr(self.client, method.replace(".", "_"))
        try:
            response = sdk_method(**kwargs)
        except SlackApiError as error:
            data = error.response.data if isinstance(error.response.data, dict) else {}
            raise SlackCallError(method, str(data.get("error", error.response.status_code)), data) from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    # -- channels -----------------------------------------------------------------------------------------

    def open_incident_channel(self, incident_id: str, title: str, *, private: bool = False) -> SlackChannelRef:
        """Create `inc-<id>-<slug>`; if the name is taken, reuse (and join) the existing channel."""
        name = incident_channel_name(incident_id, title)
        try:
            created = self._call("conversations.create", name=name, is_private=private)
            return SlackChannelRef(id=created["channel"]["id"], name=created["channel"]["name"], created=True)
        except SlackCallError as error:
            if error.code != "name_taken":
                raise
        existing = self.find_channel(name)
        if existing is None:
            raise SlackCallError("conversations.create", "name_taken", {"name": name, "found": False})
        if existing.get("is_archived"):
            raise SlackCallError("conversations.create", "name_taken_by_archived_channel", {"name": name})
        if not existing.get("is_member"):
            self._call("conversations.join", channel=existing["id"])
        return SlackChannelRef(id=existing["id"], name=existing["name"], created=False)

    def find_channel(self, name: str) -> dict[str, Any] | None:
        """The channel called `name` (public or private, archived too), paging through conversations.list."""
        cursor: str | None = None
        while True:
            page = self._call(
                "conversations.list",
                types="public_channel,private_channel",
                exclude_archived=False,
                limit=self.list_page_size,
                cursor=cursor,
            )
            for channel in page.get("channels", []):
                if channel.get("name") == name:
                    return channel
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None

    def invite(self, channel: str, user_ids: Iterable[str]) -> InviteOutcome:
        """Invite users; those already in the channel are fine. Users Slack refuses are reported, not raised.

        Slack refuses the whole call when one user cannot be added and lists the culprits in `errors`: those
        are classified, and the rest are invited again in one call (one by one if Slack gave no detail).
        """
        outcome = InviteOutcome()
        pending = list(dict.fromkeys(user_ids))
        if not pending:
            return outcome
        try:
            self._call("conversations.invite", channel=channel, users=",".join(pending))
            outcome.invited.extend(pending)
            return outcome
        except SlackCallError as error:
            if error.code not in _INVITE_USER_ERRORS:
                raise
            detail = error.detail if isinstance(error.detail, dict) else {}
            per_user = {
                str(item["user"]): str(item.get("error"))
                for item in detail.get("errors", [])
                if isinstance(item, dict) and item.get("user") in pending
            }
        for user, code in per_user.items():
            self._classify_invite_error(outcome, user, code)
        rest = [user for user in pending if user not in per_user]
        if per_user and rest:
            try:
                self._call("conversations.invite", channel=channel, users=",".join(rest))
                outcome.invited.extend(rest)
                return outcome
            except SlackCallError as error:
                if error.code not in _INVITE_USER_ERRORS:
                    raise
        for user in rest:
            try:
                self._call("conversations.invite", channel=channel, users=user)
                outcome.invited.append(user)
            except SlackCallError as error:
                if error.code not in _INVITE_USER_ERRORS:
                    raise
                self._classify_invite_error(outcome, user, error.code)
        return outcome

    @staticmethod
    def _classify_invite_error(outcome: InviteOutcome, user: str, code: str) -> None:
        if code == "already_in_channel":
            outcome.already_in_channel.append(user)
        else:
            outcome.failed[user] = code

    # -- messages -----------------------------------------------------------------------------------------

    @staticmethod
    def _check_blocks(blocks: Sequence[Any]) -> list[Any] | None:
        if len(blocks) > MAX_BLOCKS:
            raise SlackCallError("chat.postMessage", "too_many_blocks", {"blocks": len(blocks)})
        return [dict(block) for block in blocks] or None

    def post(self, channel: str, text: str, blocks: Sequence[Any] = ()) -> PostedMessage:
        data = self._call(
            "chat.postMessage",
            channel=channel,
            text=fit_message_text(text),
            blocks=self._check_blocks(blocks),
        )
        return PostedMessage(channel=data["channel"], ts=data["ts"])

    def update(self, channel: str, ts: str, text: str, blocks: Sequence[Any] = ()) -> PostedMessage:
        data = self._call(
            "chat.update",
            channel=channel,
            ts=ts,
            text=fit_message_text(text),
            blocks=self._check_blocks(blocks),
        )
        return PostedMessage(channel=data["channel"], ts=data["ts"])

    def pin(self, channel: str, ts: str) -> None:
        try:
            self._call("pins.add", channel=channel, timestamp=ts)
        except SlackCallError as error:
            if error.code != "already_pinned":
                raise

    def dm(self, user_id: str, text: str, blocks: Sequence[Any] = ()) -> PostedMessage:
        opened = self._call("conversations.open", users=user_id)
        return self.post(opened["channel"]["id"], text, blocks)

    def lookup_user_id(self, email: str) -> str | None:
        try:
            return str(self._call("users.lookupByEmail", email=email)["user"]["id"])
        except SlackCallError as error:
            if error.code == "users_not_found":
                return None
            raise

    # -- Channel protocol ---------------------------------------------------------------------------------

    def send(self, messages: Sequence[ChatMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        for message in messages:
            try:
                if message.channel is not None:
                    posted = self.post(message.channel, message.text, message.blocks)
                else:
                    posted = self.dm(str(message.user), message.text, message.blocks)
            except SlackCallError as error:
                results.append(SendResult.failed(message.message_id, error.code, retryable=is_transient(error.code)))
            except OSError as error:  # network failure after the SDK's own retries
                results.append(SendResult.failed(message.message_id, f"network: {error}", retryable=True))
            else:
                results.append(SendResult.ok(message.message_id, f"{posted.channel}:{posted.ts}"))
        return results
